"""`sharpened db deploy`: idempotent, reproducible, and safe on a real Supabase database."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from sharpened.deploy import POLICIES_DIR, deploy
from sharpened.pgcluster import PG_BINDIR
from sharpened.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration


def quiet(_line: str) -> None:
    pass


def schema_dump(url: str) -> str:
    result = subprocess.run(
        [str(PG_BINDIR / "pg_dump"), "--schema-only", "--no-owner", url],
        capture_output=True,
        text=True,
        check=True,
    )
    # Comments and pg_dump's random \restrict keys differ between runs; nothing else may.
    noise = ("--", "\\restrict", "\\unrestrict")
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith(noise))


def test_deploy_twice_is_a_no_op_the_second_time(empty_db: str) -> None:
    first = deploy(empty_db, seed=True, progress=quiet)
    assert first.bootstrap == [
        "sql/local/00_roles.sql",
        "sql/local/01_schemas.sql",
        "sql/local/02_auth.sql",
    ]
    assert "Applying migration" in first.migrations_output
    assert first.policies == [
        str(path.relative_to(PROJECT_ROOT)) for path in sorted(POLICIES_DIR.glob("*.sql"))
    ]
    assert first.seed == ["supabase/seed.sql"]
    before = schema_dump(empty_db)

    # The second run goes through the CLI, as a user would type it.
    second = subprocess.run(
        [sys.executable, "-m", "sharpened.cli", "db", "deploy", "--db-url", empty_db, "--seed"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "deploy finished: nothing to do" in second.stdout
    assert "up to date" in second.stdout
    assert schema_dump(empty_db) == before
    with psycopg.connect(empty_db) as conn:
        users = conn.execute("select count(*) from auth.users").fetchone()
        assert users == (1,)  # the seed's demo user, inserted once


def test_deploy_onto_a_second_empty_database_gives_the_same_schema(
    empty_db: str, fresh_db: str, pg_cluster: object
) -> None:
    deploy(empty_db, progress=quiet)
    # fresh_db was built from the session template by the same deploy path.
    assert schema_dump(empty_db) == schema_dump(fresh_db)


def test_changed_policy_file_is_reapplied(empty_db: str) -> None:
    deploy(empty_db, progress=quiet)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(
            "update sharpened_deploy.applied_files set checksum = 'stale' "
            "where path = 'sql/policies/users.sql'"
        )
        conn.execute("drop policy profiles_select_own on public.profiles")
    report = deploy(empty_db, progress=quiet)
    assert report.policies == ["sql/policies/users.sql"]
    with psycopg.connect(empty_db) as conn:
        policies = conn.execute(
            "select policyname from pg_policies where tablename = 'profiles' order by 1"
        ).fetchall()
    assert policies == [("profiles_select_own",), ("profiles_update_own",)]


def test_bootstrap_is_never_applied_to_a_supabase_auth_schema(empty_db: str) -> None:
    # A stand-in for a hosted project: Supabase Auth owns `auth`, with its own users
    # table, and the `extensions` schema exists.
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(
            """
            create schema extensions;
            create extension pgcrypto with schema extensions;
            create schema auth;
            create table auth.users (id uuid primary key, raw_user_meta_data jsonb);
            create function auth.uid() returns uuid language sql stable
                as $$ select (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid
                $$;
            """
        )
    report = deploy(empty_db, progress=quiet)
    assert report.bootstrap_skipped
    assert report.bootstrap == []
    with psycopg.connect(empty_db) as conn:
        columns = conn.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'auth' and table_name = 'users'"
        ).fetchone()
        assert columns == (2,)
        assert conn.execute("select to_regclass('public.profiles') is not null").fetchone() == (
            True,
        )
