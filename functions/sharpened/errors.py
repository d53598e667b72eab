"""One error shape for every HTTP answer: ``{"error": {"code", "message", "details"}}``.

Database errors are mapped to HTTP statuses the way PostgREST maps SQLSTATEs,
so a client sees the same status from a function as from the Data API.
"""

from __future__ import annotations

from typing import Any

import psycopg


class ApiError(Exception):
    """An error a client may see: HTTP status, stable code, message, optional details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def status_for_sqlstate(sqlstate: str, *, authenticated: bool) -> int:
    """PostgREST's SQLSTATE → HTTP status table (SUPABASE_FACTS.md)."""
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    exact = {
        "P0001": 400,
        "23505": 409,
        "23503": 409,
        "42883": 404,
        "42P01": 404,
        "25006": 405,
    }
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate.startswith(("08", "53", "57P")):
        return 503
    if sqlstate.startswith(("22", "23")):
        return 400
    return 500


_CODE_FOR_STATUS = {
    400: "invalid_input",
    401: "unauthorized",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limited",
    503: "database_unavailable",
}


def from_database_error(exc: psycopg.Error, *, authenticated: bool) -> ApiError:
    """The client-facing error for a database error (no SQL, no stack)."""
    sqlstate = exc.sqlstate or ""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not sqlstate:
        return ApiError(503, "database_unavailable", "the database is not reachable; retry shortly")
    status = status_for_sqlstate(sqlstate, authenticated=authenticated)
    if status >= 500 and status != 503:
        return ApiError(500, "internal_error", "internal error")
    diag = exc.diag
    details: dict[str, Any] = {"sqlstate": sqlstate}
    if diag.message_detail:
        details["detail"] = diag.message_detail
    if diag.message_hint:
        details["hint"] = diag.message_hint
    message = diag.message_primary or "database error"
    return ApiError(status, _CODE_FOR_STATUS.get(status, "error"), message, details)
