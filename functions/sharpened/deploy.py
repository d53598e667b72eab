"""``sharpened db deploy``: one path for every database, local or hosted.

1. The Supabase-compatibility bootstrap (``sql/local``), only on a bare
   PostgreSQL: skipped when the database already has an ``auth`` schema that
   this bootstrap did not create (a real Supabase project).
2. Migrations with the Supabase CLI itself: ``supabase db push --db-url … --yes``.
3. The repeatable policy files (``sql/policies``), re-applied when a file's
   checksum changes.
4. Optionally ``supabase/seed.sql`` (written idempotently, tracked the same way).

Repeatable files are recorded in ``sharpened_deploy.applied_files``.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from sharpened.settings import PROJECT_ROOT

BOOTSTRAP_DIR = PROJECT_ROOT / "sql" / "local"
POLICIES_DIR = PROJECT_ROOT / "sql" / "policies"
SEED_FILE = PROJECT_ROOT / "supabase" / "seed.sql"
SUPABASE_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "supabase"
BOOTSTRAP_MARKER = "SHARPENED local Supabase-compatibility bootstrap"

Progress = Callable[[str], None]
BootstrapMode = Literal["auto", "always", "never"]

_TRACKING_DDL = """
create schema if not exists sharpened_deploy;
revoke all on schema sharpened_deploy from public;
comment on schema sharpened_deploy is 'Deploy bookkeeping of sharpened db deploy (not exposed).';
create table if not exists sharpened_deploy.applied_files (
    path text primary key,
    kind text not null check (kind in ('bootstrap', 'policy', 'seed')),
    checksum text not null,
    applied_at timestamptz not null default now()
);
comment on table sharpened_deploy.applied_files is
    'Repeatable SQL files applied by sharpened db deploy, with the checksum last applied.';
"""


class DeployError(RuntimeError):
    """A deploy step failed; the message says which and why."""


@dataclass
class DeployReport:
    bootstrap: list[str] = field(default_factory=list)
    bootstrap_skipped: bool = False
    migrations_output: str = ""
    policies: list[str] = field(default_factory=list)
    seed: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.bootstrap or self.policies or self.seed) or (
            "Applying migration" in self.migrations_output
        )


def cli_db_url(db_url: str) -> str:
    """``db_url`` with ``sslmode=disable`` added for a loopback server (the CLI defaults to TLS)."""
    parts = urlsplit(db_url)
    query = dict(parse_qsl(parts.query))
    if parts.hostname in ("127.0.0.1", "localhost", "::1") and "sslmode" not in query:
        query["sslmode"] = "disable"
    return urlunsplit(parts._replace(query=urlencode(query)))


def supabase_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the pinned Supabase CLI (``node_modules/.bin/supabase``) from the project root."""
    if not SUPABASE_BIN.exists():
        raise DeployError("the Supabase CLI is not installed: run `npm ci` (or `make setup`)")
    result = subprocess.run(
        [str(SUPABASE_BIN), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise DeployError(
            f"supabase {' '.join(a for a in args if not a.startswith('postgres'))} failed "
            f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _apply_repeatable(
    conn: psycopg.Connection[tuple[object, ...]],
    files: list[Path],
    kind: str,
    progress: Progress,
) -> list[str]:
    applied: list[str] = []
    for path in files:
        relative = str(path.relative_to(PROJECT_ROOT))
        digest = checksum(path)
        row = conn.execute(
            "select checksum from sharpened_deploy.applied_files where path = %s", (relative,)
        ).fetchone()
        if row is not None and row[0] == digest:
            continue
        progress(f"  applying {relative}")
        with conn.transaction():
            try:
                conn.execute(path.read_text())
            except psycopg.Error as exc:
                raise DeployError(f"{relative} failed: {exc}") from exc
            conn.execute(
                """
                insert into sharpened_deploy.applied_files (path, kind, checksum)
                values (%s, %s, %s)
                on conflict (path) do update
                set checksum = excluded.checksum, kind = excluded.kind, applied_at = now()
                """,
                (relative, kind, digest),
            )
        applied.append(relative)
    return applied


def _needs_bootstrap(conn: psycopg.Connection[tuple[object, ...]], mode: BootstrapMode) -> bool:
    if mode != "auto":
        return mode == "always"
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'auth'"
    ).fetchone()
    return row is None or str(row[0] or "").startswith(BOOTSTRAP_MARKER)


def deploy(
    db_url: str,
    *,
    seed: bool = False,
    bootstrap: BootstrapMode = "auto",
    progress: Progress = print,
) -> DeployReport:
    """Bring the database at ``db_url`` to the state of this checkout."""
    report = DeployReport()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        conn.execute(_TRACKING_DDL)
        if _needs_bootstrap(conn, bootstrap):
            progress("bootstrap (sql/local): Supabase-compatible roles, auth schema, extensions")
            report.bootstrap = _apply_repeatable(
                conn, sorted(BOOTSTRAP_DIR.glob("*.sql")), "bootstrap", progress
            )
        else:
            report.bootstrap_skipped = True
            progress("bootstrap skipped: the database has Supabase's own auth schema")

        progress("migrations: supabase db push")
        result = supabase_cli("db", "push", "--db-url", cli_db_url(db_url), "--yes")
        report.migrations_output = (result.stdout + result.stderr).strip()
        for line in report.migrations_output.splitlines():
            progress(f"  {line}")

        progress("policies (sql/policies)")
        report.policies = _apply_repeatable(
            conn, sorted(POLICIES_DIR.glob("*.sql")), "policy", progress
        )
        if seed:
            progress("seed (supabase/seed.sql)")
            report.seed = _apply_repeatable(conn, [SEED_FILE], "seed", progress)
    return report
