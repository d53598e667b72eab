"""The database gates of `make test`, run on the schema as deployed:
pgTAP (pg_prove), Supabase's advisors, and plpgsql_check lint."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest

from harness import install_test_helpers
from sharpened.gates import check_advisors, check_plpgsql_lint
from sharpened.pgcluster import PASSWORD, SUPERUSER, Cluster
from sharpened.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_pgtap_suite(pg_cluster: Cluster, fresh_db: str) -> None:
    install_test_helpers(fresh_db)
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    result = subprocess.run(
        [
            "pg_prove",
            "-h",
            "127.0.0.1",
            "-p",
            str(pg_cluster.port),
            "-U",
            SUPERUSER,
            "-d",
            dbname,
            "--ext",
            ".sql",
            "-r",
            "supabase/tests/database",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PGPASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All tests successful" in result.stdout


def test_supabase_advisors_find_nothing_at_warn_or_above(fresh_db: str) -> None:
    lines: list[str] = []
    passed = check_advisors(fresh_db, lines.append)
    assert passed, "\n".join(lines)


def test_plpgsql_lint_finds_no_errors(fresh_db: str) -> None:
    lines: list[str] = []
    passed = check_plpgsql_lint(fresh_db, lines.append)
    assert passed, "\n".join(lines)


def test_unindexed_foreign_key_fails_the_advisors_gate(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(
            "create table public.unindexed (id int primary key, "
            "user_id uuid references auth.users (id) on delete cascade)"
        )
    lines: list[str] = []
    assert not check_advisors(fresh_db, lines.append)
    assert any("unindexed_foreign_keys" in line for line in lines)


def test_gates_can_fail(fresh_db: str) -> None:
    """The gates are not rubber stamps: a mutable search_path and a broken function fail them."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(
            "create function public.bad() returns int language plpgsql "
            "as $$ begin return (select count(*) from public.no_such_table); end $$"
        )
    assert not check_advisors(fresh_db, lambda _line: None)
    assert not check_plpgsql_lint(fresh_db, lambda _line: None)
