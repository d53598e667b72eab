"""The scheduled reassessment (issue 8) on a real database: the aggregate, the worker's writes,
idempotency, concurrent workers, a worker killed mid-batch, retries with backoff, RLS.

Every test gets its own committed database (the worker commits per batch and several workers
use separate connections). Programs are real: one per goal is generated and stored by the
program service (``ProgramService.generate``, the generate-program path); each test user gets
a copy of that program row (the same tdee, macros and provenance, its own dates), so a user's
period has no plan layout and the adherence rollups are exactly the rows the test writes.
Logs are written into the real tables (their triggers compute local dates and meal totals).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from harness import connect
from sharpened.auth import user_claims
from sharpened.db import Database, begin_request
from sharpened.programs.energy import round_kcal
from sharpened.programs.service import ProgramService
from sharpened.reassessment.worker import (
    BatchResult,
    JobPlan,
    claim,
    enqueue_due,
    plan_job,
    process,
    run_batch,
    run_until_empty,
)
from sharpened.settings import PROJECT_ROOT
from sharpened.users import create_user

pytestmark = pytest.mark.integration

ONBOARDING = """
update public.profiles set sex = %(sex)s, date_of_birth = '1996-11-01', height_cm = 180,
    weight_kg = 80, activity_level = 'moderate', primary_goal = %(goal)s,
    experience_level = 'intermediate', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 4
where id = %(id)s
"""
CHEST_PRESS = "Barbell_Bench_Press_-_Medium_Grip"  # primary muscle: chest


def _one(conn: psycopg.Connection[Any], query: str, *args: object) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, args).fetchone()
    assert row is not None
    return dict(row)


def _all(conn: psycopg.Connection[Any], query: str, *args: object) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [dict(r) for r in cur.execute(query, args).fetchall()]


@dataclass
class Member:
    """A user with a copy of a generated program whose reassessment is due today."""

    id: uuid.UUID
    program: uuid.UUID
    tz: str
    today: dt.date

    @property
    def start(self) -> dt.date:
        return self.today - dt.timedelta(days=14)

    def day(self, i: int) -> dt.date:
        """Day ``i`` of the period (0-13); negative: before it."""
        return self.start + dt.timedelta(days=i)


class World:
    """One committed database with the two template programs (fat loss, muscle gain)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = connect(url)
        self.conn.autocommit = True
        self.templates: dict[str, uuid.UUID] = {}

    def template(self, goal: str) -> uuid.UUID:
        if goal not in self.templates:
            with connect(self.url) as conn:
                user = create_user(conn, f"tpl-{uuid.uuid4().hex[:8]}@example.test")
                conn.execute(ONBOARDING, {"sex": "male", "goal": goal, "id": user})
            db = Database(self.url, min_size=1, max_size=2)
            try:
                ProgramService(db).generate(
                    user_claims(user),
                    {},
                    path="/functions/v1/generate-program",
                    source="onboarding",
                    start_date=dt.date(2026, 1, 5),
                    duration_weeks=12,
                )
            finally:
                db.close()
            row = _one(
                self.conn,
                "update public.programs set status = 'archived' where user_id = %s returning id",
                user,
            )
            self.templates[goal] = row["id"]
        return self.templates[goal]

    def member(self, goal: str = "fat_loss", *, sex: str = "male", tz: str = "UTC") -> Member:
        template = self.template(goal)
        user = create_user(self.conn, f"r-{uuid.uuid4().hex[:10]}@example.test")
        self.conn.execute(
            "update public.profiles set sex = %s, timezone = %s where id = %s", (sex, tz, user)
        )
        today: dt.date = _one(self.conn, "select (now() at time zone %s)::date as d", tz)["d"]
        program = _one(
            self.conn,
            "insert into public.programs (user_id, version, source, primary_goal,"
            " program_start_date, program_duration_weeks, next_reassessment_date, status, tdee,"
            " macros, safety, feasibility, provenance, full_bundle)"
            " select %s, 1, 'onboarding', t.primary_goal, %s, t.program_duration_weeks, %s,"
            " 'active', t.tdee, t.macros, t.safety, t.feasibility, t.provenance, t.full_bundle"
            " from public.programs as t where t.id = %s returning id",
            user,
            today - dt.timedelta(days=14),
            today,
            template,
        )["id"]
        return Member(user, program, tz, today)

    # ---------------------------------------------------------------- logs (real tables)

    def weigh(self, m: Member, day: dt.date, kg: float, hour: int = 7) -> None:
        self.conn.execute(
            "insert into public.body_metrics (user_id, measured_at, weight_kg)"
            " values (%s, (%s::date + make_interval(hours => %s)) at time zone %s, %s)",
            (m.id, day, hour, m.tz, kg),
        )

    def meal(self, m: Member, day: dt.date, food: uuid.UUID, grams: float, hour: int = 12) -> None:
        meal = _one(
            self.conn,
            "insert into public.meals (user_id, logged_at, meal_type)"
            " values (%s, (%s::date + make_interval(hours => %s)) at time zone %s, 'lunch')"
            " returning id",
            m.id,
            day,
            hour,
            m.tz,
        )["id"]
        self.conn.execute(
            "insert into public.meal_items (meal_id, user_id, food_id, grams)"
            " values (%s, %s, %s, %s)",
            (meal, m.id, food, grams),
        )

    def adherence(self, m: Member, day: dt.date, kind: str, **counts: int) -> None:
        self.conn.execute(
            "insert into public.adherence_daily (user_id, date, kind, planned_items,"
            " completed_items, similar_items, partial_items, skipped_items)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                m.id,
                day,
                kind,
                max(1, sum(counts.values())),
                counts.get("completed", 0),
                counts.get("similar", 0),
                counts.get("partial", 0),
                counts.get("skipped", 0),
            ),
        )

    def context(self, m: Member, day: dt.date, soreness: int, stress: int) -> None:
        self.conn.execute(
            "insert into public.user_context_log (user_id, date, soreness_level, stress_level)"
            " values (%s, %s, %s, %s)",
            (m.id, day, soreness, stress),
        )

    def lift(self, m: Member, day: dt.date, sets: list[tuple[float, int, bool]]) -> None:
        """A strength activity on ``day`` with CHEST_PRESS sets (kg, reps, warm-up)."""
        activity = _one(
            self.conn,
            "insert into public.activities (user_id, category, name, start_time,"
            " duration_minutes) values (%s, 'strength', 'Push',"
            " (%s::date + interval '18 hours') at time zone %s, 60) returning id",
            m.id,
            day,
            m.tz,
        )["id"]
        for number, (kg, reps, warmup) in enumerate(sets, start=1):
            self.conn.execute(
                "insert into public.exercise_sets (activity_id, user_id, exercise_id,"
                " set_number, reps, weight_kg, is_warmup) values (%s, %s, %s, %s, %s, %s, %s)",
                (activity, m.id, CHEST_PRESS, number, reps, kg, warmup),
            )

    def food(self) -> tuple[uuid.UUID, Decimal]:
        row = _one(
            self.conn,
            "select id, kcal_per_100g from public.foods where kcal_per_100g between 100 and 400"
            " order by id limit 1",
        )
        return row["id"], row["kcal_per_100g"]

    def steady_logs(self, m: Member, weights: list[float], kcal_grams: float) -> None:
        """A weigh-in every day of ``weights`` (index = period day; day -1 first), lunch on
        12 days, full adherence."""
        food, _ = self.food()
        for i, kg in enumerate(weights, start=-1):
            self.weigh(m, m.day(i), kg)
        for i in range(12):
            self.meal(m, m.day(i), food, kcal_grams)
        for i in range(0, 14, 2):
            self.adherence(m, m.day(i), "session", completed=1)
        for i in range(14):
            self.adherence(m, m.day(i), "meal", completed=3)

    def jobs(self, *programs: uuid.UUID) -> list[dict[str, Any]]:
        return _all(
            self.conn,
            "select * from private.reassessment_jobs where program_id = any(%s) order by id",
            list(programs),
        )

    def count(self, table: str, program: uuid.UUID) -> int:
        column = "ref_id" if table == "notifications" else "program_id"
        return int(
            _one(
                self.conn,
                f"select count(*) as n from public.{table} where {column} = %s",  # noqa: S608
                program,
            )["n"]
        )


@pytest.fixture
def world(fresh_db: str) -> Iterator[World]:
    w = World(fresh_db)
    try:
        yield w
    finally:
        w.conn.close()


def worker(world: World, name: str = "w1", batch_size: int = 100) -> BatchResult:
    with connect(world.url) as conn:
        return run_until_empty(conn, name, batch_size)


# ---------------------------------------------------------------------------- aggregate


def test_the_aggregate_of_a_crafted_period_matches_hand_computed_values(world: World) -> None:
    m = world.member(tz="America/New_York")
    food, kcal_per_100g = world.food()
    # Weigh-ins (local 07:00; one at 23:30 local = the next UTC day, still the local day).
    world.weigh(m, m.day(-20), 81.0)
    world.weigh(m, m.day(-30), 82.0)  # more than 28 days before the period: not read
    world.weigh(m, m.day(0), 80.4)
    world.weigh(m, m.day(5), 80.1, hour=23)
    world.weigh(m, m.day(14), 79.0)  # the day after the period: not read
    # Meals: two on day 1 (one at 22:00 local = next UTC day), one on day 3; one after.
    world.meal(m, m.day(1), food, 200)
    world.meal(m, m.day(1), food, 150, hour=22)
    world.meal(m, m.day(3), food, 300)
    world.meal(m, m.day(14), food, 500)
    # Adherence rollups: sessions 2 completed + 1 similar + 1 partial + 1 skipped.
    world.adherence(m, m.day(0), "session", completed=2)
    world.adherence(m, m.day(2), "session", similar=1, partial=1, skipped=1)
    world.adherence(m, m.day(0), "meal", completed=3, skipped=1)
    world.adherence(m, m.day(15), "meal", skipped=4)  # after the period
    # Context: soreness 4 and 7, stress 3 and 6.
    world.context(m, m.day(2), soreness=4, stress=3)
    world.context(m, m.day(9), soreness=7, stress=6)
    # Chest press: week 1 best e1RM 100 x 5 (a heavier warm-up and a 12-rep set do not count),
    # week 2 best 105 x 5.
    world.lift(m, m.day(1), [(120, 3, True), (100, 5, False), (90, 12, False)])
    world.lift(m, m.day(8), [(105, 5, False), (100, 6, False)])
    assert enqueue_due(world.conn) == 1
    job = world.jobs(m.program)[0]
    row = _one(world.conn, "select * from private.reassessment_inputs(%s)", [job["id"]])

    def kcal(grams: int) -> float:
        return float(round(Decimal(grams) * kcal_per_100g / 100, 1))

    assert (row["period_start"], row["period_end"]) == (m.day(0), m.day(13))
    assert row["primary_goal"] == "fat_loss"
    assert row["sex"] == "male"
    assert row["weigh_ins"] == [
        [m.day(-20).isoformat(), 81.0],
        [m.day(0).isoformat(), 80.4],
        [m.day(5).isoformat(), 80.1],
    ]
    assert row["intake"] == [
        [m.day(1).isoformat(), pytest.approx(kcal(200) + kcal(150))],
        [m.day(3).isoformat(), pytest.approx(kcal(300))],
    ]
    assert row["session_adherence"] == pytest.approx(Decimal("3.15") / 5)
    assert row["meal_adherence"] == pytest.approx(Decimal("0.75"))
    assert row["soreness_avg"] == Decimal("5.5")
    assert row["stress_avg"] == Decimal("4.5")
    e1rm_1, e1rm_2 = 100 * (1 + 5 / 30), 105 * (1 + 5 / 30)
    assert row["e1rm_trend_pct"] == {"chest": round(100 * (e1rm_2 / e1rm_1 - 1), 2)}
    template = _one(
        world.conn, "select provenance, macros, tdee from public.programs where id = %s", m.program
    )
    assert row["weekly_sets"] == template["provenance"]["training"]["weeks"][2]["planned_sets"]
    assert row["targets"] == {
        "kcal": template["macros"]["kcal"],
        "protein_g": template["macros"]["protein_g"],
        "carbs_g": template["macros"]["carbs_g"],
        "fat_g": template["macros"]["fat_g"],
    }
    assert row["tdee_kcal"] == template["tdee"]["tdee_kcal_rounded"]
    assert float(row["target_rate_kg_per_week"]) == pytest.approx(
        template["macros"]["calories"]["planned_rate_kg_per_week"]
    )
    assert row["mesocycle_weeks"] == template["provenance"]["training"]["mesocycle_weeks"]
    assert row["weeks_since_deload"] == 2
    assert row["controller_state"] == {}


# ---------------------------------------------------------------------- a full batch


def test_a_batch_writes_the_changes_events_dates_and_notifications(world: World) -> None:
    # Fat loss: the weight holds at 80 kg (the plan wants about -0.56 kg/week) -> fewer kcal.
    loss = world.member("fat_loss")
    world.steady_logs(loss, [80.0] * 15, 1000)
    # Muscle gain: the weight holds too (the plan wants a gain) -> more kcal.
    gain = world.member("muscle_gain", tz="Asia/Tokyo")
    world.steady_logs(gain, [80.0] * 15, 1200)
    # No data at all: nothing changes on calories, and the notification says why.
    idle = world.member("fat_loss", tz="Europe/Berlin")
    assert enqueue_due(world.conn) == 3

    result = worker(world)
    assert (result.claimed, result.done, result.failed, result.dead) == (3, 3, 0, 0)

    for m, sign in ((loss, -1), (gain, 1)):
        cal = _one(
            world.conn,
            "select * from public.plan_change_events where program_id = %s"
            " and change_type = 'calories'",
            m.program,
        )
        old, new = cal["old_value"]["kcal"], cal["new_value"]["kcal"]
        assert (new - old) * sign > 0, (m, old, new)
        terms = cal["controller_terms"]
        e = terms["target_rate_kg_per_week"] - terms["observed_rate_kg_per_week"]
        assert e * sign > 0
        assert terms["error"] == pytest.approx(e, abs=1e-6)
        assert terms["p_term"] == pytest.approx(550 * e, abs=1e-4)
        assert terms["i_term"] == pytest.approx(110 * e, abs=1e-4)  # first period: I = e
        assert abs(new - old) <= 250
        assert cal["entity_type"] == "program"
        assert cal["reassessment_id"] is not None
        assert (cal["period_start"], cal["period_end"]) == (m.day(0), m.day(13))
        if not terms["limits"]:
            raw = terms["confidence"] * (550 * e + 110 * e)
            assert new - old == round_kcal(max(-250, min(250, raw)))
        macros = _one(
            world.conn,
            "select * from public.plan_change_events where program_id = %s"
            " and change_type = 'macros'",
            m.program,
        )
        assert macros["new_value"]["protein_g"] == macros["old_value"]["protein_g"]
        assert (macros["new_value"]["carbs_g"] - macros["old_value"]["carbs_g"]) * sign > 0
        targets = _one(
            world.conn,
            "select * from public.program_effective_targets where program_id = %s",
            m.program,
        )
        assert targets["kcal"] == new
        assert targets["carbs_g"] == macros["new_value"]["carbs_g"]
        assert targets["changed_from"] == m.today
    loss_terms = _one(
        world.conn,
        "select controller_terms from public.plan_change_events where program_id = %s"
        " and change_type = 'calories'",
        loss.program,
    )["controller_terms"]
    # 75 % of the TDEE bounds the fat-loss decrease (DOMAIN §2 deficit cap).
    assert loss_terms["lower_bound_reason"] == "deficit_cap_25pct_tdee"

    for m in (loss, gain, idle):
        r = _one(world.conn, "select * from public.reassessments where program_id = %s", m.program)
        events = world.count("plan_change_events", m.program)
        assert r["changes"] == events
        assert (r["period_start"], r["period_end"]) == (m.day(0), m.day(13))
        assert r["controller_state"]["periods"] == 1
        program = _one(
            world.conn,
            "select next_reassessment_date from public.programs where id = %s",
            m.program,
        )
        assert program["next_reassessment_date"] == m.today + dt.timedelta(days=14)
        notes = _all(
            world.conn,
            "select * from public.notifications where ref_id = %s and kind = 'reassessment'",
            m.program,
        )
        assert len(notes) == 1
        assert notes[0]["ref_table"] == "programs"
        assert notes[0]["user_id"] == m.id
    body = _one(world.conn, "select body from public.notifications where ref_id = %s", loss.program)
    assert "Daily calories:" in body["body"]
    assert "aims at losing" in body["body"]
    idle_row = _one(
        world.conn,
        "select body from public.notifications where ref_id = %s",
        idle.program,
    )
    assert "not enough weigh-ins" in idle_row["body"]
    idle_calories = _all(
        world.conn,
        "select id from public.plan_change_events where program_id = %s"
        " and change_type in ('calories', 'macros')",
        idle.program,
    )
    assert idle_calories == []
    assert {j["status"] for j in world.jobs(loss.program, gain.program, idle.program)} == {"done"}


def test_the_next_period_starts_from_the_stored_controller_state(world: World) -> None:
    m = world.member("fat_loss")
    world.steady_logs(m, [80.0] * 15, 1000)
    enqueue_due(world.conn)
    worker(world)
    first = _one(
        world.conn,
        "select controller_state from public.reassessments where program_id = %s",
        m.program,
    )["controller_state"]
    # Fourteen days later: the program comes due again (as_of two weeks on).
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=14)
    assert enqueue_due(world.conn, later) == 1
    job = world.jobs(m.program)[-1]
    assert (job["period_start"], job["period_end"]) == (m.today, m.today + dt.timedelta(days=13))
    row = _one(world.conn, "select * from private.reassessment_inputs(%s)", [job["id"]])
    assert row["controller_state"] == first
    cal = _one(
        world.conn,
        "select new_value from public.plan_change_events where program_id = %s"
        " and change_type = 'calories'",
        m.program,
    )
    assert row["targets"]["kcal"] == cal["new_value"]["kcal"]  # the changed targets carry on


# ------------------------------------------------------------------------- idempotency


def test_the_same_period_twice_changes_nothing(world: World) -> None:
    m = world.member("fat_loss")
    world.steady_logs(m, [80.0] * 15, 1000)
    assert enqueue_due(world.conn) == 1
    assert worker(world).done == 1
    snapshot = [world.count(t, m.program) for t in ("plan_change_events", "notifications")]
    # The same period again: the queue keeps one job per program and period ...
    world.conn.execute(
        "update public.programs set next_reassessment_date = %s where id = %s",
        (m.today, m.program),
    )
    assert enqueue_due(world.conn) == 0
    # ... and the job itself, run again, only finishes.
    world.conn.execute(
        "update private.reassessment_jobs set status = 'queued', finished_at = null"
        " where program_id = %s",
        (m.program,),
    )
    again = worker(world)
    assert (again.claimed, again.done, again.already_done) == (1, 0, 1)
    assert [world.count(t, m.program) for t in ("plan_change_events", "notifications")] == snapshot
    assert world.count("reassessments", m.program) == 1
    assert world.jobs(m.program)[0]["status"] == "done"
    # The date was put back by hand: the run that changed nothing did not move it.
    program = _one(
        world.conn, "select next_reassessment_date from public.programs where id = %s", m.program
    )
    assert program["next_reassessment_date"] == m.today


def test_the_date_moves_only_when_it_still_is_the_period_end_plus_one(world: World) -> None:
    m = world.member("fat_loss")
    assert enqueue_due(world.conn) == 1
    moved = m.today + dt.timedelta(days=3)
    world.conn.execute(
        "update public.programs set next_reassessment_date = %s where id = %s", (moved, m.program)
    )
    assert worker(world).done == 1
    program = _one(
        world.conn, "select next_reassessment_date from public.programs where id = %s", m.program
    )
    assert program["next_reassessment_date"] == moved


# -------------------------------------------------------------------- concurrent workers


def test_concurrent_workers_process_every_due_program_exactly_once(world: World) -> None:
    members = [world.member("fat_loss" if i % 2 else "muscle_gain") for i in range(36)]
    for m in members[:6]:
        world.steady_logs(m, [80.0 - 0.05 * i for i in range(15)], 1000)
    assert enqueue_due(world.conn) == len(members)
    results: dict[str, BatchResult] = {}
    start = threading.Barrier(3)

    def work(name: str) -> None:
        with connect(world.url) as conn:
            start.wait()
            results[name] = run_until_empty(conn, name, batch_size=4)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.done for r in results.values()) == len(members)
    assert sum(r.claimed for r in results.values()) == len(members)
    assert all(r.failed + r.dead + r.lost + r.already_done == 0 for r in results.values())
    programs = [m.program for m in members]
    per_program = _all(
        world.conn,
        "select p.id, count(r.id) as n, count(distinct n.id) as notes"
        " from public.programs as p"
        " left join public.reassessments as r on r.program_id = p.id"
        " left join public.notifications as n on n.ref_id = p.id"
        " where p.id = any(%s) group by p.id",
        programs,
    )
    assert len(per_program) == len(members)
    assert all(r["n"] == 1 and r["notes"] == 1 for r in per_program)
    jobs = world.jobs(*programs)
    assert {j["status"] for j in jobs} == {"done"}
    assert {j["attempts"] for j in jobs} == {1}
    # The claims interleave: more than one worker got a share.
    assert sum(1 for r in results.values() if r.done) >= 2


# ------------------------------------------------------------- a worker killed mid-batch

KILLED_WORKER = """
import datetime, sys, time
import psycopg
from sharpened.reassessment import worker

write_plans = worker._write_plans

def write_then_hang(*args, **kwargs):
    write_plans(*args, **kwargs)
    print("WRITTEN", True, flush=True)  # the batch's rows exist, uncommitted
    time.sleep(600)

worker._write_plans = write_then_hang
with psycopg.connect(sys.argv[1]) as conn:
    ids = worker.claim(conn, "doomed", 10, datetime.timedelta(seconds=5))
    print("CLAIMED", len(ids), flush=True)
    worker.process(conn, "doomed", ids)
"""


def test_a_worker_killed_mid_batch_leaves_its_jobs_retryable_and_nothing_half_written(
    world: World,
) -> None:
    members = [world.member("fat_loss") for _ in range(4)]
    for m in members:
        world.steady_logs(m, [80.0] * 15, 1000)
    programs = [m.program for m in members]
    assert enqueue_due(world.conn) == 4
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, world.url],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "functions")},
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "CLAIMED 4"
        assert child.stdout.readline().strip() == "WRITTEN True"
        # The rows exist inside its open transaction: it holds the writers' locks.
        writing = _all(
            world.conn,
            "select distinct l.relation::regclass::text as rel from pg_locks as l"
            " inner join pg_stat_activity as a on l.pid = a.pid"
            " where a.state = 'idle in transaction' and a.datname = current_database()"
            " and l.mode = 'RowExclusiveLock'",
        )
        assert {"reassessments", "plan_change_events", "notifications"} <= {
            r["rel"].removeprefix("public.") for r in writing
        }
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    # Nothing was written; the jobs are still the dead worker's, under its lease.
    for table in ("reassessments", "plan_change_events", "notifications"):
        assert sum(world.count(table, p) for p in programs) == 0, table
    jobs = world.jobs(*programs)
    assert {(j["status"], j["locked_by"], j["attempts"]) for j in jobs} == {
        ("running", "doomed", 1)
    }
    # While the lease runs, nobody else can take them; once it has run out, they are retried.
    with connect(world.url) as conn:
        assert run_batch(conn, "rescuer").claimed == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _one(
            world.conn,
            "select bool_and(locked_until < now()) as x from"
            " private.reassessment_jobs where program_id = any(%s)",
            programs,
        )["x"]:
            break
        time.sleep(0.2)
    problems = _all(
        world.conn,
        "select program_id from private.reassessment_job_problems where program_id = any(%s)",
        programs,
    )
    assert len(problems) == 4  # running with an expired lease: the operators see them
    rescued = worker(world, "rescuer")
    assert (rescued.claimed, rescued.done) == (4, 4)
    for p in programs:
        assert world.count("reassessments", p) == 1
        assert world.count("notifications", p) == 1
    assert {(j["status"], j["attempts"]) for j in world.jobs(*programs)} == {("done", 2)}


# -------------------------------------------------------------------- failures and retries


def test_failures_retry_with_backoff_then_die_and_show_up_for_operators(world: World) -> None:
    broken = world.member("fat_loss")
    world.conn.execute("update public.profiles set sex = null where id = %s", (broken.id,))
    assert enqueue_due(world.conn) == 1
    for attempt in range(1, 6):
        with connect(world.url) as conn:
            result = run_batch(conn, "w")
        assert result.claimed == 1
        job = world.jobs(broken.program)[0]
        assert job["attempts"] == attempt
        assert "has no sex" in job["last_error"]
        if attempt < 5:
            assert (result.failed, result.dead, job["status"]) == (1, 0, "failed")
            delay = _one(
                world.conn,
                "select extract(epoch from run_after - updated_at) as s"
                " from private.reassessment_jobs where id = %s",
                job["id"],
            )["s"]
            assert float(delay) == pytest.approx(60 * 2**attempt, abs=1)
            with connect(world.url) as conn:
                assert run_batch(conn, "w").claimed == 0  # not before its time
            # Time passes.
            world.conn.execute(
                "update private.reassessment_jobs set run_after = now() where id = %s",
                (job["id"],),
            )
        else:
            assert (result.failed, result.dead, job["status"]) == (0, 1, "dead")
    problem = _one(
        world.conn,
        "select status, attempts, last_error from private.reassessment_job_problems"
        " where program_id = %s",
        broken.program,
    )
    assert problem["status"] == "dead"
    assert problem["attempts"] == 5
    world.conn.execute(
        "update private.reassessment_jobs set run_after = now() - interval '1 hour'"
        " where program_id = %s",
        (broken.program,),
    )
    with connect(world.url) as conn:
        assert run_batch(conn, "w").claimed == 0  # dead jobs stay dead
    assert world.count("reassessments", broken.program) == 0


def test_a_job_whose_write_fails_is_rolled_back_alone(world: World) -> None:
    members = [world.member("fat_loss") for _ in range(3)]
    for m in members:
        world.steady_logs(m, [80.0] * 15, 1000)
    assert enqueue_due(world.conn) == 3
    bad_program = members[1].program

    def planner(row: Mapping[str, Any]) -> JobPlan:
        plan = plan_job(row)
        if row["program_id"] == bad_program:
            # An event the table refuses (the reason code check), after the reassessment row.
            events = [*plan.events, {**plan.events[0], "reason_code": "Not A Slug"}]
            return dataclasses.replace(plan, events=events)
        return plan

    with connect(world.url) as conn:
        ids = claim(conn, "w", 10)
        result = process(conn, "w", ids, planner=planner)
    assert (result.done, result.failed) == (2, 1)
    assert world.count("reassessments", bad_program) == 0
    assert world.count("plan_change_events", bad_program) == 0
    assert world.count("notifications", bad_program) == 0
    bad_job = world.jobs(bad_program)[0]
    assert bad_job["status"] == "failed"
    assert "check constraint" in bad_job["last_error"]
    for m in (members[0], members[2]):
        assert world.count("reassessments", m.program) == 1
        assert world.count("notifications", m.program) == 1


def test_a_job_taken_over_by_another_worker_writes_nothing(world: World) -> None:
    m = world.member("fat_loss")
    assert enqueue_due(world.conn) == 1
    with connect(world.url) as conn:
        ids = claim(conn, "slow", 1)
        # The lease runs out and another worker takes the job over before "slow" writes.
        world.conn.execute(
            "update private.reassessment_jobs set locked_until = now() - interval '1 second'"
            " where id = %s",
            (ids[0],),
        )
        with connect(world.url) as other:
            assert claim(other, "fast", 1) == ids
        result = process(conn, "slow", ids)
    assert (result.done, result.lost) == (0, 1)
    assert world.count("reassessments", m.program) == 0
    assert world.jobs(m.program)[0]["locked_by"] == "fast"


# ------------------------------------------------------------------------------- RLS


def test_users_read_only_their_own_reassessments_changes_and_notifications(world: World) -> None:
    a, b = world.member("fat_loss"), world.member("muscle_gain")
    world.steady_logs(a, [80.0] * 15, 1000)
    world.steady_logs(b, [80.0] * 15, 1000)
    enqueue_due(world.conn)
    assert worker(world).done == 2
    with connect(world.url) as conn:
        for me, other in ((a, b), (b, a)):
            with conn.transaction():
                begin_request(conn, "authenticated", user_claims(me.id), method="GET")
                for table in ("reassessments", "plan_change_events", "notifications"):
                    rows = _all(conn, f"select user_id from public.{table}")  # noqa: S608
                    assert rows, table
                    assert {r["user_id"] for r in rows} == {me.id}, table
                targets = _all(conn, "select program_id from public.program_effective_targets")
                assert [t["program_id"] for t in targets] == [me.program]
                assert (
                    _all(conn, "select id from public.reassessments where user_id = %s", other.id)
                    == []
                )
            for statement, params in (
                (
                    "insert into public.reassessments (user_id, program_id, period_start,"
                    " period_end, inputs, outcome, controller_state, changes)"
                    " values (%s, %s, current_date, current_date, '{}', '{}', '{}', 0)",
                    (me.id, me.program),
                ),
                ("select * from private.reassessment_jobs", ()),
                ("select private.request_reassessment()", ()),
            ):
                _refused(conn, me.id, statement, params)


def _refused(
    conn: psycopg.Connection[Any], user: uuid.UUID, statement: str, params: tuple[Any, ...]
) -> None:
    """``statement`` as the user (PostgREST's prelude) fails for lack of privilege."""
    with conn.transaction():
        begin_request(conn, "authenticated", user_claims(user), method="POST")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(statement, params)


def test_the_stored_inputs_and_outcome_explain_the_change(world: World) -> None:
    m = world.member("fat_loss")
    world.steady_logs(m, [80.0] * 15, 1000)
    enqueue_due(world.conn)
    worker(world)
    r = _one(world.conn, "select * from public.reassessments where program_id = %s", m.program)
    assert len(r["inputs"]["weigh_ins"]) == 15
    assert len(r["inputs"]["intake"]) == 12
    measured = r["outcome"]["measurements"]
    assert measured["weigh_in_days"] == 14
    assert measured["intake_days"] == 12
    assert measured["confidence"] == 1
    assert measured["observed_rate_kg_per_week"] == pytest.approx(0, abs=1e-9)
    assert [c["change_type"] for c in r["outcome"]["changes"]][:2] == ["calories", "macros"]
    assert json.dumps(r["outcome"])  # plain JSON
