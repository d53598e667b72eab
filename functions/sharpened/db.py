"""Database access the way PostgREST does it.

``as_user(claims)`` opens a transaction, switches to the ``authenticated`` role
and sets ``request.jwt.claims`` (plus ``request.headers``/``request.method``
when given) with ``set_config(..., true)``: exactly PostgREST's per-request
prelude, so RLS, column privileges and ``auth.uid()`` guard everything the
functions do for a user. ``as_service()`` does the same as ``service_role``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from sharpened.settings import Settings, get_settings

Connection = psycopg.Connection[DictRow]

_PRELUDE = """
select set_config('role', %(role)s, true),
       set_config('request.jwt.claims', %(claims)s, true),
       set_config('request.method', %(method)s, true),
       set_config('request.path', %(path)s, true),
       set_config('request.headers', %(headers)s, true)
"""


def prelude_params(
    role: str,
    claims: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
) -> dict[str, str]:
    """The GUC values PostgREST sets for one request (header names lower-cased)."""
    return {
        "role": role,
        "claims": json.dumps({**claims, "role": role}),
        "method": method or "",
        "path": path or "",
        "headers": json.dumps({k.lower(): v for k, v in (headers or {}).items()}),
    }


def begin_request(
    conn: psycopg.Connection[Any],
    role: str,
    claims: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
) -> None:
    """Run PostgREST's prelude on ``conn``; the caller must be inside a transaction."""
    conn.execute(_PRELUDE, prelude_params(role, claims, headers, method, path))


class Database:
    """A psycopg connection pool with PostgREST-style transaction helpers."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"row_factory": dict_row, "connect_timeout": 5},
            check=ConnectionPool.check_connection,
            name="sharpened",
        )
        self._opened = False
        self._lock = threading.Lock()

    def _ensure_open(self) -> None:
        if not self._opened:
            with self._lock:
                if not self._opened:
                    self.pool.open(wait=False)
                    self._opened = True

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False

    @contextmanager
    def transaction(
        self,
        role: str,
        claims: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
        timeout: float = 10.0,
    ) -> Iterator[Connection]:
        """One transaction as ``role``; commits on success, rolls back on error."""
        self._ensure_open()
        with self.pool.connection(timeout=timeout) as conn, conn.transaction():
            begin_request(conn, role, claims, headers, method, path)
            yield conn

    @contextmanager
    def as_user(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> Iterator[Connection]:
        """A transaction as the signed-in user whose JWT claims are ``claims``."""
        with self.transaction("authenticated", claims, headers, method, path) as conn:
            yield conn

    @contextmanager
    def as_anon(self, headers: Mapping[str, str] | None = None) -> Iterator[Connection]:
        """A transaction as PostgREST's anonymous role."""
        with self.transaction("anon", {}, headers) as conn:
            yield conn

    @contextmanager
    def as_service(self) -> Iterator[Connection]:
        """A transaction as ``service_role`` (bypasses RLS: backend workers only)."""
        with self.transaction("service_role", {}) as conn:
            yield conn

    def ping(self) -> dict[str, Any]:
        """Check the database answers; returns its server time and version."""
        self._ensure_open()
        with self.pool.connection(timeout=3.0) as conn:
            row = conn.execute(
                "select now() as server_time, current_setting('server_version') as version"
            ).fetchone()
        assert row is not None
        return dict(row)


_database: Database | None = None
_database_lock = threading.Lock()


def get_database(settings: Settings | None = None) -> Database:
    """The process-wide pool (created on first use, opened lazily)."""
    global _database
    with _database_lock:
        if _database is None:
            settings = settings or get_settings()
            _database = Database(
                settings.db_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
            )
        return _database
