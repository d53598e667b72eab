"""The reassessment's training changes reach the day views (issue 8, item 3; DOMAIN §4, §8).

public.day_effective_sets(user, day) and calendar_day.adjusted_exercises: a muscle group's weekly
sets in force (the newest reassessment volume change whose period has ended) less the week's
planned sets, spread one set at a time over the group's primary instances of the week in plan
order (never below 1 set); a scheduled deload week halves the result (round half up) at the same
load; the day override's volume multiplier applies on top.

Plans, reassessments and their change rows are written as service_role (the worker writes them);
every read runs as the real ``authenticated`` user with claims. Each test is one rolled-back
transaction. The program starts 14 days before the user's local today, so program week 2 starts
today (day 14); a period ending on day 13 is in force from today.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from harness import PostgrestSession, json_decimals, one_row
from sharpened.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

TZ = "UTC"
BENCH = "Barbell_Bench_Press_-_Medium_Grip"  # chest; secondary shoulders, triceps
FLYES = "Dumbbell_Flyes"  # chest
BUTTERFLY = "Butterfly"  # chest
PUSHDOWN = "Triceps_Pushdown"  # triceps
SQUAT = "Barbell_Squat"  # quadriceps; secondary calves, glutes, hamstrings, lower back

# Program week 2 (days 14-20): (day, [(exercise id or None for a custom one, sets)]).
# Chest: 4 + 3 + 4 + 2 + 1 = 14 planned sets in 5 primary instances, in this order.
WEEK_2: tuple[tuple[int, tuple[tuple[str | None, int], ...]], ...] = (
    (14, ((BENCH, 4), (FLYES, 3), (PUSHDOWN, 3))),
    (16, ((BENCH, 4), (SQUAT, 4))),
    (18, ((FLYES, 2), (BUTTERFLY, 1), (None, 3))),
)
CHEST_WEEK_2 = 14
# Program week 3 (days 21-27) is a planned deload: the week 2 sessions' sets halved (at least 1).
# Chest: 2 + 1 + 2 + 1 + 1 = 7.
WEEK_3 = (
    (21, ((BENCH, 2), (FLYES, 1), (PUSHDOWN, 1))),
    (23, ((BENCH, 2), (SQUAT, 2))),
    (25, ((FLYES, 1), (BUTTERFLY, 1), (None, 1))),
)


def spread(sets: Sequence[int], delta: int) -> list[int]:
    """The documented rule on one group's instances (in plan order): every instance gets
    trunc(|delta| / n) sets and the first |delta| mod n one more, with delta's sign; at least 1."""
    n = len(sets)
    sign = -1 if delta < 0 else 1
    whole, rest = divmod(abs(delta), n)
    return [max(1, s + sign * (whole + (1 if i < rest else 0))) for i, s in enumerate(sets)]


@dataclass(eq=False)
class User:
    pg: PostgrestSession
    id: uuid.UUID
    today: dt.date
    start: dt.date
    program: uuid.UUID

    def day(self, n: int) -> dt.date:
        """Day n of the program (14 = today)."""
        return self.start + dt.timedelta(days=n)

    # -------------------------------------------------------- written by service code

    def plan(
        self,
        week: Sequence[tuple[int, Sequence[tuple[str | None, int]]]],
        *,
        deload: bool = False,
    ) -> None:
        with self.pg.as_service() as conn:
            for n, exercises in week:
                session = one_row(
                    conn,
                    "insert into public.session_instances (program_id, user_id, week_index,"
                    " day_index, session_kind, title, planned_duration_minutes, parameters)"
                    " values (%s, %s, %s, %s, 'strength', %s, 60, %s) returning id",
                    (
                        self.program,
                        self.id,
                        n // 7,
                        n % 7,
                        f"day {n}",
                        json.dumps({"deload": deload}),
                    ),
                )["id"]
                for order, (exercise, sets) in enumerate(exercises):
                    conn.execute(
                        "insert into public.exercise_plan_items (session_instance_id, user_id,"
                        " order_index, exercise_id, name, sets, reps_min, reps_max, target_rir,"
                        " target_pct_1rm) values (%s, %s, %s, %s, %s, %s, 8, 12, 2, 75)",
                        (session, self.id, order, exercise, exercise or "Plank", sets),
                    )

    def reassessment(self, period_end_day: int, changes: Sequence[tuple[str, Any]]) -> None:
        """A reassessment of the 14 days ending on program day ``period_end_day`` with its change
        rows: ("volume", (muscle, old sets, new sets)) or ("deload", week start day)."""
        period_end = self.day(period_end_day)
        period_start = period_end - dt.timedelta(days=13)
        with self.pg.as_service() as conn:
            reassessment = one_row(
                conn,
                "insert into public.reassessments (user_id, program_id, period_start, period_end,"
                " inputs, outcome, controller_state, changes) values (%s, %s, %s, %s, '{}', '{}',"
                " '{}', %s) returning id",
                (self.id, self.program, period_start, period_end, len(changes)),
            )["id"]
            for kind, value in changes:
                if kind == "volume":
                    muscle, old, new = value
                    entity = "muscle_group"
                    old_value = {"muscle": muscle, "sets": old}
                    new_value = {"muscle": muscle, "sets": new}
                else:
                    entity = "program"
                    old_value = {"deload": False}
                    week_start = self.day(value)
                    new_value = {
                        "deload": True,
                        "starts_in_weeks": (week_start - period_end).days // 7,
                        "weeks": 1,
                        "week_start": week_start.isoformat(),
                    }
                conn.execute(
                    "insert into public.plan_change_events (user_id, program_id, entity_type,"
                    " change_type, old_value, new_value, reason_code, period_start, period_end,"
                    " reassessment_id) values (%s, %s, %s, %s, %s, %s, 'test_change', %s, %s, %s)",
                    (
                        self.id,
                        self.program,
                        entity,
                        kind,
                        json.dumps(old_value),
                        json.dumps(new_value),
                        period_start,
                        period_end,
                        reassessment,
                    ),
                )

    # ------------------------------------------------------------- read as the user

    def effective(self, n: int, *, of: uuid.UUID | None = None) -> list[dict[str, Any]]:
        """day_effective_sets (POST /rpc/day_effective_sets) of day n, in plan order."""
        with self.pg.as_user(self.id, method="POST") as conn:
            rows = conn.execute(
                "select f.*, e.exercise_id, e.order_index"
                " from public.day_effective_sets(%s, %s) as f"
                " join public.exercise_plan_items as e on e.id = f.exercise_plan_item_id"
                " order by e.order_index",
                (of or self.id, self.day(n)),
            ).fetchall()
        return [dict(r) for r in rows]

    def calendar(self, n: int) -> list[dict[str, Any]]:
        """calendar_day's training rows of day n (GET /calendar_day?date=eq.…)."""
        with self.pg.as_user(self.id, method="GET") as conn:
            rows = conn.execute(
                "select exercises::text as exercises, adjusted_exercises::text as adjusted"
                " from public.calendar_day where date = %s and event_type = 'training'",
                (self.day(n),),
            ).fetchall()
        return [{k: json_decimals(v) for k, v in r.items()} for r in rows]

    def sets(self, n: int) -> list[int]:
        """The adjusted sets calendar_day shows on day n."""
        [row] = self.calendar(n)
        return [e["sets"] for e in row["adjusted"]]


def _user(pg: PostgrestSession) -> User:
    user = pg.signup()
    with pg.as_service() as conn:
        conn.execute(
            "update public.profiles set timezone = %s, sex = 'male' where id = %s", (TZ, user)
        )
        today: dt.date = one_row(conn, "select (now() at time zone %s)::date as d", (TZ,))["d"]
        start = today - dt.timedelta(days=14)
        program: uuid.UUID = one_row(
            conn,
            "insert into public.programs (user_id, version, source, primary_goal,"
            " program_start_date, program_duration_weeks, status, tdee, macros, safety,"
            " feasibility, provenance, full_bundle) values (%s, 1, 'onboarding', 'maintenance',"
            " %s, 8, 'active', '{\"tdee_kcal_rounded\": 2500}', '{\"kcal\": 2000}', '{}', '{}',"
            " '{}', '{}') returning id",
            (user, start),
        )["id"]
    u = User(pg, user, today, start, program)
    u.plan(WEEK_2)
    u.plan(WEEK_3, deload=True)
    return u


def _planned(week: Sequence[tuple[int, Sequence[tuple[str | None, int]]]], n: int) -> list[int]:
    return [sets for day, exercises in week if day == n for _, sets in exercises]


# ------------------------------------------------------------------ set changes


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # +2: one more set on the first two chest instances (day 14's bench and flyes).
        (CHEST_WEEK_2 + 2, {14: [5, 4, 3], 16: [4, 4], 18: [2, 1, 3]}),
        # -2: one set fewer on the same two.
        (CHEST_WEEK_2 - 2, {14: [3, 2, 3], 16: [4, 4], 18: [2, 1, 3]}),
        # +7 over 5 instances: +1 each, the first two +2.
        (CHEST_WEEK_2 + 7, {14: [6, 5, 3], 16: [5, 4], 18: [3, 2, 3]}),
        # -7 over 5 instances: -1 each, the first two -2; the 1-set butterfly stays at 1.
        (CHEST_WEEK_2 - 7, {14: [2, 1, 3], 16: [3, 4], 18: [1, 1, 3]}),
    ],
)
def test_a_weekly_set_change_is_spread_over_the_weeks_primary_instances(
    pg: PostgrestSession, target: int, expected: Mapping[int, list[int]]
) -> None:
    u = _user(pg)
    u.reassessment(13, [("volume", ("chest", CHEST_WEEK_2, target))])
    chest = [
        s for n in (14, 16, 18) for (x, s) in dict(WEEK_2)[n] if x in (BENCH, FLYES, BUTTERFLY)
    ]
    modelled = iter(spread(chest, target - CHEST_WEEK_2))
    for n, sets in expected.items():
        assert u.sets(n) == sets, n
        # The model of the documented rule agrees, instance by instance.
        assert [
            next(modelled) if x in (BENCH, FLYES, BUTTERFLY) else s for x, s in dict(WEEK_2)[n]
        ] == sets
        [row] = u.calendar(n)
        planned = _planned(WEEK_2, n)
        # The plan itself is untouched; each adjusted exercise names the plan and the change.
        assert [e["sets"] for e in row["exercises"]] == planned
        assert [e["planned_sets"] for e in row["adjusted"]] == planned
        assert [e["effective_sets"] for e in row["adjusted"]] == sets
        assert [e["deload"] for e in row["adjusted"]] == [False] * len(sets)
        effective = u.effective(n)
        assert [r["sets"] for r in effective] == sets
        assert [r["planned_sets"] for r in effective] == planned
        # set_change is the share before the 1-set floor.
        for r, e in zip(effective, row["adjusted"], strict=True):
            assert e["set_change"] == r["set_change"]
            assert r["sets"] == max(1, r["planned_sets"] + r["set_change"])
    # The whole change lands in the week unless the floor stops it.
    total = sum(sum(u.sets(n)) for n in (14, 16, 18)) - sum(
        s for n in (14, 16, 18) for s in _planned(WEEK_2, n)
    )
    assert total == (target - CHEST_WEEK_2 if target != CHEST_WEEK_2 - 7 else -6)


def test_the_week_totals_the_target_and_secondary_muscles_count_half(
    pg: PostgrestSession,
) -> None:
    """Triceps: the bench press counts 0.5 per set (2 x 4 x 0.5 = 4) and the pushdown 3: 7 planned.
    A target of 9 adds 2 sets to the one primary instance, the pushdown."""
    u = _user(pg)
    u.reassessment(13, [("volume", ("triceps", 7, 9))])
    assert u.sets(14) == [4, 3, 5]
    assert u.sets(16) == [4, 4]
    # A group's target equal to the week's plan changes nothing.
    u2 = _user(pg)
    u2.reassessment(13, [("volume", ("triceps", 6, 7)), ("volume", ("quads", 4, 4))])
    assert [u2.sets(n) for n in (14, 16, 18)] == [_planned(WEEK_2, n) for n in (14, 16, 18)]
    # A group no exercise of the week trains as primary (biceps) keeps the plan.
    u3 = _user(pg)
    u3.reassessment(13, [("volume", ("biceps", 6, 8))])
    assert [u3.sets(n) for n in (14, 16, 18)] == [_planned(WEEK_2, n) for n in (14, 16, 18)]


def test_changes_apply_only_from_the_day_after_their_period(pg: PostgrestSession) -> None:
    u = _user(pg)
    # In force from day 14: +2 chest. From day 18 (period ending on day 17): chest 12, i.e. -2,
    # spread over the instances from day 18 on. A period ending on day 20 is not in force in
    # week 2 at all.
    u.reassessment(13, [("volume", ("chest", 14, 16))])
    u.reassessment(17, [("volume", ("chest", 16, 12))])
    u.reassessment(20, [("volume", ("chest", 12, 22)), ("deload", 21)])
    assert u.sets(14) == [5, 4, 3]
    assert u.sets(16) == [4, 4]
    # Day 18: -2 over flyes (2 -> 1) and butterfly (1, stays 1: the floor).
    assert u.sets(18) == [1, 1, 3]
    assert [r["set_change"] for r in u.effective(18)] == [-1, -1, 0]


def test_a_later_periods_change_is_not_in_force_yet(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.reassessment(14, [("volume", ("chest", 14, 16)), ("deload", 15)])
    assert u.sets(14) == _planned(WEEK_2, 14)
    # From day 15 on: +2 on the first chest instances from day 15 (day 16's bench, day 18's
    # flyes), and the deload week (days 15-21) halves them.
    assert u.sets(16) == [3, 2]  # bench 5 -> 3, squat 4 -> 2
    assert u.sets(18) == [2, 1, 2]  # flyes 3 -> 2, butterfly 1, plank 3 -> 2


# ----------------------------------------------------------------------- deload


def test_a_deload_week_halves_sets_at_the_same_load(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.reassessment(13, [("deload", 14)])
    for n in (14, 16, 18):
        [row] = u.calendar(n)
        planned = _planned(WEEK_2, n)
        halved = [-(-s // 2) for s in planned]  # round half up: 3 -> 2, 1 -> 1
        assert [e["sets"] for e in row["adjusted"]] == halved
        assert [e["deload"] for e in row["adjusted"]] == [True] * len(planned)
        # Same load, reps and RIR.
        assert {
            (e["target_pct_1rm"], e["reps_min"], e["reps_max"], e["target_rir"])
            for e in row["adjusted"]
        } == {(Decimal(75), 8, 12, 2)}
    assert u.sets(14) == [2, 2, 2]
    # The week after is not a scheduled deload (its planned deload stays as planned).
    assert u.sets(21) == _planned(WEEK_3, 21)
    assert {r["deload"] for r in u.effective(21)} == {False}


def test_a_set_change_then_the_deload(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.reassessment(13, [("volume", ("chest", 14, 16)), ("deload", 14)])
    # bench 4 + 1 = 5 -> 3, flyes 3 + 1 = 4 -> 2, pushdown 3 -> 2.
    assert u.sets(14) == [3, 2, 2]
    assert [(r["set_change"], r["deload"]) for r in u.effective(14)] == [
        (1, True),
        (1, True),
        (0, True),
    ]


def test_a_planned_deload_week_is_not_halved_twice(pg: PostgrestSession) -> None:
    u = _user(pg)
    # Chest 16 in force; week 3 is the plan's deload week: its target is half (8) against the
    # 7 planned, +1 on the first chest instance (day 21's bench). The scheduled deload of the
    # same week does not halve it again.
    u.reassessment(20, [("volume", ("chest", 14, 16)), ("deload", 21)])
    assert u.sets(21) == [3, 1, 1]
    assert [r["deload"] for r in u.effective(21)] == [False, False, False]
    assert u.sets(23) == _planned(WEEK_3, 23)


# ------------------------------------------------------------ the day override


def test_the_override_volume_multiplier_applies_to_the_effective_sets(
    pg: PostgrestSession,
) -> None:
    u = _user(pg)
    u.reassessment(13, [("volume", ("chest", 14, 16))])
    with pg.as_user(u.id) as conn:
        conn.execute(
            "insert into public.user_context_log (user_id, date, soreness_level)"
            " values (%s, %s, 9)",
            (u.id, u.today),
        )
    with pg.as_user(u.id) as conn:
        override = one_row(
            conn,
            "select id, modifications::text as m from public.day_overrides"
            " where date = %s and status = 'pending'",
            (u.today,),
        )
    assert json_decimals(override["m"])["volume_multiplier"] == Decimal("0.75")
    with pg.as_user(u.id, method="POST") as conn:
        conn.execute("select public.approve_adjustment(%s)", (override["id"],))
    [row] = u.calendar(14)
    # Effective 5, 4, 3 x 0.75 = 3.75, 3, 2.25 -> 4, 3, 2 (not the plan's 4, 3, 3 x 0.75 = 3, 2, 2).
    assert [e["effective_sets"] for e in row["adjusted"]] == [5, 4, 3]
    assert [e["sets"] for e in row["adjusted"]] == [4, 3, 2]
    assert [e["target_rir"] for e in row["adjusted"]] == [3, 3, 3]
    assert [e["planned_sets"] for e in row["adjusted"]] == [4, 3, 3]


# ----------------------------------------------------------------- isolation


def test_only_the_users_own_program_counts(pg: PostgrestSession) -> None:
    mine = _user(pg)
    theirs = _user(pg)
    theirs.reassessment(13, [("volume", ("chest", 14, 16)), ("deload", 14)])
    assert theirs.sets(14) == [3, 2, 2]
    # Another user's changes leave mine alone, and their days are not mine to read.
    assert mine.sets(14) == _planned(WEEK_2, 14)
    assert mine.effective(14, of=theirs.id) == []
    with pg.as_user(mine.id, method="GET") as conn:
        days = conn.execute(
            "select distinct user_id from public.calendar_day where date = %s", (mine.today,)
        ).fetchall()
    assert [d["user_id"] for d in days] == [mine.id]
    # A change row that no reassessment made, and one of another program of mine, count nowhere.
    with pg.as_service() as conn:
        conn.execute(
            "insert into public.plan_change_events (user_id, program_id, entity_type,"
            " change_type, old_value, new_value, reason_code, period_start, period_end)"
            " values (%s, %s, 'muscle_group', 'volume', %s, %s, 'manual', %s, %s)",
            (
                mine.id,
                mine.program,
                json.dumps({"muscle": "chest", "sets": 14}),
                json.dumps({"muscle": "chest", "sets": 20}),
                mine.day(0),
                mine.day(13),
            ),
        )
        old = one_row(
            conn,
            "insert into public.programs (user_id, version, source, primary_goal,"
            " program_start_date, program_duration_weeks, status, tdee, macros, safety,"
            " feasibility, provenance, full_bundle) values (%s, 2, 'onboarding', 'maintenance',"
            " %s, 8, 'archived', '{}', '{}', '{}', '{}', '{}', '{}') returning id",
            (mine.id, mine.start),
        )["id"]
    other = User(pg, mine.id, mine.today, mine.start, old)
    other.reassessment(13, [("volume", ("chest", 14, 10)), ("deload", 14)])
    assert mine.sets(14) == _planned(WEEK_2, 14)
    assert {r["set_change"] for r in mine.effective(14)} == {0}


# ------------------------------------------------------- without a reassessment


def _calendar_day_before(conn: psycopg.Connection[Any]) -> None:
    """calendar_day as 20261126002000_daily_adjustments.sql defined it, as a temporary view."""
    text = (PROJECT_ROOT / "supabase/migrations/20261126002000_daily_adjustments.sql").read_text()
    match = re.search(
        r"create or replace view public\.calendar_day\n(.*?\) as it on m\.id is not null);",
        text,
        re.S,
    )
    assert match is not None
    conn.execute("create temporary view calendar_day_before\n" + match.group(1))
    conn.execute("grant select on calendar_day_before to authenticated")


def test_a_program_without_a_reassessment_reads_as_before(pg: PostgrestSession) -> None:
    u = _user(pg)
    # An active override too, so that the adjusted columns differ from the plan.
    with pg.as_user(u.id) as conn:
        conn.execute(
            "insert into public.user_context_log (user_id, date, soreness_level, sleep_hours)"
            " values (%s, %s, 9, 4.5)",
            (u.id, u.today),
        )
        found = one_row(conn, "select id from public.day_overrides where date = %s", (u.today,))
    override = found["id"]
    with pg.as_user(u.id, method="POST") as conn:
        conn.execute("select public.approve_adjustment(%s)", (override,))
    _calendar_day_before(pg.conn)
    query = (
        "select id, user_id, program_id, date, event_type, title, time_of_day, status, ref_table,"
        " ref_id, session_kind, planned_duration_minutes, parameters::text, meal_type, meal_time,"
        " targets::text, totals::text, exercises::text, items::text, override_id,"
        " override_status, adjustment_reasons, adjustment_explanation, adjusted_session_kind,"
        " adjusted_exercises::text, adjusted_targets::text from {} order by date, id"
    )
    with pg.as_user(u.id, method="GET") as conn:
        now = [dict(r) for r in conn.execute(query.format("public.calendar_day")).fetchall()]
        before = [
            dict(r) for r in conn.execute(query.format("pg_temp.calendar_day_before")).fetchall()
        ]
    assert len(now) == len(before) == 6
    new_keys = {"effective_sets", "set_change", "deload"}
    for a, b in zip(now, before, strict=True):
        adjusted, old = (
            json_decimals(a.pop("adjusted_exercises")),
            json_decimals(b.pop("adjusted_exercises")),
        )
        assert a == b
        for e in adjusted:
            assert (e["effective_sets"], e["set_change"], e["deload"]) == (
                e["planned_sets"],
                0,
                False,
            )
        assert [{k: v for k, v in e.items() if k not in new_keys} for e in adjusted] == old
    # The override did change today's sets, the same way in both.
    assert [e["sets"] for e in json_decimals(now[0]["exercises"])] == _planned(WEEK_2, 14)
    assert u.sets(14) != _planned(WEEK_2, 14)
