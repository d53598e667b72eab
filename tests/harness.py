"""Test harness: a throwaway PostgreSQL cluster, a template database built by
the real deploy path, and PostgREST-faithful actors.

``PostgrestSession`` runs a whole test in one transaction (rolled back at the
end); each ``as_user`` / ``as_anon`` / ``as_service`` block is a savepoint in
which PostgREST's prelude runs (``sharpened.db.begin_request``: role, JWT
claims, headers, method), so an expected error inside a block leaves the
test's transaction usable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from sharpened.auth import user_claims
from sharpened.db import begin_request
from sharpened.deploy import deploy
from sharpened.pgcluster import Cluster, free_port
from sharpened.settings import PROJECT_ROOT
from sharpened.users import create_user

TEMPLATE_DB = "sharpened_template"
TEST_SQL_DIR = PROJECT_ROOT / "supabase" / "tests"


def build_template(cluster: Cluster) -> str:
    """Deploy this checkout into a template database, exactly as `sharpened db deploy` does."""
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {TEMPLATE_DB}")
        conn.execute(f"create database {TEMPLATE_DB}")
    deploy(cluster.url(TEMPLATE_DB), seed=False, progress=lambda _line: None)
    return TEMPLATE_DB


def install_test_helpers(url: str) -> None:
    """pgTAP, the ``tests`` schema helpers and every domain's fixtures (test databases only)."""
    files = [TEST_SQL_DIR / "helpers.sql", *sorted((TEST_SQL_DIR / "fixtures").glob("*.sql"))]
    with psycopg.connect(url, autocommit=True) as conn:
        for path in files:
            conn.execute(path.read_text())


def create_database(cluster: Cluster, *, template: str | None = TEMPLATE_DB) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        source = f" template {template}" if template else ""
        conn.execute(f"create database {name}{source}")
    return name


def drop_database(cluster: Cluster, name: str) -> None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")


class PostgrestSession:
    """One rolled-back transaction with actors that behave like PostgREST requests."""

    def __init__(self, conn: psycopg.Connection[DictRow]) -> None:
        self.conn = conn

    def signup(self, email: str | None = None, display_name: str | None = None) -> uuid.UUID:
        """Create a user the way Supabase Auth does (insert into auth.users)."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.test"
        return create_user(self.conn, email, display_name=display_name)

    @contextmanager
    def _acting(
        self,
        role: str,
        claims: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
    ) -> Iterator[psycopg.Connection[DictRow]]:
        with self.conn.transaction():
            begin_request(self.conn, role, claims, headers, method)
            yield self.conn
            self.conn.execute("reset role")
            self.conn.execute("select set_config('request.jwt.claims', '', true)")

    def as_user(
        self,
        user_id: uuid.UUID,
        *,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> Any:
        return self._acting("authenticated", user_claims(user_id), headers, method)

    def as_anon(self, headers: Mapping[str, str] | None = None) -> Any:
        return self._acting("anon", {}, headers, "GET")

    def as_service(self) -> Any:
        return self._acting("service_role", {}, None, "POST")


def start_functions_server(
    db_url: str, log_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`sharpened functions serve` on a free port against ``db_url``: (process, base URL)."""
    port = free_port()
    env = {**os.environ, "SHARPENED_DB_URL": db_url, "SHARPENED_POOL_MAX": "4", **(extra_env or {})}
    if not extra_env or "OPENAI_API_KEY" not in extra_env:
        env.pop("OPENAI_API_KEY", None)  # the offline engine, unless a test asks for OpenAI
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sharpened.cli", "functions", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}/functions/v1"


def wait_until_serving(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until the server answers HTTP at all (any status)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"functions server exited:\n{log_path.read_text()}")
        try:
            httpx.get(f"{base}/health", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"functions server did not answer at {base}:\n{log_path.read_text()}")


@contextmanager
def functions_server(
    db_url: str, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A started functions server that answers HTTP: (process, base URL); stopped on exit."""
    process, base = start_functions_server(db_url, log_path, extra_env)
    try:
        wait_until_serving(base, process, log_path)
        yield process, base
    finally:
        process.terminate()
        process.wait(timeout=10)


def connect(url: str) -> psycopg.Connection[DictRow]:
    return psycopg.connect(url, row_factory=dict_row)


def one_row(
    conn: psycopg.Connection[Any], query: str, params: Sequence[object] = ()
) -> dict[str, Any]:
    """The one row ``query`` returns, as a dict (the connection's rows must be dicts)."""
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return dict(row)


def wait_event_while_blocked(
    blocked: psycopg.Connection[Any],
    work: Callable[[], object],
    release: Callable[[], object],
    monitor: psycopg.Connection[Any],
) -> str | None:
    """Runs ``work`` (a request on ``blocked``) in a thread until ``blocked``'s backend waits on a
    lock (10 s at most), then ``release`` (e.g. the other transaction's commit); joins the thread,
    re-raises what ``work`` raised and returns the lock's wait event (None: it never waited).
    ``blocked`` is left in the transaction ``work`` ran in; ``monitor`` is in autocommit mode and
    returns dict rows."""
    pid = one_row(blocked, "select pg_backend_pid() as pid")["pid"]
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # re-raised by the calling thread
            failures.append(error)

    thread = Thread(target=run)
    thread.start()
    waiting = None
    for _ in range(200):
        waiting = monitor.execute(
            "select wait_event from pg_stat_activity where pid = %s and wait_event_type = 'Lock'",
            (pid,),
        ).fetchone()
        if waiting is not None:
            break
        time.sleep(0.05)
    release()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if failures:
        raise failures[0]
    return None if waiting is None else str(waiting["wait_event"])


def json_decimals(text: str | None) -> Any:
    """JSON text as PostgREST returns it, numbers with a fraction as Decimal (None stays None)."""
    return None if text is None else json.loads(text, parse_float=Decimal)


@contextmanager
def serve_jwks(jwk: Mapping[str, Any]) -> Iterator[str]:
    """A JWKS endpoint serving ``jwk`` (one public key), as Supabase Auth serves its asymmetric
    signing keys; yields its URL."""
    body = json.dumps({"keys": [dict(jwk)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    finally:
        server.shutdown()


def seed_every_table(
    conn: psycopg.Connection[DictRow], first: uuid.UUID, last: uuid.UUID
) -> dict[str, dict[str, Any]]:
    """A row in every table for both users, through every domain's ``tests.seed_*`` fixture
    (``seed_reference`` once: it is not per user); returns a sample row per table, ``last``'s
    where both have one."""
    functions = [
        row["proname"]
        for row in conn.execute(
            "select proname from pg_proc where pronamespace = 'tests'::regnamespace "
            "and proname like 'seed\\_%' order by proname"
        )
    ]
    call = sql.SQL("select table_name, sample from tests.{}({})")
    samples: dict[str, dict[str, Any]] = {}
    for function in functions:
        for user in (first, last):
            args = sql.SQL("") if function == "seed_reference" else sql.Literal(user)
            for row in conn.execute(call.format(sql.Identifier(function), args)):
                samples[row["table_name"]] = row["sample"]
            if function == "seed_reference":
                break
    return samples
