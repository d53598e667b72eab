"""functions-framework entry points: thin (parse, auth, call, respond).

Each entry point is served locally at ``/functions/v1/<name>`` by the gateway
(``sharpened functions serve``) and deploys as its own function with
``--entry-point <python name>``.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from sharpened import __version__
from sharpened.engines import coach_service, consultation_service
from sharpened.errors import ApiError
from sharpened.http import RequestContext, endpoint


class ConsultationChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    message: str


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
