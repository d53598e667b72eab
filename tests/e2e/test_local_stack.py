"""`sharpened local up | down | status | reset` as a developer runs them (own ports and folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
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
        # The stack's database is pg_cron's: the migrations scheduled their jobs.
        jobs = conn.execute(
            "select jobname, schedule, command, active from cron.job order by jobname"
        ).fetchall()
        assert jobs == [
            (
                "sharpened-apply-due-overrides",
                "*/5 * * * *",
                "select private.apply_due_overrides()",
                True,
            ),
            ("sharpened-close-past-days", "7 * * * *", "select private.close_past_days()", True),
            (
                "sharpened-enqueue-reassessments",
                "20 0 * * *",
                "select private.enqueue_due_reassessments()",
                True,
            ),
            (
                "sharpened-run-reassessments",
                "*/10 * * * *",
                "select private.request_reassessment()",
                True,
            ),
        ]

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
        "[14] check in for",
        "[15] the proposed adjustment",
        "[16] the user approves it",
        "[17] today's plan, adjusted",
        "[18] notifications and the recorded moves",
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
        check_in = conn.execute(
            "select sleep_hours, sleep_quality, stress_level, soreness_level"
            " from public.user_context_log where user_id = %s and date = %s",
            (user_id, today[0]),
        ).fetchall()
        overrides = conn.execute(
            "select id, status, approval, reason_codes, modifications from public.day_overrides"
            " where user_id = %s and date = %s",
            (user_id, today[0]),
        ).fetchall()
        assert len(overrides) == 1
        override_id = overrides[0][0]
        moves = conn.execute(
            "select from_status, to_status, actor from public.day_override_transitions"
            " where override_id = %s order by created_at",
            (override_id,),
        ).fetchall()
        notes = conn.execute(
            "select kind, priority, title, action_taken, read_at is not null"
            " from public.notifications where ref_table = 'day_overrides' and ref_id = %s"
            " order by created_at, kind",
            (override_id,),
        ).fetchall()
        adjusted = conn.execute(
            "select event_type, session_kind, adjusted_exercises, meal_type, targets,"
            " adjusted_targets from public.calendar_day where user_id = %s and date = %s",
            (user_id, today[0]),
        ).fetchall()
        nutrition = conn.execute(
            "select target_kcal, kcal_adjustment, target_carbs_g, kcal_remaining"
            " from public.nutrition_today where user_id = %s",
            (user_id,),
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

    # Issue 7: the check-in, the override it caused, its approval and the adjusted day.
    assert check_in == [(Decimal("5.0"), 4, 8, 8)]
    assert "slept 5 h (quality 4/10), stress 8/10, soreness 8/10" in out
    _id, status, approval, reasons, modifications = overrides[0]
    sessions = len(planned) - len(planned_meals)
    # High stress always has something to adjust (the meals, +150 kcal; its nutrition part asks
    # by default, and ask wins); poor sleep and soreness adjust training only.
    assert "high_stress" in reasons
    assert ("poor_sleep" in reasons) == ("high_soreness" in reasons) == (sessions > 0)
    assert approval == "ask"
    assert status == "approved"
    assert "    status pending, approval ask" in out
    assert "status approved, applied at" in out
    if sessions:
        assert modifications["volume_multiplier"] == round(0.9 * 0.85 * 0.75, 3)
        assert modifications["intensity_multiplier"] == 0.9
        assert modifications["rir_delta"] == 1
    else:
        assert "volume_multiplier" not in modifications
        assert "poor_sleep: dropped, it adjusts training only" in out
    if not {"missed_workout", "high_adherence"} & set(reasons):
        assert modifications["kcal_delta"] == 150
    proposal = out.split("[15] ", 1)[1].split("[16] ", 1)[0]
    printed = {word.rstrip(",") for word in proposal.split()}
    for key, value in modifications.items():
        assert f"{key}={_plain(value)}" in printed, key

    # The adjusted plan as calendar_day serves it, and as the demo printed it.
    for event_type, kind, exercises, meal_type, targets, adjusted_targets in adjusted:
        if event_type == "meal":
            assert (
                f"meal     {meal_type:<9} {_plain(targets['kcal'])} -> "
                f"{_plain(adjusted_targets['kcal'])} kcal, carbs {_plain(targets['carbs_g'])} -> "
                f"{_plain(adjusted_targets['carbs_g'])} g" in out
            )
            continue
        if kind == "rest":
            continue
        for exercise in exercises:
            planned_sets = Decimal(exercise["planned_sets"])
            volume = Decimal(str(modifications["volume_multiplier"]))
            expected_sets = max(
                1,
                int((planned_sets * volume).quantize(Decimal(1), ROUND_HALF_UP))
                + modifications.get("set_delta", 0),
            )
            assert exercise["sets"] == expected_sets, exercise
            if exercise["planned_target_rir"] is not None:
                assert exercise["target_rir"] == min(5, exercise["planned_target_rir"] + 1)
            assert (
                f"{exercise['name']:<30} sets {exercise['planned_sets']} -> {exercise['sets']}, "
                f"RIR {_plain(exercise['planned_target_rir'])} -> "
                f"{_plain(exercise['target_rir'])}, %1RM "
                f"{_plain(exercise['planned_target_pct_1rm'])} -> "
                f"{_plain(exercise['target_pct_1rm'])}" in out
            )
    planned_kcal = sum(Decimal(str(row[4]["kcal"])) for row in adjusted if row[0] == "meal")
    adjusted_kcal = sum(Decimal(str(row[5]["kcal"])) for row in adjusted if row[0] == "meal")
    assert abs(adjusted_kcal - planned_kcal - modifications["kcal_delta"]) <= Decimal("0.05") * len(
        planned_meals
    )
    assert nutrition is not None
    target_kcal, kcal_adjustment, target_carbs_g, kcal_remaining = nutrition
    assert kcal_adjustment == modifications["kcal_delta"]
    assert target_kcal == round(planned_kcal, 1) + kcal_adjustment
    assert (
        f"nutrition_today: target {target_kcal:.0f} kcal (kcal_adjustment {kcal_adjustment:.0f}),"
        f" carbs {target_carbs_g:.0f} g, remaining {kcal_remaining:.0f} kcal" in out
    )

    # Every move recorded and notified: proposed by the system, approved by the user.
    assert moves == [(None, "pending", "system"), ("pending", "approved", "user")]
    assert "(new) -> pending by system at" in out
    assert "pending -> approved by user at" in out
    assert [(kind, priority) for kind, priority, *_ in notes] == [
        ("adjustment_pending", "high"),
        ("adjustment_applied", "low"),
    ]
    for kind, priority, title, action, read in notes:
        assert action == "approved"
        assert read is True
        assert f"{kind:<20} {priority:<6} {title} ({action}, read)" in out


def _plain(value: object) -> str:
    """A number as the demo prints it (3, 67.5, 0.574), "-" for none."""
    return "-" if value is None else f"{Decimal(str(value)).normalize():f}"
