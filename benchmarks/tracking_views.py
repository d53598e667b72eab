"""The tracking views (issue 6, item 5) for one user with a year of history among 1,000 users.

The history is generated set-based in SQL on a throwaway database: 1,000 users (profiles in four
time zones), each with five successive 12-week programs (the last one in force today) laid out on
the calendar (4 training days a week with 5 exercises, 4 planned meals a day with 2 foods), a
year of logged meals (4 a day with 2-3 foods), activities (4 a week with 12 sets, the first a
warm-up) and weekly adherence rollups. The project's triggers are off while bulk-loading
(``session_replication_role = replica``); local dates and meal totals are filled set-based as
the triggers would, then the tables are analysed.

Each query then runs as one user the way PostgREST serves a GET
(``benchmarks.common.postgrest_get``: a read-only transaction, the prelude with role
``authenticated`` and ``request.jwt.claims``, and the query inside PostgREST's statement, which
aggregates the rows into the JSON body on the server), 250 times after 250 that warm the cache
and the plan:
nutrition_today, calendar_day for today and for the user's next training day (today when it is
one: a training event adds the session's exercises with their effective sets),
muscle_volume_weekly for this week, exercise_records and adherence_summary for the last four
weeks. Baseline: ``select 1``, served the same way.
Target (issue 6): the 'today' views answer in under 5 ms at p95.

Run: ``make bench`` (or ``.venv/bin/python -m benchmarks.tracking_views``).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from benchmarks.common import Figure, postgrest_get, summary, throwaway_database
from sharpened.auth import user_claims

USERS = 1000
RUNS = 250
TARGET_P95_MS = 5.0
BULK_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "maintenance_work_mem": "256MB",
}

# Set-up (one session), then two lists of steps run side by side on two sessions (the plan and
# the logs), then ANALYZE. Staging tables live in the unlogged schema "bench"; ids are sequential
# (bench.id) rather than gen_random_uuid(), which is slow in bulk.
SETUP = """
create schema bench;
-- Calendar events of days before decided_before are stored as the hourly closing job leaves
-- them (completed); the others, and all of them by default, planned.
create unlogged table bench.config as
select current_setting('bench.decided_before')::date as decided_before;
create function bench.status(day date) returns text
language sql stable
as $$
    select case when day < c.decided_before then 'completed' else 'planned' end
    from bench.config as c
$$;
create function bench.id(tag integer, n bigint) returns uuid
language sql immutable
as $$ select (lpad(to_hex(tag), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;
create unlogged table bench.users as
select n, gen_random_uuid() as id,
    (array['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + n % 4] as tz
from generate_series(0, current_setting('bench.users')::integer - 1) as n;
insert into auth.users (
    instance_id, id, aud, role, email, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
select '00000000-0000-0000-0000-000000000000', id, 'authenticated', 'authenticated',
    'bench-' || n || '@example.test', now(),
    '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
from bench.users;
-- Triggers off from here on (the time zone check of profiles is slow in bulk).
set session_replication_role = replica;
update public.profiles as p set timezone = u.tz from bench.users as u where p.id = u.id;
create unlogged table bench.exercises as
select row_number() over (order by id) - 1 as k, id
from public.exercises
where category = 'strength' and mechanic = 'compound'
order by id
limit 20;
create unlogged table bench.foods as
select row_number() over (order by id) - 1 as k, id, kcal_per_100g, protein_g_per_100g,
    carbs_g_per_100g, fat_g_per_100g
from public.foods
order by id
limit 50;
create unlogged table bench.programs as
select u.id as user_id, k, bench.id(0, u.n * 5 + k) as id, current_date - 356 + 84 * k as start
from bench.users as u cross join generate_series(0, 4) as k;
insert into public.programs (
    id, user_id, version, source, primary_goal, program_start_date,
    program_duration_weeks, status, tdee, macros, safety, feasibility, provenance, full_bundle
)
select id, user_id, k + 1, 'onboarding', 'fat_loss', start, 12,
    case when k = 4 then 'active' else 'superseded' end,
    '{}', '{"kcal": 2200}', '{}', '{}', '{}', '{}'
from bench.programs;
"""

BULK_INDEXES = """
select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
from pg_index as i
where
    i.indrelid = any(array[
        'public.exercise_plan_items', 'public.meal_instances', 'public.meal_item_plan',
        'public.calendar_events', 'public.meals', 'public.meal_items', 'public.exercise_sets',
        'public.session_instances', 'public.activities'
    ]::regclass[])
    and not exists (select from pg_constraint as c where c.conindid = i.indexrelid)
order by 1
"""

PLAN_STEPS: tuple[tuple[str, str], ...] = (
    (
        "planned sessions, exercises and their calendar events",
        """
        create unlogged table bench.sessions as
        select bench.id(1, row_number() over ()) as id, p.id as program_id, p.user_id, w, d,
            p.start + 7 * w + d as day
        from bench.programs as p
        cross join generate_series(0, 11) as w
        cross join unnest(array[0, 1, 3, 4]) as d;
        insert into public.session_instances (
            id, program_id, user_id, week_index, day_index, session_kind, title,
            planned_duration_minutes, time_of_day
        )
        select id, program_id, user_id, w, d, 'strength', 'Full body', 60, 'evening'
        from bench.sessions;
        insert into public.exercise_plan_items (
            id, session_instance_id, user_id, order_index, exercise_id, name, sets, reps_min,
            reps_max, target_rir
        )
        select bench.id(5, row_number() over ()), s.id, s.user_id, i, e.id, 'Exercise ' || i, 3,
            6, 12, 2
        from bench.sessions as s
        cross join generate_series(0, 4) as i
        inner join bench.exercises as e on e.k = (s.d * 5 + i) % 20;
        insert into public.calendar_events (
            id, user_id, program_id, date, event_type, ref_table, ref_id, title, time_of_day, status
        )
        select bench.id(6, row_number() over ()), user_id, program_id, day, 'training',
            'session_instances', id, 'Full body', 'evening', bench.status(day)
        from bench.sessions;
        """,
    ),
    (
        "planned meals, foods and their calendar events",
        """
        create unlogged table bench.meals as
        select bench.id(2, row_number() over ()) as id, p.id as program_id, p.user_id, w, d, mt,
            p.start + 7 * w + d as day
        from bench.programs as p
        cross join generate_series(0, 11) as w
        cross join generate_series(0, 6) as d
        cross join unnest(array['breakfast', 'lunch', 'snack', 'dinner']) as mt;
        insert into public.meal_instances (
            id, program_id, user_id, week_index, day_index, meal_type, targets, totals
        )
        select id, program_id, user_id, w, d, mt,
            '{"kcal": 550, "protein_g": 40, "carbs_g": 60, "fat_g": 18}',
            '{"kcal": 548, "protein_g": 39.5, "carbs_g": 61, "fat_g": 17.8}'
        from bench.meals;
        insert into public.meal_item_plan (
            id, meal_instance_id, user_id, food_id, food_name, grams, kcal, protein_g, carbs_g,
            fat_g
        )
        select bench.id(7, row_number() over ()), m.id, m.user_id, f.id, 'Food ' || f.k, 150, 274,
            19.8, 30.5, 8.9
        from bench.meals as m
        cross join generate_series(0, 1) as i
        inner join bench.foods as f on f.k = (m.d * 7 + i * 13) % 50;
        insert into public.calendar_events (
            id, user_id, program_id, date, event_type, ref_table, ref_id, title, time_of_day, status
        )
        select bench.id(8, row_number() over ()), user_id, program_id, day, 'meal',
            'meal_instances', id, initcap(mt),
            case mt when 'breakfast' then 'morning' when 'lunch' then 'midday'
                when 'snack' then 'afternoon' else 'evening' end,
            bench.status(day)
        from bench.meals;
        """,
    ),
)

LOG_STEPS: tuple[tuple[str, str], ...] = (
    (
        "a year of logged meals (4 a day, 2-3 foods) with their totals",
        """
        create unlogged table bench.logged as
        select bench.id(3, row_number() over ()) as id, u.id as user_id, s.mt,
            current_date - dd as day, ((current_date - dd) + s.at) at time zone u.tz as logged_at,
            2 + (random() < 0.5)::integer as items
        from bench.users as u
        cross join generate_series(0, 364) as dd
        cross join (
            values ('breakfast', time '07:30'), ('lunch', time '12:30'), ('snack', time '16:00'),
                ('dinner', time '23:30')
        ) as s (mt, at);
        create unlogged table bench.items as
        select bench.id(9, row_number() over ()) as id, l.id as meal_id, l.user_id,
            f.id as food_id, x.grams,
            round(x.grams * f.kcal_per_100g / 100, 1) as kcal,
            round(x.grams * f.protein_g_per_100g / 100, 1) as protein_g,
            round(x.grams * f.carbs_g_per_100g / 100, 1) as carbs_g,
            round(x.grams * f.fat_g_per_100g / 100, 1) as fat_g
        from bench.logged as l
        cross join lateral (
            select i, (random() * 49)::integer as k, 80 + (random() * 170)::integer as grams
            from generate_series(1, l.items) as i
        ) as x
        inner join bench.foods as f on x.k = f.k;
        insert into public.meals (
            id, user_id, logged_at, meal_type, local_date,
            total_kcal, total_protein_g, total_carbs_g, total_fat_g
        )
        select l.id, l.user_id, l.logged_at, l.mt, l.day, t.kcal, t.protein_g, t.carbs_g, t.fat_g
        from bench.logged as l
        inner join (
            select meal_id, sum(kcal) as kcal, sum(protein_g) as protein_g,
                sum(carbs_g) as carbs_g, sum(fat_g) as fat_g
            from bench.items
            group by meal_id
        ) as t on l.id = t.meal_id;
        insert into public.meal_items (
            id, meal_id, user_id, food_id, grams, kcal, protein_g, carbs_g, fat_g
        )
        select id, meal_id, user_id, food_id, grams, kcal, protein_g, carbs_g, fat_g
        from bench.items;
        """,
    ),
    (
        "a year of activities (4 a week, 12 sets each) and weekly adherence rollups",
        """
        create unlogged table bench.activities as
        select bench.id(4, row_number() over ()) as id, u.id as user_id, current_date - dd as day,
            ((current_date - dd) + time '18:00') at time zone u.tz as start_time, dd
        from bench.users as u
        cross join generate_series(0, 364) as dd
        where dd % 7 in (0, 2, 4, 5);
        insert into public.activities (
            id, user_id, category, name, start_time, duration_minutes, calories_burned, local_date
        )
        select id, user_id, 'strength', 'Workout', start_time, 60,
            250 + (random() * 200)::integer, day
        from bench.activities;
        insert into public.exercise_sets (
            id, activity_id, user_id, exercise_id, set_number, reps, weight_kg, rir, is_warmup
        )
        select bench.id(10, row_number() over ()), a.id, a.user_id, e.id, sn,
            5 + (random() * 7)::integer,
            round((40 + (365 - a.dd) / 6.0 + random() * 20)::numeric, 1), 2, i = 0 and sn = 1
        from bench.activities as a
        cross join generate_series(0, 3) as i
        cross join generate_series(1, 3) as sn
        inner join bench.exercises as e on e.k = (a.dd % 7 * 5 + i) % 20;
        insert into public.adherence_daily (
            user_id, date, kind, planned_items, completed_items, similar_items,
            partial_items, skipped_items
        )
        select u.id, current_date - dd, 'session', 1, (dd % 3 <> 0)::integer, 0, 0,
            (dd % 3 = 0)::integer
        from bench.users as u
        cross join generate_series(0, 364) as dd
        where dd % 7 in (0, 2, 4, 5)
        union all
        select u.id, current_date - dd, 'meal', 4, 2, 1, 0, 1
        from bench.users as u
        cross join generate_series(0, 364) as dd;
        """,
    ),
)


@dataclass
class Timing:
    name: str
    rows: int
    p50_ms: float
    p95_ms: float
    target_ms: float | None = None


@dataclass
class Report:
    users: int
    rows: dict[str, int]
    generation_s: float
    baseline: Timing
    timings: list[Timing] = field(default_factory=list)

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        out = [
            f"{self.users} users, a year of history each: {total:,} rows generated in "
            f"{self.generation_s:.0f} s",
            "  " + ", ".join(f"{name} {count:,}" for name, count in self.rows.items()),
            f"one user, as PostgREST serves a GET, {RUNS} requests each (p50 / p95):",
            f"  baseline select 1: {self.baseline.p50_ms:.2f} / {self.baseline.p95_ms:.2f} ms",
        ]
        for t in self.timings:
            verdict = ""
            if t.target_ms is not None:
                met = "meets" if t.p95_ms < t.target_ms else "MISSES"
                verdict = f" ({met} the p95 < {t.target_ms:.0f} ms target)"
            out.append(f"  {t.name} ({t.rows} rows): {t.p50_ms:.2f} / {t.p95_ms:.2f} ms{verdict}")
        return out

    def figures(self) -> list[Figure]:
        name = f"tracking views, 1 of {self.users:,} users (issue 6)"
        base = self.baseline.p95_ms
        return [
            Figure(
                name,
                f"{t.name}, p95",
                t.p95_ms,
                "ms",
                f"select 1 {base:.2f} ms",
                t.p95_ms / base if base else None,
                "" if t.target_ms is None else f"p95 < {t.target_ms:.0f} ms",
                None if t.target_ms is None else t.p95_ms < t.target_ms,
            )
            for t in self.timings
        ]


def _run_steps(
    url: str, steps: tuple[tuple[str, str], ...], progress: Callable[[str], None]
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")
        for label, sql in steps:
            started = time.perf_counter()
            conn.execute(sql)
            progress(f"  generated {label} in {time.perf_counter() - started:.0f} s")


def generate(
    url: str,
    progress: Callable[[str], None] = print,
    users: int = USERS,
    decided_before: dt.date | None = None,
) -> None:
    """Bulk-load the history of ``users`` users into the database at ``url`` (as postgres).

    ``decided_before``: calendar events of earlier days are stored ``completed``, as the hourly
    closing job leaves them (default: every event ``planned``).
    """
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select set_config('bench.users', %s, false)", (str(users),))
        conn.execute(
            "select set_config('bench.decided_before', %s, false)",
            (str(decided_before or "-infinity"),),
        )
        conn.execute(SETUP)
    progress(
        f"  generated {users} users and their programs in {time.perf_counter() - started:.0f} s"
    )
    # Standard bulk-load practice: the bulk tables' secondary indexes (those backing no
    # constraint) are dropped during the load and rebuilt afterwards with the same definitions.
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = conn.execute(BULK_INDEXES).fetchall()
        for name, _ in indexes:
            conn.execute(f"drop index {name}")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_run_steps, url, steps, progress) for steps in (PLAN_STEPS, LOG_STEPS)
        ]
        for future in futures:
            future.result()
    started = time.perf_counter()
    halves = (
        tuple(("index", d) for _, d in indexes[0::2]),
        tuple(("index", d) for _, d in indexes[1::2]),
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(_run_steps, url, h, lambda _l: None) for h in halves]:
            future.result()
    progress(f"  rebuilt {len(indexes)} indexes in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema bench cascade")
        conn.execute("analyze")
    progress(f"  analysed in {time.perf_counter() - started:.0f} s")


def _time_requests(
    conn: psycopg.Connection[Any], user_id: uuid.UUID, sql: str, params: tuple[Any, ...]
) -> tuple[int, list[float]]:
    claims = user_claims(user_id)
    durations: list[float] = []
    rows = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        rows = postgrest_get(conn, claims, sql, params)
        durations.append(time.perf_counter() - started)
    return rows, durations


def measure(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> tuple[Timing, list[Timing]]:
    """p50/p95 of each view for ``user_id`` and of the ``select 1`` baseline."""
    tz = conn.execute("select timezone from public.profiles where id = %s", (user_id,)).fetchone()
    assert tz is not None
    today = conn.execute("select (now() at time zone %s)::date", (tz[0],)).fetchone()
    assert today is not None
    day: dt.date = today[0]
    monday = day - dt.timedelta(days=day.weekday())
    training = conn.execute(
        "select min(date) from public.calendar_events"
        " where user_id = %s and event_type = 'training' and date >= %s",
        (user_id, day),
    ).fetchone()
    assert training is not None
    assert training[0] is not None
    training_day: dt.date = training[0]
    calendar_day = "select * from public.calendar_day where date = %s order by time_of_day"
    queries: list[tuple[str, str, tuple[Any, ...], float | None]] = [
        ("nutrition_today", "select * from public.nutrition_today", (), TARGET_P95_MS),
        (
            "nutrition_day for today",
            "select * from public.nutrition_day where date = %s",
            (day,),
            TARGET_P95_MS,
        ),
        ("calendar_day for today", calendar_day, (day,), TARGET_P95_MS),
        ("calendar_day for the next training day", calendar_day, (training_day,), TARGET_P95_MS),
        (
            "muscle_volume_weekly for this week",
            "select * from public.muscle_volume_weekly where week_start = %s",
            (monday,),
            None,
        ),
        ("exercise_records", "select * from public.exercise_records", (), None),
        (
            "adherence_summary, last 4 weeks",
            "select * from public.adherence_summary where week_start >= %s order by week_start",
            (monday - dt.timedelta(weeks=3),),
            None,
        ),
    ]
    _time_requests(conn, user_id, "select 1", ())  # warm, as the views below
    _, base = _time_requests(conn, user_id, "select 1", ())
    p50, p95 = summary(base)
    baseline = Timing("select 1", 1, p50, p95)
    timings = []
    for name, sql, params, target in queries:
        _time_requests(conn, user_id, sql, params)  # warm the cache and the plan
        rows, durations = _time_requests(conn, user_id, sql, params)
        p50, p95 = summary(durations)
        timings.append(Timing(name, rows, p50, p95, target))
    return baseline, timings


def count_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    tables = (
        "programs", "session_instances", "exercise_plan_items", "meal_instances",
        "meal_item_plan", "calendar_events", "meals", "meal_items", "activities",
        "exercise_sets", "adherence_daily",
    )  # fmt: skip
    counts = {}
    for table in tables:
        row = conn.execute(f"select count(*) from public.{table}").fetchone()  # noqa: S608
        assert row is not None
        counts[table] = int(row[0])
    return counts


def run(progress: Callable[[str], None] = print) -> Report:
    with throwaway_database(BULK_SETTINGS) as db_url:
        progress(f"tracking views: generating a year of history for {USERS} users")
        started = time.perf_counter()
        generate(db_url, progress)
        generation_s = time.perf_counter() - started
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "select id from auth.users where email = 'bench-1@example.test'"
            ).fetchone()
            assert row is not None
            user_id: uuid.UUID = row[0]
            rows = count_rows(conn)
            conn.rollback()
            baseline, timings = measure(conn, user_id)
            conn.rollback()
    return Report(USERS, rows, generation_s, baseline, timings)


if __name__ == "__main__":
    for line in run().lines():
        print(line)
