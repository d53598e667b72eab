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


def connection_options(settings: Settings | None = None) -> dict[str, Any]:
    """psycopg.connect() keyword arguments of every functions connection.

    Without prepared statements (``SHARPENED_DB_PREPARED_STATEMENTS=false``) psycopg never
    prepares server-side, as a transaction-mode pooler requires; with them (the default, a direct
    connection) repeated statements skip parsing and planning (about 6 ms of a consultation turn).
    """
    settings = settings or get_settings()
    options: dict[str, Any] = {"connect_timeout": 5}
    if not settings.db_prepared_statements:
        options["prepare_threshold"] = None
    return options


class Database:
    """A psycopg connection pool with PostgREST-style transaction helpers."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        settings: Settings | None = None,
    ) -> None:
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"row_factory": dict_row, **connection_options(settings)},
            check=self._check,
            name="sharpened",
            # A reconnection series gives up after 5 s and the next request starts a new one at
            # once; psycopg_pool's default (300 s of doubling back-off) kept the functions at 503
            # for about as long again as a database outage had lasted.
            reconnect_timeout=5.0,
        )
        self._opened = False
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()

    def _check(self, conn: Connection) -> None:
        """The pool's check of a connection before it is handed out.

        One dead connection means the others most likely went with it (a database restart, a
        proxy, a terminate): the whole pool is checked at once in the background, so the next
        pick is a live connection. Without it psycopg_pool takes the dead ones one by one and
        waits 1, 2, 4 s between them, which outlasts a request's 10 s pool timeout.
        """
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            if self._sweeping.acquire(blocking=False):
                threading.Thread(target=self._sweep, name="pool-check", daemon=True).start()
            raise

    def _sweep(self) -> None:
        try:
            self.pool.check()  # keeps the live idle connections, replaces the dead ones
        finally:
            self._sweeping.release()

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
                settings.db_url,
                min_size=settings.pool_min_size,
                max_size=settings.pool_max_size,
                settings=settings,
            )
        return _database
