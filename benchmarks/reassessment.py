"""The reassess worker (issue 8): 5,000 due programs, each with 14 days of logs.

Set-up, on a throwaway cluster with this checkout deployed: two programs are generated and
stored by the program service (fat loss and muscle gain, the generate-program path); 5,000
users (profiles in four time zones, both sexes) each get an active copy of one of them that
started 14 days ago (so its reassessment is due today), and their 14 days of logs are
generated set-based in the real tables: a weigh-in on most days (plus two in the run-up
before the period) on a noisy trend, three or four logged meals a day with two foods each (meal
and item totals as the triggers compute them), session and meal adherence rollups, a context
log on about half the days, and three strength sessions a week with three exercises of three
sets. The project's triggers are off while bulk-loading (``session_replication_role =
replica``); local dates and totals are filled as the triggers would; then ANALYZE. The queue is
filled by ``private.enqueue_due_reassessments()``.

Measured in the same run:

- the aggregation query alone: ``private.reassessment_inputs`` over all 5,000 jobs in batches
  of 100 (as the worker reads them);
- one worker (one process: ``run_until_empty``, batches of 100, claiming and computing batch
  N+1 on one connection while a thread writes batch N on another) on the whole queue;
- the same worker strictly one step after the other (one connection), on the whole queue again
  (after each run its writes are deleted, the programs made due and the jobs re-queued);
- two such workers (separate processes) on the whole queue again.

Target (issue 8): >= 200 programs reassessed per second with one worker.

Run: ``make bench`` (or ``.venv/bin/python -m benchmarks.reassessment``).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from benchmarks.common import Figure, throwaway_database
from sharpened.auth import user_claims
from sharpened.db import Database
from sharpened.programs.service import ProgramService
from sharpened.reassessment.worker import BatchResult, run_until_empty
from sharpened.users import create_user

PROGRAMS = int(os.environ.get("SHARPENED_BENCH_REASSESS_PROGRAMS", "5000"))
BATCH_SIZE = 100
TARGET_PER_SECOND = 200.0
BULK_SETTINGS = {"shared_buffers": "512MB", "max_wal_size": "4GB", "checkpoint_timeout": "30min"}

ONBOARDING = """
update public.profiles set sex = 'male', date_of_birth = '1994-03-01', height_cm = 178,
    weight_kg = 82, activity_level = 'moderate', primary_goal = %s,
    experience_level = 'intermediate', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 4
where id = %s
"""

# The users, their programs (copies of the two generated ones, started 14 days ago) and 14
# days of logs, set-based. bench.users.n drives every deterministic choice; random() is seeded.
GENERATE = """
select setseed(0.42);
create schema bench;
create unlogged table bench.users as
select n, gen_random_uuid() as id,
    (array['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + n % 4] as tz,
    case when n % 3 = 0 then 'female' else 'male' end as sex
from generate_series(0, current_setting('bench.programs')::integer - 1) as n;
insert into auth.users (
    instance_id, id, aud, role, email, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
select '00000000-0000-0000-0000-000000000000', id, 'authenticated', 'authenticated',
    'reassess-' || n || '@example.test', now(),
    '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
from bench.users;
set session_replication_role = replica;
update public.profiles as p set timezone = u.tz, sex = u.sex
from bench.users as u where p.id = u.id;
create unlogged table bench.periods as
select u.n, u.id as user_id, u.tz, (now() at time zone u.tz)::date - 14 as start,
    case when u.n % 2 = 0 then 'fat_loss' else 'muscle_gain' end as goal,
    70 + (u.n % 30) as weight
from bench.users as u;
insert into public.programs (
    user_id, version, source, primary_goal, program_start_date, program_duration_weeks,
    next_reassessment_date, status, tdee, macros, safety, feasibility, provenance, full_bundle
)
select b.user_id, 1, 'onboarding', t.primary_goal, b.start, t.program_duration_weeks,
    b.start + 14, 'active', t.tdee, t.macros, t.safety, t.feasibility, t.provenance,
    t.full_bundle
from bench.periods as b
inner join public.programs as t on t.id = (
    case b.goal when 'fat_loss' then current_setting('bench.loss')
        else current_setting('bench.gain') end
)::uuid;
-- Weigh-ins: two in the run-up, then on ~80 % of the period's days, on a slope with noise.
insert into public.body_metrics (user_id, measured_at, weight_kg, source)
select b.user_id,
    (b.start + d + time '07:00' + make_interval(mins => (random() * 60)::integer))
    at time zone b.tz,
    round((b.weight + case b.goal when 'fat_loss' then -0.04 else 0.02 end * d
        + (random() - 0.5) * 0.8)::numeric, 2),
    'device'
from bench.periods as b
cross join generate_series(-10, 13) as d
where d in (-10, -3) or (d >= 0 and random() < 0.8);
-- Meals: 3-4 a day on ~90 % of days, two foods each, totals as the triggers compute them.
create unlogged table bench.foods as
select row_number() over (order by id) - 1 as k, id, kcal_per_100g, protein_g_per_100g,
    carbs_g_per_100g, fat_g_per_100g
from public.foods
where kcal_per_100g between 50 and 400
order by id
limit 60;
create unlogged table bench.meals as
select gen_random_uuid() as id, b.user_id, s.mt, b.start + d as day,
    (b.start + d + s.at) at time zone b.tz as logged_at
from bench.periods as b
cross join generate_series(0, 13) as d
cross join (
    values ('breakfast', time '07:30'), ('lunch', time '12:30'), ('snack', time '16:00'),
        ('dinner', time '19:30')
) as s (mt, at)
where random() < case s.mt when 'snack' then 0.5 else 0.9 end;
create unlogged table bench.items as
select gen_random_uuid() as id, m.id as meal_id, m.user_id, f.id as food_id, x.grams,
    round(x.grams * f.kcal_per_100g / 100, 1) as kcal,
    round(x.grams * f.protein_g_per_100g / 100, 1) as protein_g,
    round(x.grams * f.carbs_g_per_100g / 100, 1) as carbs_g,
    round(x.grams * f.fat_g_per_100g / 100, 1) as fat_g
from bench.meals as m
cross join lateral (
    select i, (random() * 59)::integer as k, 100 + (random() * 200)::integer as grams
    from generate_series(1, 2) as i
) as x
inner join bench.foods as f on x.k = f.k;
insert into public.meals (
    id, user_id, logged_at, meal_type, local_date,
    total_kcal, total_protein_g, total_carbs_g, total_fat_g
)
select m.id, m.user_id, m.logged_at, m.mt, m.day, t.kcal, t.protein_g, t.carbs_g, t.fat_g
from bench.meals as m
inner join (
    select meal_id, sum(kcal) as kcal, sum(protein_g) as protein_g, sum(carbs_g) as carbs_g,
        sum(fat_g) as fat_g
    from bench.items
    group by meal_id
) as t on m.id = t.meal_id;
insert into public.meal_items (
    id, meal_id, user_id, food_id, grams, kcal, protein_g, carbs_g, fat_g
)
select id, meal_id, user_id, food_id, grams, kcal, protein_g, carbs_g, fat_g
from bench.items;
-- Adherence rollups: three sessions a week, four meals a day.
insert into public.adherence_daily (
    user_id, date, kind, planned_items, completed_items, similar_items, partial_items,
    skipped_items
)
select b.user_id, b.start + d, k.kind, k.planned,
    k.planned - s.missed, 0, s.missed, 0
from bench.periods as b
cross join generate_series(0, 13) as d
cross join (values ('session', 1), ('meal', 4)) as k (kind, planned)
cross join lateral (select (random() < 0.15)::integer as missed) as s
where k.kind = 'meal' or d % 7 in (0, 2, 4);
-- Context log on about half the days.
insert into public.user_context_log (user_id, date, sleep_hours, stress_level, soreness_level)
select b.user_id, b.start + d, 7, 2 + (random() * 5)::integer, 1 + (random() * 6)::integer
from bench.periods as b
cross join generate_series(0, 13) as d
where random() < 0.5;
-- Strength sessions: three a week, three catalogue exercises of three sets, slowly stronger.
create unlogged table bench.exercises as
select row_number() over (order by id) - 1 as k, id
from public.exercises
where category = 'strength' and mechanic = 'compound'
order by id
limit 12;
create unlogged table bench.activities as
select gen_random_uuid() as id, b.user_id, b.start + d as day, d, b.n,
    (b.start + d + time '18:00') at time zone b.tz as start_time
from bench.periods as b
cross join generate_series(0, 13) as d
where d % 7 in (0, 2, 4);
insert into public.activities (
    id, user_id, category, name, start_time, duration_minutes, calories_burned, local_date
)
select id, user_id, 'strength', 'Workout', start_time, 60, 300, day
from bench.activities;
insert into public.exercise_sets (
    id, activity_id, user_id, exercise_id, set_number, reps, weight_kg, rir, is_warmup
)
select gen_random_uuid(), a.id, a.user_id, e.id, sn, 6 + (random() * 4)::integer,
    round((40 + a.d * 0.5 + random() * 5)::numeric, 1), 2, false
from bench.activities as a
cross join generate_series(0, 2) as i
cross join generate_series(1, 3) as sn
inner join bench.exercises as e on e.k = (a.n + a.d % 7 * 3 + i) % 12;
"""

COUNTED = (
    "programs", "body_metrics", "meals", "meal_items", "adherence_daily", "user_context_log",
    "activities", "exercise_sets",
)  # fmt: skip

RESET = """
delete from public.notifications where kind = 'reassessment';
delete from public.reassessments;
update public.programs set next_reassessment_date = program_start_date + 14
where status = 'active';
update private.reassessment_jobs set status = 'queued', attempts = 0, run_after = now(),
    locked_by = null, locked_until = null, last_error = null, finished_at = null;
"""


@dataclass
class Report:
    programs: int
    rows: dict[str, int]
    generation_s: float
    aggregate_s: float
    one: BatchResult
    serial: BatchResult
    two: BatchResult
    two_wall_s: float

    def lines(self) -> list[str]:
        one_rate = self.one.done / self.one.seconds
        two_rate = self.two.done / self.two_wall_s
        aggregate_rate = self.programs / self.aggregate_s
        met = "meets" if one_rate >= TARGET_PER_SECOND else "MISSES"
        return [
            f"{self.programs:,} due programs, 14 days of logs each: "
            f"{sum(self.rows.values()):,} rows generated in {self.generation_s:.0f} s",
            "  " + ", ".join(f"{name} {count:,}" for name, count in self.rows.items()),
            f"aggregation query alone (private.reassessment_inputs, batches of {BATCH_SIZE}): "
            f"{self.aggregate_s:.2f} s ({aggregate_rate:.0f} programs/s, "
            f"{1000 * self.aggregate_s / self.programs:.2f} ms/program)",
            f"one worker: {self.one.done:,} programs in {self.one.seconds:.2f} s = "
            f"{one_rate:.0f} programs/s ({met} the >= {TARGET_PER_SECOND:.0f}/s target); "
            f"{self.one.changes:,} plan changes, {self.one.failed + self.one.dead} failed",
            f"  (one process: claims and computes batch N+1 on one connection while a thread "
            f"writes batch N on another; strictly one after the other: "
            f"{self.serial.done / self.serial.seconds:.0f} programs/s)",
            f"two workers (processes): {self.two.done:,} programs in {self.two_wall_s:.2f} s = "
            f"{two_rate:.0f} programs/s; {self.two.failed + self.two.dead} failed, "
            f"{self.two.already_done} already done",
        ]

    def figures(self) -> list[Figure]:
        name = f"reassessment, {self.programs:,} due programs (issue 8)"
        one = self.one.done / self.one.seconds
        serial = self.serial.done / self.serial.seconds
        two = self.two.done / self.two_wall_s
        aggregate = self.programs / self.aggregate_s
        return [
            Figure(
                name, "one worker", one, "programs/s",
                f"aggregation query alone {aggregate:,.0f}/s", one / aggregate,
                f">= {TARGET_PER_SECOND:.0f}/s", one >= TARGET_PER_SECOND,
            ),
            Figure(
                name, "one worker, steps strictly serial", serial, "programs/s",
                f"one worker {one:,.0f}/s", serial / one,
            ),
            Figure(
                name, "two workers (processes)", two, "programs/s",
                f"one worker {one:,.0f}/s", two / one,
            ),
        ]  # fmt: skip


def _template(url: str, goal: str) -> uuid.UUID:
    """A program generated and stored by the program service, then archived (a template)."""
    with psycopg.connect(url) as conn:
        user = create_user(conn, f"template-{goal}@example.test")
        conn.execute(ONBOARDING, (goal, user))
    db = Database(url, min_size=1, max_size=2)
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
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "update public.programs set status = 'archived' where user_id = %s returning id",
            (user,),
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def generate(url: str, progress: Callable[[str], None], programs: int = PROGRAMS) -> dict[str, int]:
    loss, gain = _template(url, "fat_loss"), _template(url, "muscle_gain")
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in (("programs", programs), ("loss", loss), ("gain", gain)):
            conn.execute("select set_config(%s, %s, false)", (f"bench.{name}", str(value)))
        started = time.perf_counter()
        conn.execute(GENERATE)
        progress(
            f"  generated the programs and their logs in {time.perf_counter() - started:.0f} s"
        )
        conn.execute("set session_replication_role = origin")
        conn.execute("drop schema bench cascade")
        conn.execute("analyze")
        queued = conn.execute("select private.enqueue_due_reassessments()").fetchone()
        assert queued is not None
        if queued[0] != programs:
            raise RuntimeError(f"{queued[0]} programs due, expected {programs}")
        rows = {}
        for table in COUNTED:
            row = conn.execute(f"select count(*) from public.{table}").fetchone()  # noqa: S608
            assert row is not None
            rows[table] = int(row[0]) - (2 if table == "programs" else 0)
    return rows


def time_aggregate(url: str) -> float:
    """All jobs' inputs read in batches of BATCH_SIZE (after one warm-up batch)."""
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("select id from private.reassessment_jobs order by id")]
        conn.execute("select * from private.reassessment_inputs(%s)", (ids[:BATCH_SIZE],))
        conn.rollback()
        started = time.perf_counter()
        for i in range(0, len(ids), BATCH_SIZE):
            rows = conn.execute(
                "select * from private.reassessment_inputs(%s)", (ids[i : i + BATCH_SIZE],)
            ).fetchall()
            assert len(rows) == len(ids[i : i + BATCH_SIZE])
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed


def _one_worker(url: str, name: str, *, overlap: bool = True) -> BatchResult:
    with psycopg.connect(url) as conn, psycopg.connect(url) as writer:
        return run_until_empty(conn, name, BATCH_SIZE, writer=writer if overlap else None)


def _process_worker(url: str, name: str, go: Any, results: Any) -> None:
    try:
        with psycopg.connect(url) as conn, psycopg.connect(url) as writer:
            conn.execute("select 1")
            conn.rollback()
            go.wait()
            result = run_until_empty(conn, name, BATCH_SIZE, writer=writer)
        results.put((result, time.time()))
    except BaseException as exc:
        results.put((f"{type(exc).__name__}: {exc}", time.time()))
        raise


def two_workers(url: str) -> tuple[BatchResult, float]:
    """Two worker processes started together; (their summed result, wall time)."""
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_process_worker, args=(url, f"bench-{i}", go, results)) for i in range(2)
    ]
    for p in processes:
        p.start()
    time.sleep(3)  # both have imported, connected and wait
    started = time.time()
    go.set()
    total = BatchResult()
    ends = []
    for _ in processes:
        result, ended = results.get(timeout=600)
        if not isinstance(result, BatchResult):
            raise RuntimeError(f"a worker process failed: {result}")
        total.add(result)
        ends.append(ended)
    for p in processes:
        p.join(30)
    return total, max(ends) - started


def run(progress: Callable[[str], None] = print) -> Report:
    with throwaway_database(BULK_SETTINGS) as url:
        progress(f"reassessment: generating {PROGRAMS} due programs with 14 days of logs")
        started = time.perf_counter()
        rows = generate(url, progress)
        generation_s = time.perf_counter() - started
        aggregate_s = time_aggregate(url)
        progress(f"  aggregation alone: {aggregate_s:.2f} s")
        one = _one_worker(url, "bench-single")
        progress(f"  one worker: {one.done} done in {one.seconds:.2f} s")
        if one.done != PROGRAMS:
            raise RuntimeError(f"one worker: {one}")
        _reset(url)
        serial = _one_worker(url, "bench-serial", overlap=False)
        progress(f"  one worker, no overlap: {serial.done} done in {serial.seconds:.2f} s")
        if serial.done != PROGRAMS:
            raise RuntimeError(f"one worker, no overlap: {serial}")
        _reset(url)
        two, wall = two_workers(url)
        progress(f"  two workers: {two.done} done in {wall:.2f} s")
        if two.done != PROGRAMS:
            raise RuntimeError(f"two workers: {two}")
    return Report(PROGRAMS, rows, generation_s, aggregate_s, one, serial, two, wall)


def _reset(url: str) -> None:
    """The first run's writes deleted, the programs due and the jobs queued again."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RESET)
        conn.execute("vacuum analyze")


if __name__ == "__main__":
    for line in run().lines():
        print(line)
