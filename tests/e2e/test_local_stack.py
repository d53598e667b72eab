"""`sharpened local up | down | status | reset` as a developer runs them (own ports and folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from sharpened.auth import verify_token
from sharpened.pgcluster import free_port
from sharpened.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e


class Stack:
    def __init__(self, local_dir: Path) -> None:
        self.env = {
            **os.environ,
            "SHARPENED_LOCAL_DIR": str(local_dir),
            "SHARPENED_DB_PORT": str(free_port()),
            "SHARPENED_FUNCTIONS_PORT": str(free_port()),
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "sharpened.cli", "local", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"sharpened local {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result

    def status(self) -> dict[str, object]:
        return dict(json.loads(self.run("status", "--json", check=False).stdout))


@pytest.fixture
def stack() -> Iterator[Stack]:
    local_dir = Path(tempfile.mkdtemp(prefix="sharpened-stack-"))
    os.chmod(local_dir, 0o755)  # noqa: S103 - the postgres OS user must reach it when we are root
    stack = Stack(local_dir)
    try:
        yield stack
    finally:
        stack.run("down", check=False)
        subprocess.run(["rm", "-rf", str(local_dir)], check=False)


def test_up_status_down_reset(stack: Stack) -> None:
    first = stack.run("up", "--detach")
    for label in (
        "DB URL",
        "Functions URL",
        "JWT secret",
        "anon key",
        "service_role key",
        "demo user",
    ):
        assert label in first.stdout

    info = stack.status()
    assert info["database_running"] is True
    assert info["functions_running"] is True
    assert (
        info["functions_url"]
        == f"http://127.0.0.1:{stack.env['SHARPENED_FUNCTIONS_PORT']}/functions/v1"
    )
    health = httpx.get(f"{info['functions_url']}/health")
    assert health.status_code == 200

    demo = info["demo_user"]
    assert isinstance(demo, dict)
    settings = Settings()
    assert str(verify_token(demo["access_token"], settings=settings).user_id) == demo["id"]

    db_url = str(info["db_url"])
    with psycopg.connect(db_url) as conn:
        conn.execute("update public.profiles set units = 'imperial' where id = %s", (demo["id"],))
        # The stack's database is pg_cron's: the adherence migration scheduled its hourly job.
        job = conn.execute(
            "select schedule, command, active from cron.job "
            "where jobname = 'sharpened-close-past-days'"
        ).fetchone()
        assert job == ("7 * * * *", "select private.close_past_days()", True)

    stack.run("down")
    assert stack.run("status", check=False).returncode == 3
    assert stack.status()["database_running"] is False

    started = time.monotonic()
    stack.run("up", "--detach")
    print(f"second `local up --detach` took {time.monotonic() - started:.1f} s")
    with psycopg.connect(db_url) as conn:
        kept = conn.execute("select units from public.profiles where id = %s", (demo["id"],))
        assert kept.fetchone() == ("imperial",)

    stack.run("reset")
    assert stack.status()["database_running"] is False
    stack.run("up", "--detach")
    with psycopg.connect(db_url) as conn:
        fresh = conn.execute("select units from public.profiles where id = %s", (demo["id"],))
        assert fresh.fetchone() == ("metric",)


def test_up_refuses_a_taken_functions_port(stack: Stack) -> None:
    stack.run("up", "--detach")
    clash = subprocess.run(
        [sys.executable, "-m", "sharpened.cli", "local", "up"],
        cwd=PROJECT_ROOT,
        env=stack.env | {"SHARPENED_LOCAL_DIR": stack.env["SHARPENED_LOCAL_DIR"] + "-other"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert clash.returncode == 1
    assert f"port {stack.env['SHARPENED_FUNCTIONS_PORT']} is in use" in clash.stderr


def test_demo_logs_a_day_and_prints_its_adherence_and_nutrition(stack: Stack) -> None:
    # The consultation's ten messages within a minute: no wait on the per-minute chat limit.
    stack.env["SHARPENED_CHAT_MESSAGES_PER_MINUTE"] = "60"
    stack.run("up", "--detach")
    demo = subprocess.run(
        [sys.executable, "-m", "sharpened.cli", "demo"],
        cwd=PROJECT_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    for step in (
        "[9] log today's workout",
        "[10] log today's meals",
        "[11] today's calendar",
        "[12] adherence today",
        "[13] nutrition today",
    ):
        assert step in out
    email = out.rsplit("access token for ", 1)[1].split(" ", 1)[0]

    with psycopg.connect(str(stack.status()["db_url"])) as conn:
        user_id, zone = conn.execute(
            "select u.id, p.timezone from auth.users as u join public.profiles as p on p.id = u.id"
            " where u.email = %s",
            (email,),
        ).fetchone() or (None, None)
        assert user_id is not None
        today = conn.execute("select (now() at time zone %s)::date", (zone,)).fetchone()
        assert today is not None
        planned = conn.execute(
            "select ce.event_type, ce.title, ce.status, r.similarity_score"
            " from public.calendar_events as ce left join public.adherence_records as r"
            " on r.planned_entity_id = ce.ref_id left join public.session_instances as s"
            " on s.id = ce.ref_id where ce.user_id = %s and ce.date = %s"
            " and s.session_kind is distinct from 'rest' order by ce.event_type, ce.title",
            (user_id, today[0]),
        ).fetchall()
        meals = conn.execute(
            "select count(*), sum(total_kcal) from public.meals where user_id = %s"
            " and local_date = %s",
            (user_id, today[0]),
        ).fetchone()
        daily = conn.execute(
            "select kind, planned_items, completed_items + similar_items + partial_items"
            " from public.adherence_daily where user_id = %s and date = %s order by kind",
            (user_id, today[0]),
        ).fetchall()
        burned = conn.execute(
            "select sum(calories_burned) from public.activities where user_id = %s"
            " and local_date = %s",
            (user_id, today[0]),
        ).fetchone()

    planned_meals = [row for row in planned if row[0] == "meal"]
    assert planned_meals, "the program plans meals every day"
    # Every planned item was logged close to the plan: matched, scored, shown with its score.
    for _kind, title, status, score in planned:
        assert status in ("completed", "similar"), (title, status)
        assert score is not None
        assert score >= 0.6
        assert title in out
        assert f"{status} (score {score}" in out
    # The planned meals plus the extra snack; the snack matches nothing.
    assert meals is not None
    assert meals[0] == len(planned_meals) + 1
    assert "logged, matches no planned item: snack" in out
    # The rollups count what the calendar shows.
    kinds = {"meal": len(planned_meals), "session": len(planned) - len(planned_meals)}
    assert daily == [(kind, n, n) for kind, n in sorted(kinds.items()) if n > 0]
    assert f"meal     planned {len(planned_meals)}: completed" in out
    # nutrition_today: eaten = the day's meal totals, burned = the day's activities.
    assert burned is not None
    assert burned[0] is not None
    assert burned[0] > 0
    assert f"eaten {meals[1]:.0f} kcal in {meals[0]} meals, burned {burned[0]:.0f} kcal" in out
