"""Scale benchmark (issue 9, item 7): the same queries at 1x and at FACTOR x the benchmark data.

For each scale, in one run and one after the other, a throwaway cluster is built with:

* the tracking-views history (``benchmarks.tracking_views.generate``): 1,000 users x scale, each
  with five 12-week programs laid out on the calendar and a year of logged meals, activities,
  sets and weekly rollups; the calendar as the hourly closing job would have left it (every
  event before yesterday decided, ``completed``; the others ``planned``);
* the reassessment set (``benchmarks.reassessment.generate``): 5,000 x scale due programs with
  14 days of logs each, queued by ``private.enqueue_due_reassessments()``.

Both are bulk-loaded set-based (generate_series, project triggers off with
``session_replication_role = replica``, secondary indexes rebuilt after the load), then ANALYZE.

Measured at each scale (the same statements, the same user or sample):

* the tracking views for one user as PostgREST serves a GET (``benchmarks.common.postgrest_get``,
  ``RUNS`` requests each, after a warm-up), and the ``select 1`` baseline served the same way;
* meal logs (POST /meals + POST /meal_items, 3 planned foods, as ``benchmarks.logging_throughput``
  sends them) for today's planned meals of ``LOG_USERS`` users, one connection, triggers off
  (rows deleted again) then on: ms a log;
* the reassessment aggregation (``private.reassessment_inputs``) over the same number of jobs,
  batches of 100: ms a program; claiming a batch of 100 (``private.claim_reassessment_jobs``,
  rolled back); queueing every due program (``private.enqueue_due_reassessments``, rolled back);
* the candidate scan of the hourly ``private.close_past_days`` job (its loop query, counted).

Printed: per query the 1x and FACTOR x figures and the ratio FACTOR x / 1x (1.0 = flat), and
EXPLAIN (ANALYZE, BUFFERS) summaries, at both scales, of the queries that degrade most.

Run: ``make bench-scale`` (``.venv/bin/python -m benchmarks.scale --factor 10``; the factor is
the number of times the earlier benchmarks' data; the build time grows with it: about 10 min a
factor on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from benchmarks import reassessment, tracking_views
from benchmarks.common import markdown_table, percentile, postgrest_get, throwaway_database
from benchmarks.logging_throughput import TRIGGER_TABLES, MealLog, _log_meal, _measure
from sharpened.auth import user_claims
from sharpened.db import begin_request

BASE_USERS = tracking_views.USERS
BASE_PROGRAMS = 5000
RUNS = 200
LOG_USERS = 100
AGGREGATE_JOBS = 2000
CLAIMS = 20
SETTINGS = {**tracking_views.BULK_SETTINGS, "work_mem": "16MB"}

# The loop query of private.close_past_days (supabase/migrations/20261126002600_close_past_days
# _bound.sql: the UTC+14 bound), counted instead of looped over.
CLOSE_CANDIDATES = """
select count(*) from (
    select distinct ce.user_id, ce.date
    from public.calendar_events as ce
    left join public.profiles as p on ce.user_id = p.id
    left join public.session_instances as s
        on ce.ref_table = 'session_instances' and ce.ref_id = s.id
    where
        ce.status in ('planned', 'modified')
        and ce.date < (now() at time zone 'Etc/GMT-14')::date
        and ce.date < (now() at time zone coalesce(p.timezone, 'UTC'))::date
        and s.session_kind is distinct from 'rest'
        and ce.program_id = private.program_in_force(ce.user_id, ce.date)
        and not exists (
            select from public.adherence_records as r
            where
                r.planned_entity_type = case ce.event_type when 'training' then 'session'
                    else 'meal' end
                and r.planned_entity_id = ce.ref_id
        )
) as c
"""


@dataclass
class Measure:
    """One query at one scale: durations (s) of its repetitions, and how to EXPLAIN it."""

    name: str
    unit: str  # what one duration is: "request", "log", "program", "call"
    durations: list[float]
    per: int = 1  # items per duration (e.g. programs in a batch)
    explain: Callable[[psycopg.Connection[Any]], list[str]] | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.durations) * 1000 / self.per

    @property
    def p95_ms(self) -> float:
        return percentile(self.durations, 0.95) * 1000 / self.per


@dataclass
class Scale:
    factor: int
    users: int
    programs: int
    rows: dict[str, int]
    build_s: float
    load: str
    measures: dict[str, Measure] = field(default_factory=dict)
    plans: dict[str, list[str]] = field(default_factory=dict)


# ------------------------------------------------------------------- build


def build(
    url: str, users: int, programs: int, factor: int, progress: Callable[[str], None]
) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    progress(f"{factor}x: a year of history for {users:,} users (tracking views data)")
    # The calendar as the hourly closing job leaves it: the days before yesterday decided.
    yesterday = dt.date.today() - dt.timedelta(days=1)
    tracking_views.generate(url, progress, users=users, decided_before=yesterday)
    progress(f"{factor}x: {programs:,} due programs with 14 days of logs (reassessment data)")
    reassessment.generate(url, progress, programs=programs)
    with psycopg.connect(url) as conn:
        rows = tracking_views.count_rows(conn)
        for table in ("body_metrics", "user_context_log", "adherence_daily"):
            row = conn.execute(f"select count(*) from public.{table}").fetchone()  # noqa: S608
            assert row is not None
            rows[table] = int(row[0])
        size = conn.execute("select pg_size_pretty(pg_database_size(current_database()))")
        total = size.fetchone()
        assert total is not None
    progress(f"  built in {time.perf_counter() - started:.0f} s, database {total[0]}")
    return rows, time.perf_counter() - started


# ----------------------------------------------------------------- measure


def _views(day: dt.date) -> list[tuple[str, str, tuple[Any, ...]]]:
    monday = day - dt.timedelta(days=day.weekday())
    return [
        ("select 1 (baseline)", "select 1", ()),
        ("nutrition_today", "select * from public.nutrition_today", ()),
        ("nutrition_day for today", "select * from public.nutrition_day where date = %s", (day,)),
        (
            "calendar_day for today",
            "select * from public.calendar_day where date = %s order by time_of_day",
            (day,),
        ),
        (
            "muscle_volume_weekly, this week",
            "select * from public.muscle_volume_weekly where week_start = %s",
            (monday,),
        ),
        ("exercise_records", "select * from public.exercise_records", ()),
        (
            "adherence_summary, last 4 weeks",
            "select * from public.adherence_summary where week_start >= %s order by week_start",
            (monday - dt.timedelta(weeks=3),),
        ),
    ]


def _explain_lines(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """A short EXPLAIN (ANALYZE, BUFFERS) summary: the plan nodes (first lines) and totals."""
    text = [str(r[0]) for r in rows]
    nodes = [line for line in text if "->" in line or not line.startswith(" ")]
    keep = [line for line in nodes if not line.startswith(("Planning", "Execution"))][:10]
    buffers = next((line.strip() for line in text if "Buffers:" in line), "")
    totals = [line for line in text if line.startswith(("Planning Time", "Execution Time"))]
    return [*keep, *([f"  (top) {buffers}"] if buffers else []), *totals]


def _as_user_explain(
    user_id: uuid.UUID, sql: str, params: tuple[Any, ...]
) -> Callable[[psycopg.Connection[Any]], list[str]]:
    def explain(conn: psycopg.Connection[Any]) -> list[str]:
        with conn.transaction(force_rollback=True):
            begin_request(conn, "authenticated", user_claims(user_id), None, "GET")
            rows = conn.execute(f"explain (analyze, buffers) {sql}", params).fetchall()
        return _explain_lines(rows)

    return explain


def _explain(
    sql: str, params: tuple[Any, ...] = ()
) -> Callable[[psycopg.Connection[Any]], list[str]]:
    def explain(conn: psycopg.Connection[Any]) -> list[str]:
        with conn.transaction(force_rollback=True):
            rows = conn.execute(f"explain (analyze, buffers) {sql}", params).fetchall()
        return _explain_lines(rows)

    return explain


def measure_views(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> list[Measure]:
    tz = conn.execute("select timezone from public.profiles where id = %s", (user_id,)).fetchone()
    assert tz is not None
    today = conn.execute("select (now() at time zone %s)::date", (tz[0],)).fetchone()
    assert today is not None
    claims = user_claims(user_id)
    out = []
    for name, sql, params in _views(today[0]):
        durations: list[float] = []
        for i in range(RUNS * 2):  # the first half warms the cache and the plan
            started = time.perf_counter()
            postgrest_get(conn, claims, sql, params)
            if i >= RUNS:
                durations.append(time.perf_counter() - started)
        out.append(Measure(name, "request", durations, 1, _as_user_explain(user_id, sql, params)))
    return out


def _meal_logs(conn: psycopg.Connection[Any]) -> list[MealLog]:
    """Today's planned meals of the first LOG_USERS generated users, as meal logs of their planned
    foods (a second log of each meal: the generated history already holds one)."""
    rows = conn.execute(
        "select ce.user_id, m.meal_type, "
        "((ce.date + coalesce(m.meal_time, mt.typical_time)) at time zone p.timezone), ce.date, "
        "json_agg(json_build_object('food_id', i.food_id, 'grams', i.grams) order by i.id) "
        "from public.calendar_events as ce "
        "join public.profiles as p on p.id = ce.user_id "
        "join public.meal_instances as m on m.id = ce.ref_id "
        "join public.meal_times as mt on mt.id = m.meal_type "
        "join public.meal_item_plan as i on i.meal_instance_id = m.id "
        "where ce.event_type = 'meal' and ce.date = current_date and ce.user_id = any(%s) "
        "group by ce.user_id, m.meal_type, m.meal_time, mt.typical_time, p.timezone, ce.date "
        "order by 3, 1",
        (_log_users(conn),),
    ).fetchall()
    logs = []
    for user, meal_type, logged_at, day, foods in rows:
        meal = {
            "user_id": str(user),
            "meal_type": meal_type,
            "logged_at": logged_at.isoformat(),
            "local_date": day.isoformat(),
        }
        items = [
            {"user_id": str(user), "food_id": f["food_id"], "grams": float(f["grams"]) * 1.05}
            for f in foods
        ]
        logs.append(MealLog.of(user, user_claims(user), meal, items))
    return logs


def _log_users(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    emails = [f"bench-{n}@example.test" for n in range(LOG_USERS)]
    rows = conn.execute("select id from auth.users where email = any(%s)", (emails,)).fetchall()
    return [r[0] for r in rows]


@contextmanager
def _triggers_disabled(url: str) -> Iterator[None]:
    """The project's triggers on the logging tables off (as postgres); re-enabled afterwards. (A
    database this size is not copied, as the logging benchmark copies its own.)"""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in TRIGGER_TABLES:
            conn.execute(f"alter table public.{table} disable trigger user")
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for table in TRIGGER_TABLES:
                conn.execute(f"alter table public.{table} enable trigger user")


def _delete_meals(url: str, ids: list[uuid.UUID]) -> None:
    """Remove the meals of the untriggered run (call with the triggers still disabled)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from public.meals where id = any(%s)", (ids,))
        conn.execute("vacuum analyze public.meals")


def measure_logs(url: str) -> list[Measure]:
    with psycopg.connect(url) as conn:
        logs = _meal_logs(conn)
    out = []
    with _triggers_disabled(url):
        seconds, ids = _measure(url, logs, 1, _log_meal)
        _delete_meals(url, ids)
    out.append(Measure("meal log, triggers off", "log", [seconds], len(logs)))
    seconds, ids = _measure(url, logs, 1, _log_meal)
    out.append(Measure("meal log, triggers on", "log", [seconds], len(logs)))
    return out


def measure_reassessment(conn: psycopg.Connection[Any]) -> list[Measure]:
    batch = reassessment.BATCH_SIZE
    ids = [
        r[0]
        for r in conn.execute(
            "select id from private.reassessment_jobs order by id limit %s", (AGGREGATE_JOBS,)
        )
    ]
    conn.execute("select * from private.reassessment_inputs(%s)", (ids[:batch],)).fetchall()
    conn.rollback()
    durations = []
    for i in range(0, len(ids), batch):
        started = time.perf_counter()
        conn.execute("select * from private.reassessment_inputs(%s)", (ids[i : i + batch],))
        durations.append(time.perf_counter() - started)
    conn.rollback()
    inputs_sql = "select * from private.reassessment_inputs(%s)"
    out = [
        Measure(
            f"reassessment_inputs, batches of {batch}",
            "program",
            durations,
            batch,
            _explain(inputs_sql, (ids[:batch],)),
        )
    ]
    claims = []
    claim_sql = "select * from private.claim_reassessment_jobs('scale', %s)"
    for _ in range(CLAIMS):
        started = time.perf_counter()
        with conn.transaction(force_rollback=True):
            conn.execute(claim_sql, (batch,)).fetchall()
        claims.append(time.perf_counter() - started)
    out.append(
        Measure(f"claim a batch of {batch} jobs", "call", claims, 1, _explain(claim_sql, (batch,)))
    )
    enqueue = []
    for _ in range(3):
        with conn.transaction(force_rollback=True):
            conn.execute("delete from private.reassessment_jobs")
            started = time.perf_counter()
            conn.execute("select private.enqueue_due_reassessments()")
            enqueue.append(time.perf_counter() - started)
    out.append(Measure("enqueue_due_reassessments (all due)", "call", enqueue))
    return out


def measure_close(conn: psycopg.Connection[Any]) -> list[Measure]:
    durations = []
    for _ in range(3):
        started = time.perf_counter()
        conn.execute(CLOSE_CANDIDATES).fetchall()
        durations.append(time.perf_counter() - started)
        conn.rollback()
    return [
        Measure("close_past_days candidate scan", "call", durations, 1, _explain(CLOSE_CANDIDATES))
    ]


def measure(url: str, progress: Callable[[str], None]) -> list[Measure]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select id from auth.users where email = 'bench-1@example.test'"
        ).fetchone()
        assert row is not None
        progress("  measuring the tracking views")
        out = measure_views(conn, row[0])
        conn.rollback()
        progress("  measuring the reassessment queries")
        out += measure_reassessment(conn)
        progress("  measuring the closing job's scan")
        out += measure_close(conn)
    progress("  measuring meal logs")
    return out + measure_logs(url)


def run_scale(users: int, programs: int, factor: int, progress: Callable[[str], None]) -> Scale:
    with throwaway_database(SETTINGS) as url:
        rows, build_s = build(url, users, programs, factor, progress)
        one, five, fifteen = os.getloadavg()
        measures = measure(url, progress)
        scale = Scale(
            factor,
            users,
            programs,
            rows,
            build_s,
            f"{one:.2f}, {five:.2f}, {fifteen:.2f}",
            {m.name: m for m in measures},
        )
        with psycopg.connect(url) as conn:
            for m in measures:
                if m.explain is not None:
                    scale.plans[m.name] = m.explain(conn)
    return scale


# ------------------------------------------------------------------ report


def report(small: Scale, large: Scale, worst: int = 3) -> list[str]:
    f = large.factor
    lines = [
        f"# Scale benchmark: 1x and {f}x the benchmark data",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs shared with "
        "other work (load average when measuring: "
        f"1x {small.load}; {f}x {large.load}).",
        "",
        "| data | 1x | " + f"{f}x |",
        "|---|---|---|",
        f"| users with a year of history | {small.users:,} | {large.users:,} |",
        f"| due programs (14 days of logs) | {small.programs:,} | {large.programs:,} |",
        *(
            f"| {table} rows | {small.rows[table]:,} | {large.rows[table]:,} |"
            for table in small.rows
        ),
        f"| total rows | {sum(small.rows.values()):,} | {sum(large.rows.values()):,} |",
        f"| build time | {small.build_s:.0f} s | {large.build_s:.0f} s |",
        "",
    ]
    rows = []
    ratios = {}
    for name, a in small.measures.items():
        b = large.measures[name]
        ratio = b.median_ms / a.median_ms
        ratios[name] = ratio
        verdict = "degrades" if ratio >= 1.5 else "flat"
        rows.append(
            [
                name,
                f"ms a {a.unit}",
                f"{a.median_ms:.3f} / {a.p95_ms:.3f}",
                f"{b.median_ms:.3f} / {b.p95_ms:.3f}",
                f"{ratio:.2f}x",
                verdict,
            ]
        )
    header = ["query", "unit", "1x median / p95", f"{f}x median / p95", f"{f}x / 1x", ""]
    lines += markdown_table(header, rows)
    candidates = [n for n in ratios if n in small.plans and n in large.plans]
    candidates.sort(key=lambda n: ratios[n], reverse=True)
    lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the {worst} queries whose ratio is highest:"]
    for name in candidates[:worst]:
        lines += ["", f"## {name} ({ratios[name]:.2f}x)", "", "```", "-- 1x"]
        lines += small.plans[name]
        lines += [f"-- {f}x", *large.plans[name], "```"]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--factor", type=int, default=10, help="times the earlier benchmarks' data (default 10)"
    )
    parser.add_argument("--output", help="also write the report (markdown) to this file")
    parser.add_argument(
        "--users", type=int, default=BASE_USERS, help="users with a year of history at 1x"
    )
    parser.add_argument("--programs", type=int, default=BASE_PROGRAMS, help="due programs at 1x")
    args = parser.parse_args(argv)
    began = time.perf_counter()

    def progress(line: str) -> None:
        print(f"[{time.perf_counter() - began:5.0f} s] {line.strip()}", flush=True)

    small = run_scale(args.users, args.programs, 1, progress)
    large = run_scale(args.users * args.factor, args.programs * args.factor, args.factor, progress)
    text = "\n".join(report(small, large)) + "\n"
    print()
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
