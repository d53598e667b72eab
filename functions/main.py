"""functions-framework entry points: thin (parse, auth, call, respond).

Each entry point is served locally at ``/functions/v1/<name>`` by the gateway
(``sharpened functions serve``) and deploys as its own function with
``--entry-point <python name>``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from sharpened import __version__
from sharpened.engines import coach_service, consultation_service
from sharpened.errors import ApiError
from sharpened.http import RequestContext, endpoint
from sharpened.programs.service import program_service
from sharpened.reassessment.worker import DEFAULT_BATCH_SIZE, run_until_empty, worker_name
from sharpened.settings import get_settings

#: The reassess function stops taking new batches after this many seconds (pg_cron calls it
#: every 10 minutes; a batch in progress is finished).
REASSESS_TIME_BUDGET_SECONDS = 50.0


class ConsultationChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    message: str


class ConsultationCompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    start_date: dt.date | None = None


class GenerateProgramRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: dt.date | None = None
    duration_weeks: int = Field(default=12, ge=1, le=52)


class ReassessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=1000)


class CoachChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: uuid.UUID | None = None
    message: str


@endpoint("health", methods=("GET",), auth="public")
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


@endpoint("me", methods=("GET",), auth="user")
def me(ctx: RequestContext) -> dict[str, Any]:
    """The caller's own profile, read under RLS exactly as the Data API would."""
    with ctx.db.as_user(ctx.caller.claims, ctx.headers(), "GET", "/functions/v1/me") as conn:
        profile = conn.execute("select * from public.profiles").fetchone()
    if profile is None:
        raise ApiError(404, "not_found", "the caller has no profile")
    return {"profile": profile}


@endpoint("consultation-chat", auth="user")
def consultation_chat(ctx: RequestContext) -> dict[str, Any]:
    """One consultation turn: store the message, extract facts, advance the section, reply."""
    body = ctx.json(ConsultationChatRequest)
    result = consultation_service().chat(
        ctx.caller.claims, ctx.headers(), body.session_id, body.message
    )
    return result.model_dump(mode="json")


@endpoint("coach-chat", auth="user")
def coach_chat(ctx: RequestContext) -> dict[str, Any]:
    """The general coach: one message in, one reply out (a new conversation when none is given)."""
    body = ctx.json(CoachChatRequest)
    reply = coach_service().chat(
        ctx.caller.claims, ctx.headers(), body.conversation_id, body.message
    )
    return reply.model_dump(mode="json")


@endpoint("consultation-complete", auth="user")
def consultation_complete(ctx: RequestContext) -> dict[str, Any]:
    """Finish a complete consultation: generate and store its program (once), return the summary."""
    body = ctx.json(ConsultationCompleteRequest)
    return program_service().complete_consultation(
        ctx.caller.claims, ctx.headers(), body.session_id, start_date=body.start_date
    )


@endpoint("generate-program", auth="user")
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


@endpoint("reassess", auth="service")
def reassess(ctx: RequestContext) -> dict[str, Any]:
    """Work the reassessment queue: batches until nothing is claimable or ~50 s are used."""
    body = ctx.json(ReassessRequest) if ctx.request.content_length else ReassessRequest()
    # Connections of its own (not the pool's), held for the whole call: one claims and reads
    # while the other writes the previous batch. The role is the functions' database role,
    # which reaches the queue.
    url = get_settings().db_url
    with (
        psycopg.connect(url, connect_timeout=5) as conn,
        psycopg.connect(url, connect_timeout=5) as writer,
    ):
        totals = run_until_empty(
            conn,
            worker_name("reassess-fn"),
            body.batch_size,
            time_budget=REASSESS_TIME_BUDGET_SECONDS,
            writer=writer,
        )
    return totals.as_json()
