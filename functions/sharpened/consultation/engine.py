"""The engine interface (OpenAI or offline) and the reference lookup engines use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sharpened.consultation.models import ChatMessage, ConsultationState, Turn
from sharpened.errors import ApiError


@dataclass(frozen=True)
class ReferenceMatch:
    """A reference row recognised in text: its id and its catalogue name."""

    id: str
    name: str


class ReferenceLookup(Protocol):
    """Recognise reference rows by name (backed by the database's trigram search)."""

    def exercises(self, text: str, limit: int = 5) -> list[ReferenceMatch]: ...
    def foods(self, text: str, limit: int = 5) -> list[ReferenceMatch]: ...
    def modalities(self) -> list[ReferenceMatch]: ...
    def meal_times(self) -> list[ReferenceMatch]: ...
    def event_types(self) -> list[ReferenceMatch]: ...


class EngineError(Exception):
    """No turn could be produced: the caller answers with a clear error and writes nothing."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def api_error(self) -> ApiError:
        """The HTTP answer: 504 on a timeout, 502 on unusable output, 503 otherwise."""
        status = {"llm_timeout": 504, "llm_invalid_output": 502}.get(self.code, 503)
        return ApiError(status, self.code, self.message, {"retryable": self.retryable})


class ConsultationEngine(Protocol):
    """Produces the next consultation turn from the state and the user's message."""

    name: str  # 'openai' or 'offline' (consultation_sessions.engine)
    model: str | None

    def opening(self, state: ConsultationState) -> Turn:
        """The first assistant message of a session (no user message yet)."""
        ...

    def next_turn(self, state: ConsultationState, user_message: str) -> Turn:
        """Reply to ``user_message`` and extract the facts it states."""
        ...


@dataclass(frozen=True)
class CoachContext:
    """What the coach knows about the user (profile targets, plan and adherence when they exist)."""

    display_name: str | None
    primary_goal: str | None
    daily_calorie_goal: int | None
    protein_g: int | None
    carbs_g: int | None
    fat_g: int | None
    notes: tuple[str, ...] = ()


class CoachEngine(Protocol):
    """The general coach chat."""

    name: str
    model: str | None

    def reply(self, context: CoachContext, history: list[ChatMessage], message: str) -> str: ...
