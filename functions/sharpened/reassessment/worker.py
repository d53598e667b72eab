"""The reassess worker (issue 8, DOMAIN §8): works the queue private.reassessment_jobs.

One batch (:func:`run_batch`), on one connection that is idle (not in a transaction):

1. **claim** up to ``batch_size`` jobs under a lease (``private.claim_reassessment_jobs``,
   ``for update skip locked``) in its own short transaction, committed at once so that other
   workers skip them and a worker that dies leaves them to be claimed again when the lease runs
   out;
2. in **one write transaction**: read every claimed job's inputs with one set-based query
   (``private.reassessment_inputs``), run the controllers per job
   (:func:`sharpened.reassessment.controllers.reassess`; a job whose inputs the controllers
   refuse is failed at once), then write the batch with **one statement** under a savepoint
   (the reassessment rows, their ``plan_change_events``, the notifications and
   ``private.finish_reassessment_job`` per job), then move the written programs'
   ``next_reassessment_date`` by 14 days (only where it still is the period's end + 1) with one
   more statement. If the batch statement fails (one job's data violates a constraint), it is
   rolled back to its savepoint and the jobs are written **one by one, each under its own
   savepoint** (same writes, one statement per job): a job whose write fails is rolled back to
   its savepoint and recorded with ``private.fail_reassessment_job`` (retried with backoff,
   dead after 5 attempts), the others are written;
3. commit. A worker killed before the commit writes nothing: its jobs stay ``running`` until
   the lease expires and are then claimed again. A job whose reassessment already exists (the
   unique key per program and period) is only finished ("already done"); a job that is no
   longer the worker's (its lease ran out and another worker took it) writes nothing ("lost").

Round trips per batch: claim + commit, the inputs query, savepoint + the batch statement +
release, the dates, commit (seven, whatever the batch size); job by job only after a failure.
The programs are updated after the inserts on purpose: the events' foreign-key checks then lock
program rows this transaction has not updated yet, which is several times cheaper.

The connection's role must reach the ``private`` schema (the database owner, as the functions'
``SHARPENED_DB_URL``); the writes bypass RLS as service code does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, cast

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from sharpened.db import connection_options
from sharpened.programs.bundle import Goal
from sharpened.programs.energy import FIBER_G_PER_1000_KCAL, FLOORS, Sex, round_g
from sharpened.programs.training import LANDMARKS, MuscleGroup
from sharpened.reassessment.controllers import (
    ChangeItem,
    ControllerState,
    DayIntake,
    MacroGrams,
    MuscleInput,
    PeriodInputs,
    Reassessment,
    WeighIn,
    reassess,
    round_half_away,
    trend_after,
)

log = logging.getLogger("sharpened.reassessment")

DEFAULT_BATCH_SIZE: Final = 100
DEFAULT_LEASE: Final = dt.timedelta(minutes=5)
MAX_ERROR_CHARS: Final = 2000

# ------------------------------------------------------------------------------- results


@dataclass
class BatchResult:
    """What one batch (or, summed, a run) did: jobs claimed and how each ended."""

    claimed: int = 0
    done: int = 0
    already_done: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0
    changes: int = 0
    seconds: float = 0.0

    def add(self, other: BatchResult) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["seconds"] = round(self.seconds, 3)
        return out


Progress = Callable[[BatchResult], None]


def worker_name(prefix: str = "reassess") -> str:
    """A worker id unique per process and call (host, pid, random suffix)."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------ the controllers


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_default(value: Any) -> Any:
    """JSON for what the database hands back: Decimals as numbers, dates and UUIDs as text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, uuid.UUID)):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


_dumps = functools.partial(json.dumps, default=_json_default, separators=(",", ":"))


def _jsonb(value: Any) -> Jsonb:
    return Jsonb(value, dumps=_dumps)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One job's computed outcome, ready to write."""

    job_id: int
    program_id: uuid.UUID
    user_id: uuid.UUID
    period_start: dt.date
    period_end: dt.date
    result: Reassessment
    events: list[dict[str, Any]]
    inputs: dict[str, Any]
    outcome: dict[str, Any]
    title: str
    body: str


def period_inputs(row: Mapping[str, Any]) -> tuple[PeriodInputs, ControllerState]:
    """A ``private.reassessment_inputs`` row as the controllers' inputs and stored state.

    The trend's seed for a program without a carried trend is the EWMA of the weigh-ins before
    the period (the aggregate reaches 28 days back), else the weight the program was generated
    with, dated the day before it started, else the period's first weigh-in (the controllers' own
    fallback).
    """
    period_start: dt.date = row["period_start"]
    period_end: dt.date = row["period_end"]
    sex = row["sex"]
    if sex not in FLOORS:
        raise ValueError("the profile has no sex: the calorie floors cannot be applied")
    targets = row["targets"] or {}
    kcal = int(targets["kcal"])
    weigh_ins = [WeighIn(_day(d), float(kg)) for d, kg in row["weigh_ins"] or ()]
    before = [w for w in weigh_ins if w.day < period_start]
    within = tuple(w for w in weigh_ins if period_start <= w.day <= period_end)
    intake = tuple(DayIntake(_day(d), float(k)) for d, k in row["intake"] or ())
    e1rm: dict[str, Any] = row["e1rm_trend_pct"] or {}
    muscles = []
    for name, sets in sorted((row["weekly_sets"] or {}).items()):
        planned = round_half_away(float(sets))
        if name in LANDMARKS and planned > 0:
            muscles.append(
                MuscleInput(
                    muscle=cast(MuscleGroup, name),
                    sets=min(planned, 60),
                    e1rm_trend_pct=_f(e1rm.get(name)),
                )
            )
    stored = row["controller_state"] or {}
    weeks = ((period_end - period_start).days + 1) // 7
    state = (
        ControllerState.model_validate(stored)
        if stored
        else ControllerState(weeks_since_deload=max(0, int(row["weeks_since_deload"] or 0) - weeks))
    )
    # Without a stored trend: the run-up's weigh-ins seed it, else the weight the program was
    # generated with, dated the day before the program started.
    start_weight = _f(row.get("start_weight_kg"))
    start_day: dt.date | None = row.get("start_weight_day")
    if state.trend is None and before:
        seed = trend_after(before, None)
        start_weight = None if seed is None else seed.trend_kg
        start_day = None
    if start_day is not None and start_day >= period_start:
        start_day = None
    fiber = targets.get("fiber_g")
    inputs = PeriodInputs(
        period_start=period_start,
        period_end=period_end,
        goal=cast(Goal, row["primary_goal"]),
        sex=cast(Sex, sex),
        target_rate_kg_per_week=float(row["target_rate_kg_per_week"] or 0),
        kcal=kcal,
        macros=MacroGrams(
            protein_g=int(targets["protein_g"]),
            carbs_g=int(targets["carbs_g"]),
            fat_g=int(targets["fat_g"]),
            fiber_g=(
                int(fiber) if fiber is not None else round_g(FIBER_G_PER_1000_KCAL * kcal / 1000)
            ),
        ),
        tdee_kcal=_f(row["tdee_kcal"]),
        weigh_ins=within,
        intake=intake,
        session_adherence=_f(row["session_adherence"]),
        meal_adherence=_f(row["meal_adherence"]),
        soreness_avg=_f(row["soreness_avg"]),
        muscles=tuple(muscles),
        mesocycle_weeks=int(row["mesocycle_weeks"] or 5),
        start_weight_kg=start_weight,
        start_weight_day=start_day,
    )
    return inputs, state


def event_values(change: ChangeItem, period_end: dt.date) -> dict[str, Any]:
    """A change as the plan_change_events columns, in the shapes the effective targets read.

    A deload's new value carries ``week_start`` (the Monday-agnostic first day of the deload
    week: the day after the period plus the weeks until it starts).
    """
    event = change.event()
    if change.kind == "deload":
        weeks = int(change.new.get("starts_in_weeks") or 0)
        start = period_end + dt.timedelta(days=1 + 7 * weeks)
        event["new_value"] = {**change.new, "week_start": start.isoformat()}
    return event


def plan_job(row: Mapping[str, Any]) -> JobPlan:
    """Run the controllers for one job's inputs row."""
    inputs, state = period_inputs(row)
    result = reassess(inputs, state)
    events = [event_values(c, inputs.period_end) for c in result.changes]
    title, body = describe(result, inputs)
    stored_inputs = {
        k: v
        for k, v in row.items()
        if k not in ("job_id", "program_id", "user_id", "period_start", "period_end")
    }
    outcome = {
        "version": result.version,
        "measurements": result.measurements.model_dump(mode="json"),
        "calorie": result.calorie_terms,
        "volume": result.volume_terms,
        "changes": [
            {"change_type": e["change_type"], "reason_code": e["reason_code"]} for e in events
        ],
        "summary": body,
    }
    return JobPlan(
        job_id=int(row["job_id"]),
        program_id=row["program_id"],
        user_id=row["user_id"],
        period_start=inputs.period_start,
        period_end=inputs.period_end,
        result=result,
        events=events,
        inputs=stored_inputs,
        outcome=outcome,
        title=title,
        body=body,
    )


# ---------------------------------------------------------------------- the notification

_MUSCLE_REASONS: Final = {
    "recovery_needed": "it needs more recovery: sore and its lifts went down",
    "recovered_and_progressing": "it recovers well and its lifts went up",
    "high_session_adherence": "you completed your sessions consistently",
    "low_session_adherence": "fewer sessions were completed than planned",
    "outside_landmarks": "it is brought back within its recommended range",
}


def _rate_words(rate: float) -> str:
    if abs(rate) < 0.005:
        return "holding your weight"
    return f"{'losing' if rate < 0 else 'gaining'} {abs(rate):.2f} kg a week"


def _calorie_line(change: ChangeItem, inputs: PeriodInputs, observed: float | None) -> str:
    old, new = int(change.old["kcal"]), int(change.new["kcal"])
    line = f"Daily calories: {old} -> {new} kcal ({new - old:+d})"
    if change.reason_code == "floor_applied":
        return line + ", raised to the safe minimum for you."
    if observed is None:
        return line + "."
    line = (
        f"{line}, because your weight trend shows you {_rate_words(observed)} while the plan "
        f"aims at {_rate_words(inputs.target_rate_kg_per_week)}"
    )
    return line + _bound_words(change.terms.get("limits") or ()) + "."


def _bound_words(limits: Sequence[str]) -> str:
    """Why a decrease stopped short of what the controller asked for, if a safety bound did it."""
    if "deficit_cap_25pct_tdee" in limits:
        return (
            "; the cut stops at the safe minimum (75 % of your estimated expenditure), "
            "so it is smaller than your trend alone would call for"
        )
    if "sex_floor" in limits:
        return (
            "; the cut stops at the safe minimum for you, "
            "so it is smaller than your trend alone would call for"
        )
    return ""


def _macro_line(change: ChangeItem) -> str:
    parts = [
        f"{name} {change.old.get(key)} -> {change.new.get(key)} g"
        for key, name in (("protein_g", "protein"), ("carbs_g", "carbs"), ("fat_g", "fat"))
        if change.old.get(key) != change.new.get(key)
    ]
    kept = [
        name
        for key, name in (("protein_g", "protein"), ("fat_g", "fat"))
        if change.old.get(key) == change.new.get(key)
    ]
    line = "Macros: " + (", ".join(parts) if parts else "unchanged")
    if kept:
        line += f" ({' and '.join(kept)} stay the same)"
    return line + "."


def _muscle_line(change: ChangeItem) -> str:
    muscle = str(change.new.get("muscle", change.muscle or "")).replace("_", " ")
    old, new = change.old.get("sets"), change.new.get("sets")
    why = _MUSCLE_REASONS.get(change.reason_code, change.reason_code.replace("_", " "))
    return f"{muscle.capitalize()}: {old} -> {new} sets a week, because {why}."


def _deload_line(change: ChangeItem, week_start: str) -> str:
    why = (
        "more than half of your muscle groups need recovery"
        if change.reason_code == "deload_recovery_needed"
        else "your training block is ending"
    )
    return f"A lighter deload week is planned from {week_start}, because {why}."


def _why_calories_held(terms: Mapping[str, Any], inputs: PeriodInputs) -> str:
    limits = list(terms.get("limits") or ())
    observed = terms.get("observed_rate_kg_per_week")
    if terms.get("skipped") == "no_observed_rate" or observed is None:
        return (
            "Calories stay the same: there were not enough weigh-ins to measure your weight "
            "trend. Weigh yourself a few times a week so the next check-in can adjust."
        )
    trend = (
        f"your weight trend shows you {_rate_words(float(observed))} and the plan aims at "
        f"{_rate_words(inputs.target_rate_kg_per_week)}"
    )
    if "adherence_gate" in limits:
        return (
            f"Calories stay the same: {trend}, but sessions or meals were followed less than 70 % "
            "of the time, so the plan does not cut further until they are."
        )
    if any(limit in limits for limit in ("sex_floor", "deficit_cap_25pct_tdee")):
        return f"Calories stay the same: {trend}, but they are already at the safe minimum."
    if "deadband" in limits:
        return f"Calories stay the same: {trend}; the difference is too small to act on."
    if "direction_guard" in limits:
        return f"Calories stay the same: {trend}; the trend is already moving the right way."
    return f"Calories stay the same: {trend}, which is on target."


def describe(result: Reassessment, inputs: PeriodInputs) -> tuple[str, str]:
    """The notification's title and body: what changed and why, or why nothing did."""
    observed = result.measurements.observed_rate_kg_per_week
    lines: list[str] = []
    for change in result.changes:
        if change.kind == "calories":
            lines.append(_calorie_line(change, inputs, observed))
        elif change.kind == "macros":
            lines.append(_macro_line(change))
        elif change.kind == "volume":
            lines.append(_muscle_line(change))
        else:
            weeks = int(change.new.get("starts_in_weeks") or 0)
            start = inputs.period_end + dt.timedelta(days=1 + 7 * weeks)
            lines.append(_deload_line(change, start.isoformat()))
    kinds = {c.kind for c in result.changes}
    if "calories" not in kinds:
        lines.insert(0, _why_calories_held(result.calorie_terms, inputs))
    if "volume" not in kinds:
        lines.append("Training volume stays as planned.")
    period = f"{inputs.period_start:%d %b} - {inputs.period_end:%d %b}"
    if result.changes:
        title = f"Your plan was updated after your check-in ({period})"
    else:
        title = f"Your check-in ({period}): no changes to your plan"
    body = "\n".join(lines)
    return title, body[:4000]


# ----------------------------------------------------------------------------- the writes

_CLAIM = "select id from private.claim_reassessment_jobs(%s, %s, %s) order by id"
_INPUTS = "select * from private.reassessment_inputs(%s::bigint[])"
_FAIL = "select private.fail_reassessment_job(%s, %s, %s) as status"
# The batch's written programs move to their next period at once, after the jobs' inserts (the
# events' foreign-key checks then lock rows this transaction has not updated yet: cheaper).
_MOVE_DATES = """
update public.programs as p
set next_reassessment_date = p.next_reassessment_date + 14
from unnest(%s::uuid[], %s::uuid[], %s::date[]) as w (program_id, user_id, period_end)
where
    p.id = w.program_id
    and p.user_id = w.user_id
    and p.next_reassessment_date = w.period_end + 1
"""

# The jobs' writes in one statement: each job is finished first, and the rest is written only
# when the job was still the worker's and its period has no reassessment yet (the unique key).
# A batch goes in at once (the usual case); if that fails, it is written again job by job, each
# under its own savepoint, so that only the failing jobs fail.
_WRITE_BATCH = """
with job as (
    select j.*
    from jsonb_to_recordset(%(jobs)s) as j (
        job_id bigint, id uuid, user_id uuid, program_id uuid, period_start date,
        period_end date, inputs jsonb, outcome jsonb, state jsonb, changes smallint,
        events jsonb, title text, body text
    )
),
fin as (
    select job.job_id, job.id, private.finish_reassessment_job(job.job_id, %(worker)s) as ok
    from job
),
r as (
    insert into public.reassessments (
        id, user_id, program_id, period_start, period_end, inputs, outcome, controller_state,
        changes
    )
    select
        job.id, job.user_id, job.program_id, job.period_start, job.period_end, job.inputs,
        job.outcome, job.state, job.changes
    from job
    inner join fin on job.job_id = fin.job_id
    where fin.ok
    on conflict on constraint reassessments_program_period_key do nothing
    returning id, user_id, program_id, period_start, period_end
),
e as (
    insert into public.plan_change_events (
        user_id, program_id, entity_type, change_type, old_value, new_value, reason_code,
        controller_terms, period_start, period_end, reassessment_id
    )
    select
        r.user_id, r.program_id, x.entity_type, x.change_type, x.old_value, x.new_value,
        x.reason_code, x.controller_terms, r.period_start, r.period_end, r.id
    from r
    inner join job on r.id = job.id
    cross join jsonb_to_recordset(job.events) as x (
        entity_type text, change_type text, old_value jsonb, new_value jsonb, reason_code text,
        controller_terms jsonb
    )
),
n as (
    insert into public.notifications (user_id, kind, title, body, ref_table, ref_id)
    select r.user_id, 'reassessment', job.title, job.body, 'programs', r.program_id
    from r
    inner join job on r.id = job.id
)
select fin.job_id, fin.ok as finished, exists (select from r where r.id = fin.id) as written
from fin
"""


def _batch_item(plan: JobPlan) -> dict[str, Any]:
    return {
        "job_id": plan.job_id,
        "id": uuid.uuid4(),
        "user_id": plan.user_id,
        "program_id": plan.program_id,
        "period_start": plan.period_start,
        "period_end": plan.period_end,
        "inputs": plan.inputs,
        "outcome": plan.outcome,
        "state": plan.result.state.model_dump(mode="json"),
        "changes": len(plan.events),
        "events": plan.events,
        "title": plan.title,
        "body": plan.body,
    }


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:MAX_ERROR_CHARS]


def _fail(
    cur: psycopg.Cursor[dict[str, Any]], job_id: int, worker: str, error: str, out: BatchResult
) -> None:
    row = cur.execute(_FAIL, (job_id, worker, error)).fetchone()
    status = None if row is None else row["status"]
    if status == "dead":
        out.dead += 1
    elif status == "failed":
        out.failed += 1
    else:
        out.lost += 1
    log.warning("reassessment job %s %s: %s", job_id, status or "lost", error)


def claim(
    conn: psycopg.Connection[Any],
    worker: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> list[int]:
    """Claim up to ``batch_size`` jobs for ``worker`` in a transaction of its own (committed)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        return [int(r["id"]) for r in cur.execute(_CLAIM, (worker, batch_size, lease))]


def _tally(
    plan: JobPlan, finished: bool, inserted: bool, out: BatchResult, written: list[JobPlan]
) -> None:
    if not finished:
        out.lost += 1  # the lease ran out and another worker has the job
    elif inserted:
        out.done += 1
        out.changes += len(plan.events)
        written.append(plan)
    else:
        out.already_done += 1  # the period's reassessment exists: the job is only finished


def _write_plans(
    conn: psycopg.Connection[Any],
    cur: psycopg.Cursor[dict[str, Any]],
    worker: str,
    plans: Sequence[JobPlan],
    out: BatchResult,
    written: list[JobPlan],
) -> None:
    """The plans' writes in one statement under a savepoint (rolled back if it raises)."""
    with conn.transaction():
        rows = cur.execute(
            _WRITE_BATCH, {"worker": worker, "jobs": _jsonb([_batch_item(p) for p in plans])}
        ).fetchall()
    by_job = {int(r["job_id"]): r for r in rows}
    for plan in plans:
        r = by_job[plan.job_id]
        _tally(plan, bool(r["finished"]), bool(r["written"]), out, written)


@dataclass
class Prepared:
    """A claimed batch, computed: the jobs' plans and the jobs that failed before writing."""

    job_ids: list[int]
    plans: list[JobPlan]
    failures: list[tuple[int, str]]


def prepare(
    conn: psycopg.Connection[Any],
    job_ids: Sequence[int],
    *,
    planner: Callable[[Mapping[str, Any]], JobPlan] = plan_job,
) -> Prepared:
    """Read the claimed jobs' inputs (one query) and run the controllers for each job."""
    out = Prepared(list(job_ids), [], [])
    if not job_ids:
        return out
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_INPUTS, (list(job_ids),)).fetchall()
    seen = {int(r["job_id"]) for r in rows}
    for missing in sorted(set(job_ids) - seen):
        # Its program is gone (cascade) between claim and read: nothing to reassess.
        out.failures.append((missing, "the job's program no longer exists"))
    for row in rows:
        try:
            out.plans.append(planner(row))
        except Exception as exc:  # a bad input fails this job only
            out.failures.append((int(row["job_id"]), _error_text(exc)))
    return out


def write(conn: psycopg.Connection[Any], worker: str, batch: Prepared) -> BatchResult:
    """Write a prepared batch in one transaction (see the module doc) and commit."""
    out = BatchResult(claimed=len(batch.job_ids))
    if not batch.job_ids:
        return out
    written: list[JobPlan] = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        for job_id, error in batch.failures:
            _fail(cur, job_id, worker, error, out)
        try:
            if batch.plans:
                _write_plans(conn, cur, worker, batch.plans, out, written)
        except psycopg.Error as exc:
            if conn.broken:
                raise
            log.info("the batch write failed (%s); writing job by job", _error_text(exc))
            for plan in batch.plans:
                try:
                    _write_plans(conn, cur, worker, [plan], out, written)
                except psycopg.Error as job_exc:
                    if conn.broken:
                        raise
                    _fail(cur, plan.job_id, worker, _error_text(job_exc), out)
        if written:
            cur.execute(
                _MOVE_DATES,
                (
                    [p.program_id for p in written],
                    [p.user_id for p in written],
                    [p.period_end for p in written],
                ),
            )
    return out


def process(
    conn: psycopg.Connection[Any],
    worker: str,
    job_ids: Sequence[int],
    *,
    planner: Callable[[Mapping[str, Any]], JobPlan] = plan_job,
) -> BatchResult:
    """Compute and write claimed jobs (:func:`prepare`, then :func:`write`) on one connection."""
    return write(conn, worker, prepare(conn, job_ids, planner=planner))


def _idle(conn: psycopg.Connection[Any]) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("the worker needs connections that are not inside a transaction")


def run_batch(
    conn: psycopg.Connection[Any],
    worker: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> BatchResult:
    """Claim a batch (committed), then compute and write it (one transaction); see the module."""
    _idle(conn)
    started = time.perf_counter()
    job_ids = claim(conn, worker, batch_size, lease)
    out = process(conn, worker, job_ids)
    out.seconds = time.perf_counter() - started
    return out


def work_queue(
    url: str,
    worker: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    time_budget: float | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """:func:`run_until_empty` on two connections of its own to ``url``, held for the whole run:
    one claims and computes, the other writes the previous batch (the function and the CLI)."""
    with (
        psycopg.connect(url, **connection_options()) as conn,
        psycopg.connect(url, **connection_options()) as writer,
    ):
        return run_until_empty(
            conn, worker, batch_size, time_budget=time_budget, progress=progress, writer=writer
        )


def run_until_empty(
    conn: psycopg.Connection[Any],
    worker: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    lease: dt.timedelta = DEFAULT_LEASE,
    time_budget: float | None = None,
    progress: Progress | None = None,
    writer: psycopg.Connection[Any] | None = None,
) -> BatchResult:
    """Batches until nothing is claimable (or ``time_budget`` seconds are used); the totals.

    ``progress`` gets each batch's result as it commits. With a second connection ``writer``,
    the worker overlaps its two halves: while a thread writes batch N on ``writer`` (the
    database works), it claims and computes batch N+1 on ``conn`` (Python works). Each batch is
    still claimed, computed and written exactly as :func:`run_batch` does.
    """
    _idle(conn)
    started = time.perf_counter()
    total = BatchResult()

    def finished(batch: BatchResult) -> None:
        total.add(batch)
        if progress is not None and batch.claimed:
            progress(batch)

    def budget_used() -> bool:
        return time_budget is not None and time.perf_counter() - started >= time_budget

    if writer is None:
        while True:
            batch = run_batch(conn, worker, batch_size, lease=lease)
            finished(batch)
            if batch.claimed == 0 or budget_used():
                break
    else:
        _idle(writer)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reassess-writer") as pool:
            pending: Future[BatchResult] | None = None
            pending_started = 0.0
            while True:
                job_ids = [] if budget_used() else claim(conn, worker, batch_size, lease)
                ready = prepare(conn, job_ids) if job_ids else None
                if pending is not None:
                    batch = pending.result()
                    batch.seconds = time.perf_counter() - pending_started
                    finished(batch)
                    pending = None
                if ready is None:
                    break
                pending_started = time.perf_counter()
                pending = pool.submit(write, writer, worker, ready)
    total.seconds = time.perf_counter() - started
    return total


def enqueue_due(conn: psycopg.Connection[Any], as_of: dt.datetime | None = None) -> int:
    """Queue the due programs (``private.enqueue_due_reassessments``); returns how many."""
    with conn.transaction():
        row = conn.execute(
            "select private.enqueue_due_reassessments(coalesce(%s, now())) as n", (as_of,)
        ).fetchone()
    assert row is not None
    return int(row["n"] if isinstance(row, Mapping) else row[0])


def claimable(conn: psycopg.Connection[Any]) -> int:
    """How many jobs could be claimed now (queued, due retries, expired leases)."""
    with conn.transaction():
        row = conn.execute(
            "select count(*) from private.reassessment_jobs as j where"
            " (j.status in ('queued', 'failed') and j.run_after <= now())"
            " or (j.status = 'running' and j.locked_until < now())"
        ).fetchone()
    assert row is not None
    return int(row["count"] if isinstance(row, Mapping) else row[0])


def summary_line(result: BatchResult) -> str:
    rate = result.done / result.seconds if result.seconds > 0 else 0.0
    return (
        f"claimed {result.claimed}, done {result.done} ({result.changes} changes), already done "
        f"{result.already_done}, failed {result.failed}, dead {result.dead}, lost {result.lost} "
        f"in {result.seconds:.1f} s ({rate:.0f} programs/s)"
    )


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LEASE",
    "BatchResult",
    "JobPlan",
    "claim",
    "claimable",
    "describe",
    "enqueue_due",
    "event_values",
    "period_inputs",
    "plan_job",
    "process",
    "run_batch",
    "run_until_empty",
    "summary_line",
    "worker_name",
]
