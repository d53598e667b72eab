"""The general coach chat: the work behind ``POST /functions/v1/coach-chat``.

Same shape as a consultation turn: read the context as the user, ask the
engine outside any transaction, then write both messages in one transaction
(creating the conversation on the first message). Limits as for the
consultation: 2,000 characters a message, 10 messages a minute, 200 a
conversation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sharpened.consultation.engine import CoachContext, CoachEngine, EngineError
from sharpened.consultation.models import ChatMessage
from sharpened.db import Connection, Database
from sharpened.errors import ApiError
from sharpened.limits import check_message_length, enforce_message_limits, lock_user

HISTORY_MESSAGES = 20
PATH = "/functions/v1/coach-chat"


class CoachReply(BaseModel):
    conversation_id: uuid.UUID
    reply: str


def _context(conn: Connection) -> CoachContext:
    profile = conn.execute(
        "select display_name, primary_goal, daily_calorie_goal, protein_g, carbs_g, fat_g, "
        "onboarding_completed, consultation_completed from public.profiles"
    ).fetchone()
    if profile is None:
        raise ApiError(404, "profile_not_found", "the caller has no profile")
    notes: list[str] = []
    if not profile["onboarding_completed"]:
        notes.append("onboarding is not completed yet")
    if profile["daily_calorie_goal"] is None:
        notes.append("no calorie or macro targets yet (no program generated)")
    return CoachContext(
        display_name=profile["display_name"],
        primary_goal=profile["primary_goal"],
        daily_calorie_goal=profile["daily_calorie_goal"],
        protein_g=profile["protein_g"],
        carbs_g=profile["carbs_g"],
        fat_g=profile["fat_g"],
        notes=tuple(notes),
    )


def _open_conversation(conn: Connection, conversation_id: uuid.UUID) -> None:
    row = conn.execute(
        "select archived_at from public.coach_conversations where id = %s", (conversation_id,)
    ).fetchone()
    if row is None:
        raise ApiError(404, "conversation_not_found", "no coach conversation with this id")
    if row["archived_at"] is not None:
        raise ApiError(409, "conversation_archived", "this conversation is archived")


def _history(conn: Connection, conversation_id: uuid.UUID) -> list[ChatMessage]:
    rows = conn.execute(
        "select role, content from public.coach_messages where conversation_id = %s "
        "order by created_at desc, id desc limit %s",
        (conversation_id, HISTORY_MESSAGES),
    ).fetchall()
    return [ChatMessage(role=row["role"], content=row["content"]) for row in reversed(rows)]


class CoachService:
    """Coach turns for signed-in users (every query under their RLS)."""

    def __init__(self, db: Database, engine: CoachEngine) -> None:
        self.db = db
        self.engine = engine

    def _limits(self, conn: Connection, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        enforce_message_limits(
            conn,
            table="coach_messages",
            thread_column="conversation_id",
            thread_id=conversation_id,
            user_id=user_id,
        )

    def chat(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, str],
        conversation_id: uuid.UUID | None,
        message: str,
    ) -> CoachReply:
        text = check_message_length(message)
        user_id = uuid.UUID(str(claims["sub"]))
        # A new conversation gets its id now, so the limits can be checked the same way.
        thread = conversation_id or uuid.uuid4()

        with self.db.as_user(claims, headers, "POST", PATH) as conn:
            context = _context(conn)
            history: list[ChatMessage] = []
            if conversation_id is not None:
                _open_conversation(conn, conversation_id)
                history = _history(conn, conversation_id)
            self._limits(conn, user_id, thread)

        try:
            reply = self.engine.reply(context, history, text)
        except EngineError as error:
            raise error.api_error() from error

        with self.db.as_user(claims, headers, "POST", PATH) as conn:
            lock_user(conn, user_id)
            if conversation_id is None:
                conn.execute(
                    "insert into public.coach_conversations (id, user_id, title) "
                    "values (%s, %s, %s)",
                    (thread, user_id, text[:60]),
                )
            else:
                _open_conversation(conn, conversation_id)
            self._limits(conn, user_id, thread)
            conn.execute(
                "insert into public.coach_messages (conversation_id, user_id, role, content) "
                "values (%s, %s, 'user', %s), (%s, %s, 'assistant', %s)",
                (thread, user_id, text, thread, user_id, reply),
            )
        return CoachReply(conversation_id=thread, reply=reply)
