"""functions-framework entry points: thin (parse, auth, call, respond).

Each entry point is served locally at ``/functions/v1/<name>`` by the gateway
(``sharpened functions serve``) and deploys as its own function with
``--entry-point <python name>``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpened import __version__
from sharpened.coach import CoachReply
from sharpened.consultation.service import TurnResult
from sharpened.engines import coach_service, consultation_service
from sharpened.errors import ApiError
from sharpened.http import (
    JsonDate,
    JsonInt,
    JsonText,
    JsonUuid,
    RequestBody,
    RequestContext,
    endpoint,
)
from sharpened.programs.bundle import Goal, Macros, SessionKind, TimeOfDay
from sharpened.programs.energy import FeasibilityIssue
from sharpened.programs.service import program_service
from sharpened.reassessment.worker import DEFAULT_BATCH_SIZE, work_queue, worker_name
from sharpened.settings import get_settings

#: The reassess function stops taking new batches after this many seconds (pg_cron calls it
#: every 10 minutes; a batch in progress is finished).
REASSESS_TIME_BUDGET_SECONDS = 50.0

# ------------------------------------------------------------------- request bodies ---
# Strict (RequestBody): each accepts exactly what its OpenAPI request schema allows.


class ConsultationChatRequest(RequestBody):
    session_id: JsonUuid
    message: JsonText


class ConsultationCompleteRequest(RequestBody):
    session_id: JsonUuid
    start_date: JsonDate | None = None


class GenerateProgramRequest(RequestBody):
    start_date: JsonDate | None = None
    duration_weeks: JsonInt = Field(default=12, ge=1, le=52)


class ReassessRequest(RequestBody):
    batch_size: JsonInt = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=1000)


class CoachChatRequest(RequestBody):
    conversation_id: JsonUuid | None = None
    message: JsonText


# ------------------------------------------------------------------ answers (200 bodies) ---
# The JSON each function answers, as it is on the wire (the handlers build it; these models
# document it for the OpenAPI spec, and the end-to-end tests check the answers against them).

#: A PostgreSQL numeric as the functions serialise it: a decimal string ("80.00").
DecimalText = Annotated[
    str, Field(pattern=r"^-?\d+(\.\d+)?$", description="a decimal number, as a string")
]
#: A timestamptz in PostgreSQL's text form ("2026-11-27 02:46:05.123456+00:00").
Timestamp = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}(:\d{2})?$",
        description="a timestamp with time zone: 'YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM'",
    ),
]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseStatus(Answer):
    reachable: Literal[True]
    server_time: Timestamp
    version: str = Field(description="the PostgreSQL server version")


class HealthResponse(Answer):
    status: Literal["ok"]
    version: str = Field(description="the backend's version")
    database: DatabaseStatus


class Profile(Answer):
    """A row of ``public.profiles`` (docs/api.md, Users)."""

    id: uuid.UUID
    display_name: str | None
    date_of_birth: dt.date | None
    sex: Literal["male", "female"] | None
    height_cm: DecimalText | None
    weight_kg: DecimalText | None
    body_fat_pct: DecimalText | None
    primary_goal: Goal | None
    goal_rate_pct_per_week: DecimalText | None
    experience_level: Literal["beginner", "intermediate", "advanced"] | None
    workout_frequency: int | None = Field(ge=0, le=7)
    activity_level: Literal["sedentary", "light", "moderate", "very", "extra"] | None
    dietary_preference: (
        Literal[
            "omnivore", "vegetarian", "vegan", "pescatarian", "keto", "paleo", "halal", "kosher"
        ]
        | None
    )
    allergies: list[str] = Field(max_length=30)
    meals_per_day: int | None = Field(ge=1, le=8)
    timezone: str
    units: Literal["metric", "imperial"]
    is_pregnant_or_breastfeeding: bool
    has_cardiac_condition: bool
    has_type1_diabetes: bool
    has_eating_disorder_history: bool
    estimated_tdee: int | None = Field(ge=800, le=10000)
    daily_calorie_goal: int | None = Field(ge=800, le=10000)
    protein_g: int | None = Field(ge=0, le=1000)
    carbs_g: int | None = Field(ge=0, le=2000)
    fat_g: int | None = Field(ge=0, le=1000)
    onboarding_completed: bool
    consultation_completed: bool
    created_at: Timestamp
    updated_at: Timestamp


class MeResponse(Answer):
    profile: Profile


class DailyTargets(Answer):
    kcal: int
    protein_g: int
    carbs_g: int
    fat_g: int
    fiber_g: int


class Feasibility(Answer):
    score: float = Field(ge=0, le=1)
    issues: list[FeasibilityIssue]


class ScheduledSession(Answer):
    """A training session of the program's first week (``program_summary.weekly_schedule``)."""

    day_index: int = Field(ge=0, le=6)
    weekday: str
    session_kind: SessionKind
    title: str
    planned_duration_minutes: int = Field(ge=0, le=300)
    time_of_day: TimeOfDay | None


class PlannedEvent(Answer):
    """A calendar event of the first week (``calendar_day``): a session or a meal."""

    date: dt.date
    event_type: Literal["training", "meal"]
    title: str
    time_of_day: TimeOfDay | None
    planned_duration_minutes: int | None
    targets: Macros | None


class ProgramSummary(Answer):
    """What ``generate-program`` and ``consultation-complete`` answer."""

    program_id: uuid.UUID
    version: int = Field(ge=1)
    source: Literal["consultation", "onboarding"]
    primary_goal: Goal
    program_start_date: dt.date
    program_end_date: dt.date
    next_reassessment_date: dt.date | None
    targets: DailyTargets
    tdee_kcal: int
    feasibility: Feasibility
    weekly_schedule: list[ScheduledSession]
    first_week: list[PlannedEvent]


class ReassessResponse(Answer):
    """Jobs claimed from the queue and how each ended (docs/api.md, reassess)."""

    claimed: int = Field(ge=0)
    done: int = Field(ge=0)
    already_done: int = Field(ge=0)
    failed: int = Field(ge=0)
    dead: int = Field(ge=0)
    lost: int = Field(ge=0)
    changes: int = Field(ge=0)
    seconds: float = Field(ge=0)


# ------------------------------------------------------------------------------ functions ---
# Each @endpoint names its request and answer models and its own errors (status → codes);
# sharpened.openapi adds the errors every function shares and builds docs/openapi.yaml.

CHAT_ERRORS = {
    404: ("session_not_found",),
    409: ("session_closed",),
    413: ("message_too_long",),
    422: ("empty_message",),
    429: ("rate_limited", "thread_message_limit"),
    502: ("llm_invalid_output",),
    503: ("llm_unavailable", "llm_rate_limited"),
    504: ("llm_timeout",),
}
PROGRAM_ERRORS = {
    404: ("profile_not_found",),
    409: ("program_superseded",),
    422: ("profile_incomplete", "safety_blocked", "profile_out_of_range"),
}


@endpoint(
    "health",
    methods=("GET",),
    auth="public",
    response=HealthResponse,
    errors={503: ("database_unavailable",)},
)
def health(ctx: RequestContext) -> dict[str, Any]:
    """Liveness and database reachability (no token needed)."""
    try:
        database = ctx.db.ping()
    except Exception as exc:
        raise ApiError(
            503,
            "database_unavailable",
            "the database is not reachable",
            {"reason": type(exc).__name__},
        ) from exc
    return {
        "status": "ok",
        "version": __version__,
        "database": {"reachable": True, **database},
    }


@endpoint("me", methods=("GET",), auth="user", response=MeResponse, errors={404: ("not_found",)})
def me(ctx: RequestContext) -> dict[str, Any]:
    """The caller's own profile, read under RLS exactly as the Data API would."""
    with ctx.db.as_user(ctx.caller.claims, ctx.headers(), "GET", "/functions/v1/me") as conn:
        profile = conn.execute("select * from public.profiles").fetchone()
    if profile is None:
        raise ApiError(404, "not_found", "the caller has no profile")
    return {"profile": profile}


@endpoint(
    "consultation-chat",
    auth="user",
    request=ConsultationChatRequest,
    response=TurnResult,
    errors=CHAT_ERRORS,
)
def consultation_chat(ctx: RequestContext) -> dict[str, Any]:
    """One consultation turn: store the message, extract facts, advance the section, reply."""
    body = ctx.json(ConsultationChatRequest)
    result = consultation_service().chat(
        ctx.caller.claims, ctx.headers(), body.session_id, body.message
    )
    return result.model_dump(mode="json")


@endpoint(
    "coach-chat",
    auth="user",
    request=CoachChatRequest,
    response=CoachReply,
    errors={
        **{status: codes for status, codes in CHAT_ERRORS.items() if status not in (404, 409)},
        404: ("conversation_not_found", "profile_not_found"),
        409: ("conversation_archived",),
    },
)
def coach_chat(ctx: RequestContext) -> dict[str, Any]:
    """The general coach: one message in, one reply out (a new conversation when none is given)."""
    body = ctx.json(CoachChatRequest)
    reply = coach_service().chat(
        ctx.caller.claims, ctx.headers(), body.conversation_id, body.message
    )
    return reply.model_dump(mode="json")


@endpoint(
    "consultation-complete",
    auth="user",
    request=ConsultationCompleteRequest,
    response=ProgramSummary,
    errors={
        404: ("session_not_found", "profile_not_found"),
        409: ("session_closed", "program_superseded"),
        422: ("consultation_incomplete", *PROGRAM_ERRORS[422]),
    },
)
def consultation_complete(ctx: RequestContext) -> dict[str, Any]:
    """Finish a complete consultation: generate and store its program (once), return the summary."""
    body = ctx.json(ConsultationCompleteRequest)
    return program_service().complete_consultation(
        ctx.caller.claims, ctx.headers(), body.session_id, start_date=body.start_date
    )


@endpoint(
    "generate-program",
    auth="user",
    request=GenerateProgramRequest,
    response=ProgramSummary,
    errors=PROGRAM_ERRORS,
)
def generate_program(ctx: RequestContext) -> dict[str, Any]:
    """A program from the onboarding data alone (and any consultation facts already known)."""
    body = ctx.json(GenerateProgramRequest)
    return program_service().generate(
        ctx.caller.claims,
        ctx.headers(),
        path="/functions/v1/generate-program",
        source="onboarding",
        start_date=body.start_date,
        duration_weeks=body.duration_weeks,
    )


@endpoint(
    "reassess",
    auth="service",
    request=ReassessRequest,
    request_required=False,
    response=ReassessResponse,
)
def reassess(ctx: RequestContext) -> dict[str, Any]:
    """Work the reassessment queue: batches until nothing is claimable or ~50 s are used."""
    body = ctx.json(ReassessRequest, allow_empty=True)
    # Connections of its own (not the pool's), as the functions' database role, which reaches
    # the queue.
    totals = work_queue(
        get_settings().db_url,
        worker_name("reassess-fn"),
        body.batch_size,
        time_budget=REASSESS_TIME_BUDGET_SECONDS,
    )
    return totals.as_json()
