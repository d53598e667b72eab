"""Per-user message limits shared by the chat functions (consultation and coach)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql

from sharpened.errors import ApiError
from sharpened.settings import get_settings

MAX_MESSAGE_CHARS = 2000


def lock_user(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> None:
    """Serialise one user's chat turns for the rest of the transaction (limits stay exact)."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"chat:{user_id}",))


def enforce_message_limits(
    conn: psycopg.Connection[Any],
    *,
    table: str,
    thread_column: str,
    thread_id: uuid.UUID,
    user_id: uuid.UUID,
) -> None:
    """429 when the user sent too many messages this minute or the thread is full.

    Defaults: 10 a minute, 200 a thread (SHARPENED_CHAT_MESSAGES_PER_MINUTE / _PER_THREAD).
    """
    settings = get_settings()
    per_minute, per_thread = settings.chat_messages_per_minute, settings.chat_messages_per_thread
    counts = sql.SQL(
        """
        select
            count(*) filter (where created_at > now() - interval '1 minute') as last_minute,
            count(*) filter (where {thread} = %(thread)s) as in_thread
        from public.{table}
        where user_id = %(user)s and role = 'user'
          and (created_at > now() - interval '1 minute' or {thread} = %(thread)s)
        """
    ).format(table=sql.Identifier(table), thread=sql.Identifier(thread_column))
    row = conn.execute(counts, {"thread": thread_id, "user": user_id}).fetchone()
    last_minute, in_thread = (row["last_minute"], row["in_thread"]) if row else (0, 0)
    if last_minute >= per_minute:
        raise ApiError(
            429,
            "rate_limited",
            f"at most {per_minute} messages a minute; wait a moment and try again",
            {"limit": per_minute, "window_seconds": 60},
        )
    if in_thread >= per_thread:
        raise ApiError(
            429,
            "thread_message_limit",
            f"this conversation has reached its limit of {per_thread} messages",
            {"limit": per_thread},
        )


def check_message_length(message: str) -> str:
    """The message, stripped; 422 when empty, 413 when over the limit."""
    text = message.strip()
    if not text:
        raise ApiError(422, "empty_message", "the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ApiError(
            413,
            "message_too_long",
            f"a message may have at most {MAX_MESSAGE_CHARS} characters (got {len(text)})",
            {"limit": MAX_MESSAGE_CHARS},
        )
    return text
