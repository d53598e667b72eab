"""Consultation keys from Python: redemption as the calling user, minting as the service role.

Both are thin wrappers over the SQL functions (supabase/migrations/
20261126001200_consultation_redemption.sql), for callers that use SQL directly
(tests, the demo, the CLI). Client apps call the same RPC through the Data
API: ``POST /rest/v1/rpc/redeem_consultation_key {"key_code": "SHARP-2026-…"}``.

A refused redemption does not raise in SQL: the RPC records the failed attempt
(throttling counts it), sets ``response.status`` and returns
``{"error": {"code", "message", "details"}}``. :func:`redeem_key` turns that
body into :class:`KeyRedemptionRefused`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from sharpened.db import Database
from sharpened.errors import ApiError

# What the database accepts (consultation_keys' CHECK) and what minting draws
# from: 32 symbols, no 0/O and no 1/I, so a code read aloud or typed is unambiguous.
KEY_CODE_PATTERN = re.compile(r"^SHARP-[0-9]{4}-[A-Z0-9]{9}$")
KEY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MINTED_KEY_CODE_PATTERN = re.compile(rf"^SHARP-[0-9]{{4}}-[{KEY_ALPHABET}]{{9}}$")

MAX_MINT_COUNT = 10_000
MAX_KEY_USES = 100_000

# The HTTP status of each refusal code (the RPC sets the same in response.status).
REFUSAL_STATUS: dict[str, int] = {
    "invalid_key_code": 400,
    "key_not_found": 404,
    "key_inactive": 403,
    "key_expired": 410,
    "key_not_assigned_to_you": 403,
    "key_exhausted": 410,
    "consultation_in_progress": 409,
    "too_many_attempts": 429,
}


@dataclass(frozen=True)
class RedeemResult:
    """A successful redemption: the new consultation session and the key's remaining uses."""

    session_id: uuid.UUID
    uses_remaining: int


class KeyRedemptionRefused(ApiError):  # noqa: N818 - the name the contract uses
    """The RPC refused the key: stable ``code``, clear ``message``, HTTP ``status``, ``details``."""

    def __init__(
        self, code: str, message: str, status: int, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(status, code, message, dict(details or {}))


def redeem_key(conn: psycopg.Connection[Any], key_code: str | None) -> RedeemResult:
    """Redeem ``key_code`` for the user of ``conn``'s current transaction.

    ``conn`` must be inside a transaction that acts as the signed-in user, as
    PostgREST does (``Database.as_user(claims, headers=…)``; the headers give the
    usage row its IP address and user agent). On success the session exists in
    that transaction. A refusal raises :class:`KeyRedemptionRefused`; the RPC has
    recorded the failed attempt in the same transaction, so let the exception
    leave the ``with db.as_user(…)`` block only if that record may be rolled
    back (catch it inside the block to keep it counted, as the Data API does).
    A call without a signed-in user raises ``psycopg.errors.InsufficientPrivilege``.
    """
    cur = conn.cursor(row_factory=tuple_row)
    # The GUC is transaction-local: clear what an earlier call in this transaction set.
    cur.execute("select set_config('response.status', '', true)")
    cur.execute("select public.redeem_consultation_key(%s::text)", (key_code,))
    row = cur.fetchone()
    if row is None or not isinstance(row[0], dict):
        raise RuntimeError("redeem_consultation_key returned no JSON object")
    body: dict[str, Any] = row[0]
    error = body.get("error")
    if error is None:
        return RedeemResult(
            session_id=uuid.UUID(str(body["session_id"])),
            uses_remaining=int(body["uses_remaining"]),
        )
    cur.execute("select nullif(current_setting('response.status', true), '')")
    status_row = cur.fetchone()
    code = str(error["code"])
    status = (
        int(status_row[0])
        if status_row is not None and status_row[0] is not None
        else REFUSAL_STATUS.get(code, 400)
    )
    return_details = error.get("details")
    raise KeyRedemptionRefused(
        code,
        str(error["message"]),
        status,
        return_details if isinstance(return_details, dict) else {},
    )


@dataclass(frozen=True)
class MintedKey:
    """A new consultation key as stored (the code is a secret: hand it to its user only)."""

    id: uuid.UUID
    key_code: str
    max_uses: int
    expires_at: dt.datetime | None
    assigned_to_user_id: uuid.UUID | None
    created_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields (for the CLI's output)."""
        return {
            "id": str(self.id),
            "key_code": self.key_code,
            "max_uses": self.max_uses,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "assigned_to_user_id": (
                str(self.assigned_to_user_id) if self.assigned_to_user_id else None
            ),
            "created_at": self.created_at.isoformat(),
        }


def mint_keys(
    conn: psycopg.Connection[Any],
    count: int,
    max_uses: int = 1,
    expires_in_days: float | None = None,
    assigned_to: uuid.UUID | None = None,
) -> list[MintedKey]:
    """Create ``count`` new consultation keys and return them (in creation order).

    ``conn`` must be inside a transaction acting as ``service_role``
    (``Database.as_service()``) or as a superuser; the keys exist once it
    commits. Each key allows ``max_uses`` redemptions, expires ``expires_in_days``
    days from now (never when ``None``) and, when ``assigned_to`` is a user id,
    can be redeemed by that user only. Codes are ``SHARP-YYYY-XXXXXXXXX`` drawn
    by the database from a CSPRNG. Raises ``ValueError`` for out-of-range
    arguments and ``psycopg.errors.InsufficientPrivilege`` for any other role.
    """
    if not 1 <= count <= MAX_MINT_COUNT:
        raise ValueError(f"count must be between 1 and {MAX_MINT_COUNT}")
    if not 1 <= max_uses <= MAX_KEY_USES:
        raise ValueError(f"max_uses must be between 1 and {MAX_KEY_USES}")
    if expires_in_days is not None and not expires_in_days > 0:
        raise ValueError("expires_in_days must be positive")
    expires_at = (
        None
        if expires_in_days is None
        else dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_in_days)
    )
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """
        select id, key_code, max_uses, expires_at, assigned_to_user_id, created_at
        from public.mint_consultation_keys(
            %(count)s::integer, %(max_uses)s::integer, %(expires_at)s::timestamptz,
            %(assigned_to)s::uuid
        )
        """,
        {
            "count": count,
            "max_uses": max_uses,
            "expires_at": expires_at,
            "assigned_to": assigned_to,
        },
    )
    return [MintedKey(**row) for row in cur.fetchall()]


def mint_keys_as_service(
    db: Database,
    count: int,
    max_uses: int = 1,
    expires_in_days: float | None = None,
    assigned_to: uuid.UUID | None = None,
) -> list[MintedKey]:
    """:func:`mint_keys` in its own committed ``service_role`` transaction (the CLI's entry)."""
    with db.as_service() as conn:
        return mint_keys(conn, count, max_uses, expires_in_days, assigned_to)
