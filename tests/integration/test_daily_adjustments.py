"""Daily adaptation (issue 7): the context log becomes a day override (checked against the model
in tests/daily_adjustment_model.py), its approval state machine, preferences, transitions,
notifications, RLS and the plan a client reads.

Plans (programs, sessions, meals) are written as service_role; every client call (the context
log, preferences, the RPCs, reads) runs as the real ``authenticated`` user with claims. A test is
one rolled-back transaction, so now() and each user's local today are fixed; the analysis only
runs for the local today or later, so the plans are built around it. The 7-day adherence comes
from adherence_daily rows written as service_role (the rollups themselves are tested in
test_adherence.py), except for yesterday's missed session, which is a real calendar verdict.
Time passing is simulated by private.apply_due_overrides(as_of) and by moving applied_at /
undo_until back as service_role.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors

import daily_adjustment_model as model
from harness import PostgrestSession, json_decimals, one_row

pytestmark = pytest.mark.integration

D = Decimal
TZ = "Pacific/Auckland"
MEALS = (
    ("breakfast", {"kcal": 500, "protein_g": 30, "carbs_g": 60, "fat_g": 15}),
    ("lunch", {"kcal": 700, "protein_g": 45, "carbs_g": 80, "fat_g": 20}),
    ("dinner", {"kcal": 800, "protein_g": 50, "carbs_g": 90, "fat_g": 25}),
)
# (sets, target_rir, target_pct_1rm) of the planned exercises.
EXERCISES = ((6, 2, D(80)), (4, 5, D("77.5")), (1, None, None))
OPEN = ("pending", "approved", "auto_applied")
COUNTS = ("completed", "similar", "partial", "skipped")
LOG_COLUMNS = (
    "sleep_hours",
    "sleep_quality",
    "stress_level",
    "soreness_level",
    "energy_level",
    "injury_notes",
)


# ------------------------------------------------------------------ helpers


UPSERT_LOG = (
    f"insert into public.user_context_log (user_id, date, {', '.join(LOG_COLUMNS)})"  # noqa: S608
    " values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (user_id, date) do update set "
    + ", ".join(f"{c} = excluded.{c}" for c in LOG_COLUMNS)
)
OVERRIDE_COLUMNS = (
    "id, program_id, date, status, reason_codes, modifications::text as modifications, approval,"
    " confidence, triggers::text as triggers, explanation, apply_after, applied_at, decided_at,"
    " undo_until, ctid::text as ctid"
)


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "modifications": json_decimals(row["modifications"]),
        "triggers": json_decimals(row["triggers"]),
    }


@dataclass(eq=False)
class User:
    """A user (time zone, sex) with an active program that started 14 days before local today."""

    pg: PostgrestSession
    id: uuid.UUID
    today: dt.date
    start: dt.date
    program: uuid.UUID
    sex: str | None
    tdee: int | None

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    # ------------------------------------------------------- the plan (service_role)

    def _index(self, day: dt.date) -> tuple[int, int]:
        return divmod((day - self.start).days, 7)

    def session(
        self, day: dt.date, *, kind: str = "strength", exercises: Sequence[tuple[Any, ...]] = ()
    ) -> uuid.UUID:
        """Plans a session on ``day``; returns its calendar event."""
        week, weekday = self._index(day)
        with self.pg.as_service() as conn:
            item = one_row(
                conn,
                "insert into public.session_instances (program_id, user_id, week_index, day_index,"
                " session_kind, title, planned_duration_minutes) values (%s, %s, %s, %s, %s, %s,"
                " 60) returning id",
                (self.program, self.id, week, weekday, kind, f"{kind} {day}"),
            )["id"]
            for order, (sets, rir, pct) in enumerate(exercises):
                conn.execute(
                    "insert into public.exercise_plan_items (session_instance_id, user_id,"
                    " order_index, name, sets, reps_min, reps_max, target_rir, target_pct_1rm)"
                    " values (%s, %s, %s, %s, %s, 8, 12, %s, %s)",
                    (item, self.id, order, f"Exercise {order}", sets, rir, pct),
                )
        return self._event(item)

    def meals(self, day: dt.date, meals: Sequence[tuple[str, Mapping[str, int]]] = MEALS) -> None:
        week, weekday = self._index(day)
        with self.pg.as_service() as conn:
            for meal_type, targets in meals:
                conn.execute(
                    "insert into public.meal_instances (program_id, user_id, week_index,"
                    " day_index, meal_type, targets) values (%s, %s, %s, %s, %s, %s)",
                    (self.program, self.id, week, weekday, meal_type, json.dumps(targets)),
                )

    def plan_day(self, day: dt.date) -> None:
        """A strength session with EXERCISES and MEALS (2000 kcal)."""
        self.session(day, exercises=EXERCISES)
        self.meals(day)

    def _event(self, item: uuid.UUID) -> uuid.UUID:
        event: uuid.UUID = one_row(
            self.pg.conn, "select id from public.calendar_events where ref_id = %s", (item,)
        )["id"]
        return event

    def adherence(self, day: dt.date, kind: str, **given: int) -> None:
        """An adherence_daily row (service_role; planned = the decided items)."""
        counts = {k: given.get(k, 0) for k in COUNTS}
        with self.pg.as_service() as conn:
            conn.execute(
                "insert into public.adherence_daily (user_id, date, kind, planned_items,"
                " completed_items, similar_items, partial_items, skipped_items)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (self.id, day, kind, max(1, sum(counts.values())), *map(counts.get, COUNTS)),
            )

    def model_day(self, planned_kcal: int | None = 2000, *, has_session: bool = True) -> model.Day:
        return model.Day(
            has_session=has_session,
            planned_kcal=None if planned_kcal is None else D(planned_kcal),
            floor_kcal=model.floor_kcal(self.sex),
            tdee_kcal=None if self.tdee is None else D(self.tdee),
        )

    # ------------------------------------------------------- the client (authenticated)

    def log(self, day: dt.date, **fields: object) -> None:
        """Upserts the day's context log as PostgREST does (on conflict (user_id, date))."""
        values = [fields.get(c) for c in LOG_COLUMNS]
        with self.pg.as_user(self.id) as conn:
            conn.execute(UPSERT_LOG, (self.id, day, *values))

    def delete_log(self, day: dt.date) -> None:
        with self.pg.as_user(self.id) as conn:
            conn.execute(
                "delete from public.user_context_log where user_id = %s and date = %s",
                (self.id, day),
            )

    def prefer(self, trigger: str, domain: str, mode: str) -> None:
        with self.pg.as_user(self.id) as conn:
            conn.execute(
                "insert into public.adjustment_preferences (user_id, trigger, domain, mode)"
                " values (%s, %s, %s, %s) on conflict (user_id, trigger, domain)"
                " do update set mode = excluded.mode",
                (self.id, trigger, domain, mode),
            )

    def overrides(self, day: dt.date) -> list[dict[str, Any]]:
        with self.pg.as_user(self.id) as conn:
            rows = conn.execute(
                f"select {OVERRIDE_COLUMNS} from public.day_overrides where date = %s",  # noqa: S608
                (day,),
            ).fetchall()
        return [_row(r) for r in rows]

    def open_override(self, day: dt.date) -> dict[str, Any] | None:
        found = [o for o in self.overrides(day) if o["status"] in OPEN]
        assert len(found) <= 1
        return found[0] if found else None

    def rpc(self, name: str, override: uuid.UUID) -> dict[str, Any]:
        with self.pg.as_user(self.id) as conn:
            return _row(
                one_row(
                    conn,
                    f"select {OVERRIDE_COLUMNS.replace(', ctid::text as ctid', '')}"  # noqa: S608
                    f" from public.{name}(%s)",
                    (override,),
                )
            )

    def transitions(self, override: uuid.UUID) -> list[tuple[str | None, str, str]]:
        with self.pg.as_user(self.id) as conn:
            rows = conn.execute(
                "select from_status, to_status, actor from public.day_override_transitions"
                " where override_id = %s order by created_at, id",
                (override,),
            ).fetchall()
        return [(r["from_status"], r["to_status"], r["actor"]) for r in rows]

    def notifications(self, override: uuid.UUID) -> list[dict[str, Any]]:
        with self.pg.as_user(self.id) as conn:
            rows = conn.execute(
                "select id, kind, priority, title, body, action_taken, read_at, ref_table"
                " from public.notifications where ref_id = %s order by kind, priority",
                (override,),
            ).fetchall()
        return [dict(r) for r in rows]


def _user(
    pg: PostgrestSession, *, sex: str | None = "male", tdee: int | None = 2500, tz: str = TZ
) -> User:
    user = pg.signup()
    with pg.as_service() as conn:
        conn.execute(
            "update public.profiles set timezone = %s, sex = %s where id = %s", (tz, sex, user)
        )
        today: dt.date = one_row(conn, "select (now() at time zone %s)::date as d", (tz,))["d"]
        start = today - dt.timedelta(days=14)
        program: uuid.UUID = one_row(
            conn,
            "insert into public.programs (user_id, version, source, primary_goal,"
            " program_start_date, program_duration_weeks, status, tdee, macros, safety,"
            " feasibility, provenance, full_bundle) values (%s, 1, 'onboarding', 'maintenance',"
            " %s, 8, 'active', %s, '{}', '{}', '{}', '{}', '{}') returning id",
            (user, start, json.dumps({} if tdee is None else {"tdee_kcal_rounded": tdee})),
        )["id"]
    return User(pg, user, today, start, program, sex, tdee)


def _now(pg: PostgrestSession) -> dt.datetime:
    now: dt.datetime = one_row(pg.conn, "select now() as t")["t"]
    return now


def _apply_due(pg: PostgrestSession, as_of: dt.datetime) -> int:
    applied: int = one_row(pg.conn, "select private.apply_due_overrides(%s) as n", (as_of,))["n"]
    return applied


def _assert_matches(
    pg: PostgrestSession, row: Mapping[str, Any] | None, expected: model.Proposal | None
) -> None:
    """The stored override equals the model's proposal (or neither exists)."""
    if expected is None:
        assert row is None
        return
    assert row is not None
    assert row["status"] == "pending"
    assert row["reason_codes"] == expected.reason_codes
    assert row["modifications"] == dict(expected.modifications)
    assert row["approval"] == expected.approval
    assert row["confidence"] == expected.confidence
    assert row["triggers"] == expected.triggers
    grace = dt.timedelta(minutes=model.GRACE_MINUTES)
    assert row["apply_after"] == (_now(pg) + grace if expected.approval == "auto_apply" else None)
    assert (row["applied_at"], row["decided_at"], row["undo_until"]) == (None, None, None)
    explanation = row["explanation"].lower()
    for code in expected.reason_codes:
        assert model.REASON_WORDS[code] in explanation
    # The DOMAIN §7 caps, whatever the inputs.
    mods = row["modifications"]
    assert D("0.5") <= mods.get("volume_multiplier", 1) <= 1
    assert -500 <= mods.get("kcal_delta", 0) <= 500


def _pending(u: User, **context: object) -> dict[str, Any]:
    """Plans today, logs ``context`` and returns the override it proposes."""
    u.plan_day(u.today)
    u.log(u.today, **context)
    row = u.open_override(u.today)
    assert row is not None
    return row


# --------------------------------------------------------------- the analysis

SLEEP, QUALITY, STRESS, SORENESS = "sleep_hours", "sleep_quality", "stress_level", "soreness_level"
CASES: Mapping[str, dict[str, Any]] = {
    "sleep 4.5 h": {SLEEP: D("4.5")},
    "sleep quality 4": {QUALITY: 4},
    "sleep 2 h": {SLEEP: D(2)},
    "sleep 0 h": {SLEEP: D(0)},
    "stress 8": {STRESS: 8},
    "soreness 9": {SORENESS: 9},
    "injury": {"injury_notes": "sore left knee"},
    "sleep 5.5 h, stress 9, soreness 8": {SLEEP: D("5.5"), STRESS: 9, SORENESS: 8},
    "everything": {SLEEP: D(0), QUALITY: 1, STRESS: 10, SORENESS: 10, "injury_notes": "back"},
    "nothing": {SLEEP: D(6), QUALITY: 5, STRESS: 7, SORENESS: 7},
}


@pytest.mark.parametrize("case", list(CASES))
def test_context_triggers_alone_and_combined(pg: PostgrestSession, case: str) -> None:
    u = _user(pg)
    u.plan_day(u.today)
    u.log(u.today, **CASES[case])
    expected = model.analyse(model.Context(**CASES[case]), day=u.model_day())
    _assert_matches(pg, u.open_override(u.today), expected)
    if expected is not None:
        assert u.overrides(u.today)[0]["program_id"] == u.program


def test_the_pinned_domain_values_reach_the_table(pg: PostgrestSession) -> None:
    row = _pending(_user(pg), sleep_hours=D("5.5"), stress_level=9, soreness_level=8)
    assert row["modifications"]["volume_multiplier"] == D("0.625")  # 0.98 x 0.85 x 0.75
    assert (row["modifications"]["kcal_delta"], row["confidence"]) == (150, D("0.900"))


def _not_closed_yet(pg: PostgrestSession, event: uuid.UUID) -> None:
    """A passed day's session as it is until close_past_days runs: still planned, no verdict.

    (A session planned on a day that has already passed is closed at once, so the state is made
    with the adherence triggers off, as the superuser.)"""
    with pg.conn.transaction():
        pg.conn.execute("set local session_replication_role = replica")
        item = one_row(
            pg.conn,
            "update public.calendar_events set status = 'planned' where id = %s returning ref_id",
            (event,),
        )["ref_id"]
        pg.conn.execute(
            "delete from public.adherence_records where planned_entity_id = %s", (item,)
        )
        pg.conn.execute(
            "update public.adherence_daily as a set skipped_items = 0 from public.calendar_events"
            " as ce where ce.id = %s and a.user_id = ce.user_id and a.date = ce.date",
            (event,),
        )
        pg.conn.execute("set local session_replication_role = origin")


@pytest.mark.parametrize("verdict", ["skipped", "planned"])
def test_missed_workout_from_yesterdays_session(pg: PostgrestSession, verdict: str) -> None:
    u = _user(pg)
    yesterday = u.session(u.day(-1), exercises=EXERCISES)
    u.meals(u.today)
    counts = model.Adherence()
    if verdict == "skipped":
        with pg.as_user(u.id) as conn:
            conn.execute("select public.set_adherence(%s, 'skipped')", (yesterday,))
        # Yesterday's skip alone would be 0 % (low adherence): 3 meals completed make it 75 %.
        u.adherence(u.day(-3), "meal", completed=3)
        counts = model.Adherence(completed=3, skipped=1)
    else:
        _not_closed_yet(pg, yesterday)
    u.log(u.today, energy_level=6)
    expected = model.analyse(
        model.Context(energy_level=6),
        missed_yesterday=True,
        adherence=counts,
        day=u.model_day(has_session=False),
    )
    assert expected is not None
    assert expected.modifications == {"kcal_delta": -240, "carbs_delta_g": -60}
    _assert_matches(pg, u.open_override(u.today), expected)


def test_a_session_done_yesterday_or_due_today_is_not_missed(pg: PostgrestSession) -> None:
    u = _user(pg)
    done = u.session(u.day(-1))
    u.session(u.day(-1), kind="rest")  # a rest day is never missed
    with pg.as_user(u.id) as conn:
        conn.execute("select public.set_adherence(%s, 'completed')", (done,))
    u.adherence(u.day(-3), "meal", completed=1, skipped=1)  # 2 of 3: 66.7 %, no trigger
    u.session(u.today)  # tomorrow's yesterday: still today, not missed yet
    for offset in (0, 1):
        u.meals(u.day(offset))
        u.log(u.day(offset), energy_level=3)
        assert u.overrides(u.day(offset)) == []


def test_the_analysis_runs_for_today_and_later_only(pg: PostgrestSession) -> None:
    u = _user(pg)
    for offset in (-1, 0, 3):
        u.plan_day(u.day(offset))
        u.log(u.day(offset), soreness_level=9)
    assert u.overrides(u.day(-1)) == []
    assert u.open_override(u.today) is not None
    assert u.open_override(u.day(3)) is not None


def test_a_past_days_override_is_left_alone(pg: PostgrestSession) -> None:
    # Proposed and approved on the user's local today in Pago Pago (UTC-11); the user then moves
    # to Kiritimati (UTC+14), where that day has passed: the analysis no longer runs for it.
    u = _user(pg, tz="Pacific/Pago_Pago")
    approved = u.rpc("approve_adjustment", _pending(u, soreness_level=9)["id"])
    with pg.as_service() as conn:
        conn.execute(
            "update public.profiles set timezone = 'Pacific/Kiritimati' where id = %s", (u.id,)
        )
    assert (
        one_row(pg.conn, "select private.user_local_date(%s, now()) as d", (u.id,))["d"] > u.today
    )
    u.log(u.today, soreness_level=2)
    u.delete_log(u.today)
    [still] = u.overrides(u.today)
    assert (still["id"], still["status"]) == (approved["id"], "approved")
    assert u.transitions(approved["id"])[-1] == ("pending", "approved", "user")


def test_no_program_in_force_no_override(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.plan_day(u.today)
    with pg.as_service() as conn:
        conn.execute("update public.programs set status = 'archived' where id = %s", (u.program,))
    u.log(u.today, soreness_level=9)
    assert u.overrides(u.today) == []


@pytest.mark.parametrize(
    ("rows", "counts"),
    [
        ({-1: {"completed": 1, "skipped": 2}, -4: {"partial": 2}}, (1, 0, 2, 2)),  # 36 % low
        ({-1: {"completed": 20}, -7: {"similar": 1}}, (20, 1, 0, 0)),  # 98.8 % high
        ({-2: {"completed": 1, "skipped": 1}}, (1, 0, 0, 1)),  # exactly 50 %: neither
        ({-3: {"completed": 19, "skipped": 1}}, (19, 0, 0, 1)),  # exactly 95 %: neither
    ],
)
def test_adherence_of_the_7_days_before(
    pg: PostgrestSession, rows: Mapping[int, Mapping[str, int]], counts: tuple[int, ...]
) -> None:
    u = _user(pg)
    u.plan_day(u.today)
    for offset, row in rows.items():
        u.adherence(u.day(offset), "session", **row)
    # Outside the window: 8 days before and the day itself (its planned meals all skipped).
    u.adherence(u.day(-8), "meal", skipped=30)
    with pg.as_service() as conn:
        conn.execute(
            "update public.adherence_daily set skipped_items = planned_items"
            " where user_id = %s and date = %s",
            (u.id, u.today),
        )
    u.log(u.today, energy_level=5)
    adherence = model.Adherence(*counts)
    expected = model.analyse(model.Context(), adherence=adherence, day=u.model_day())
    _assert_matches(pg, u.open_override(u.today), expected)


@pytest.mark.parametrize(
    ("sex", "tdee", "planned", "missed", "context", "delta"),
    [
        ("female", 2500, 1300, True, {}, -100),  # floor 1200
        (None, 2500, 1655, True, {}, -150),  # floor 1500 without a sex; -155 -> -150
        ("male", 2500, 1400, True, {}, 0),  # already below the floor: never turned around
        ("male", 2000, 2345, False, {"stress_level": 8}, 150),  # TDEE + 500: 155 -> 150
        ("male", 2000, 2600, False, {"stress_level": 8}, 0),  # already above
        ("male", 3000, 2000, True, {"stress_level": 9}, -90),  # -240 + 150
    ],
)
def test_kcal_caps_floor_and_tdee(
    pg: PostgrestSession,
    sex: str | None,
    tdee: int,
    planned: int,
    missed: bool,
    context: dict[str, Any],
    delta: int,
) -> None:
    u = _user(pg, sex=sex, tdee=tdee)
    counts = model.Adherence()
    if missed:
        u.session(u.day(-1))  # skipped yesterday: missed
        u.adherence(u.day(-2), "meal", completed=3)  # 75 %: no adherence trigger
        counts = model.Adherence(completed=3, skipped=1)
    u.session(u.today)
    u.meals(u.today, [("lunch", {"kcal": planned, "protein_g": 50, "carbs_g": 100, "fat_g": 30})])
    u.log(u.today, energy_level=5, **context)
    expected = model.analyse(
        model.Context(energy_level=5, **context),
        missed_yesterday=missed,
        adherence=counts,
        day=u.model_day(planned),
    )
    assert expected is not None
    assert expected.modifications["kcal_delta"] == delta
    _assert_matches(pg, u.open_override(u.today), expected)


def test_high_adherence_and_stress_add_up_to_350(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.plan_day(u.today)
    u.adherence(u.day(-2), "meal", completed=21)
    u.prefer("high_stress", "nutrition", "auto_apply")
    u.log(u.today, stress_level=8)
    expected = model.analyse(
        model.Context(stress_level=8),
        adherence=model.Adherence(completed=21),
        day=u.model_day(),
        preferences={("high_stress", "nutrition"): "auto_apply"},
    )
    assert expected is not None
    assert expected.modifications["kcal_delta"] == 350
    assert expected.approval == "auto_apply"
    _assert_matches(pg, u.open_override(u.today), expected)


def test_parts_without_a_planned_session_or_meal_are_dropped(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.session(u.today, kind="rest")
    u.meals(u.today)
    u.log(u.today, sleep_hours=D(3), stress_level=9)
    expected = model.analyse(
        model.Context(sleep_hours=D(3), stress_level=9), day=u.model_day(has_session=False)
    )
    assert expected is not None
    assert expected.reason_codes == ["high_stress"]
    _assert_matches(pg, u.open_override(u.today), expected)
    u.session(u.day(1))  # no meal tomorrow
    u.log(u.day(1), stress_level=9)
    tomorrow = model.analyse(model.Context(stress_level=9), day=u.model_day(None))
    assert tomorrow is not None
    assert tomorrow.modifications == {"volume_multiplier": D("0.85")}
    _assert_matches(pg, u.open_override(u.day(1)), tomorrow)


# ---------------------------------------------------------------- preferences


# "trigger/domain=mode ..." and the day's context log.
PREFERENCE_CASES: Sequence[tuple[str, dict[str, Any]]] = [
    ("poor_sleep/training=disable", {SLEEP: D(4)}),
    ("poor_sleep/training=disable", {SLEEP: D(4), SORENESS: 9}),
    ("high_stress/nutrition=disable", {STRESS: 8}),
    ("high_stress/training=disable", {STRESS: 8}),
    ("high_stress/nutrition=auto_apply", {STRESS: 8}),
    ("poor_sleep/training=ask", {SLEEP: D(4)}),
    ("high_soreness/nutrition=ask", {SORENESS: 9}),  # nothing to adjust: still auto_apply
    ("injury/training=auto_apply", {"injury_notes": "ankle"}),
    ("high_soreness/training=ask poor_sleep/training=auto_apply", {SLEEP: D(5), SORENESS: 9}),
]


@pytest.mark.parametrize(("modes", "context"), PREFERENCE_CASES)
def test_preferences(pg: PostgrestSession, modes: str, context: dict[str, Any]) -> None:
    u = _user(pg)
    preferences: dict[tuple[str, str], str] = {}
    for item in modes.split():
        trigger, rest = item.split("/")
        domain, mode = rest.split("=")
        preferences[trigger, domain] = mode
        u.prefer(trigger, domain, mode)
    u.plan_day(u.today)
    u.log(u.today, **context)
    expected = model.analyse(model.Context(**context), day=u.model_day(), preferences=preferences)
    _assert_matches(pg, u.open_override(u.today), expected)


def test_missed_workout_can_be_disabled(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.prefer("missed_workout", "nutrition", "disable")
    u.session(u.day(-1))  # skipped
    u.adherence(u.day(-2), "meal", completed=3)  # 75 %
    u.plan_day(u.today)
    u.log(u.today, energy_level=5)
    assert u.overrides(u.today) == []


# ---------------------------------------------------------------- re-analysis


def test_a_changed_preference_re_analyses_pending_days_but_not_applied_ones(
    pg: PostgrestSession,
) -> None:
    u = _user(pg)
    u.plan_day(u.day(1))
    today = _pending(u, stress_level=9)  # training auto, nutrition ask: waits for approval
    u.log(u.day(1), stress_level=9)
    tomorrow = u.open_override(u.day(1))
    assert tomorrow is not None
    with pg.as_user(u.id) as conn:
        conn.execute("select public.approve_adjustment(%s)", (tomorrow["id"],))

    u.prefer("high_stress", "nutrition", "auto_apply")

    revised = u.open_override(u.today)
    assert revised is not None
    assert revised["id"] == today["id"]
    preferences = {("high_stress", "nutrition"): "auto_apply"}
    expected = model.analyse(model.Context(stress_level=9), preferences=preferences)
    assert expected is not None
    assert expected.approval == "auto_apply"
    _assert_matches(pg, revised, expected)
    applied = u.open_override(u.day(1))
    assert applied is not None
    assert (applied["id"], applied["status"], applied["approval"]) == (
        tomorrow["id"],
        "approved",
        "ask",
    )

    u.prefer("high_stress", "nutrition", "disable")
    u.prefer("high_stress", "training", "disable")
    assert u.open_override(u.today) is None
    assert u.transitions(today["id"])[-1] == ("pending", "withdrawn", "system")


def test_an_updated_log_revises_the_pending_override_in_place(pg: PostgrestSession) -> None:
    u = _user(pg)
    first = _pending(u, sleep_hours=D("4.5"))
    with pg.as_service() as conn:  # as if proposed an hour ago
        conn.execute(
            "update public.day_overrides set apply_after = now() + interval '60 minutes'"
            " where id = %s",
            (first["id"],),
        )
    u.log(u.today, sleep_hours=D(2))
    revised = u.open_override(u.today)
    assert revised is not None
    assert revised["id"] == first["id"]
    _assert_matches(pg, revised, model.analyse(model.Context(sleep_hours=D(2))))  # restarted
    u.log(u.today, sleep_hours=D(2), stress_level=8)
    asking = u.open_override(u.today)
    assert asking is not None
    assert asking["id"] == first["id"]
    _assert_matches(
        pg, asking, model.analyse(model.Context(sleep_hours=D(2), stress_level=8))
    )  # ask: apply_after NULL
    assert len(u.overrides(u.today)) == 1
    assert u.transitions(first["id"])[0] == (None, "pending", "system")
    assert {t[1] for t in u.transitions(first["id"])} == {"pending"}


def test_an_unchanged_result_changes_nothing(pg: PostgrestSession) -> None:
    u = _user(pg)
    before = _pending(u, soreness_level=9, energy_level=4)
    transitions, notes = u.transitions(before["id"]), u.notifications(before["id"])
    u.log(u.today, soreness_level=9, energy_level=8)  # energy is no trigger
    after = u.open_override(u.today)
    assert after == before  # the same tuple (ctid): not even rewritten
    assert (u.transitions(before["id"]), u.notifications(before["id"])) == (transitions, notes)


@pytest.mark.parametrize("change", ["no longer triggers", "deleted"])
def test_a_log_that_no_longer_calls_for_it_withdraws_the_pending_override(
    pg: PostgrestSession, change: str
) -> None:
    u = _user(pg)
    pending = _pending(u, soreness_level=9)
    if change == "deleted":
        u.delete_log(u.today)
    else:
        u.log(u.today, soreness_level=3)
    assert u.open_override(u.today) is None
    [withdrawn] = u.overrides(u.today)
    assert (withdrawn["id"], withdrawn["status"]) == (pending["id"], "withdrawn")
    assert (withdrawn["decided_at"], withdrawn["applied_at"]) == (_now(pg), None)
    assert u.transitions(pending["id"]) == [
        (None, "pending", "system"),
        ("pending", "withdrawn", "system"),
    ]
    kinds = [(n["kind"], n["priority"]) for n in u.notifications(pending["id"])]
    assert kinds == [("adjustment_pending", "normal"), ("adjustment_withdrawn", "normal")]


def test_a_change_after_approval_undoes_it_and_proposes_anew(pg: PostgrestSession) -> None:
    u = _user(pg)
    first = _pending(u, soreness_level=9)
    u.rpc("approve_adjustment", first["id"])
    u.log(u.today, soreness_level=9, sleep_hours=D(4))
    second = u.open_override(u.today)
    assert second is not None
    assert second["id"] != first["id"]
    _assert_matches(pg, second, model.analyse(model.Context(soreness_level=9, sleep_hours=D(4))))
    old = next(o for o in u.overrides(u.today) if o["id"] == first["id"])
    assert (old["status"], old["decided_at"]) == ("undone", _now(pg))
    assert u.transitions(first["id"])[-1] == ("approved", "undone", "system")
    assert u.transitions(second["id"]) == [(None, "pending", "system")]
    # Deleting the log undoes the applied one without a new proposal.
    u.rpc("approve_adjustment", second["id"])
    u.delete_log(u.today)
    assert u.open_override(u.today) is None
    assert {o["status"] for o in u.overrides(u.today)} == {"undone"}


# -------------------------------------------------------------- state machine


def test_approve_then_undo(pg: PostgrestSession) -> None:
    u = _user(pg)
    pending = _pending(u, sleep_hours=D(3), stress_level=8)  # ask: high priority
    approved = u.rpc("approve_adjustment", pending["id"])
    now = _now(pg)
    assert approved["id"] == pending["id"]
    assert approved["status"] == "approved"
    assert (approved["decided_at"], approved["applied_at"]) == (now, now)
    assert approved["undo_until"] == now + dt.timedelta(hours=model.UNDO_HOURS)
    assert u.transitions(pending["id"]) == [
        (None, "pending", "system"),
        ("pending", "approved", "user"),
    ]
    notes = {n["kind"]: n for n in u.notifications(pending["id"])}
    assert set(notes) == {"adjustment_pending", "adjustment_applied"}
    assert notes["adjustment_pending"]["priority"] == "high"
    assert notes["adjustment_applied"]["priority"] == "low"
    assert (
        notes["adjustment_pending"]["action_taken"],
        notes["adjustment_pending"]["read_at"],
    ) == (
        "approved",
        now,
    )
    assert all(n["ref_table"] == "day_overrides" and n["title"].strip() for n in notes.values())
    undone = u.rpc("undo_adjustment", pending["id"])
    assert (undone["status"], undone["decided_at"], undone["applied_at"]) == ("undone", now, now)
    assert u.transitions(pending["id"])[-1] == ("approved", "undone", "user")
    kinds = {(n["kind"], n["priority"]) for n in u.notifications(pending["id"])}
    assert ("adjustment_undone", "low") in kinds


def test_reject(pg: PostgrestSession) -> None:
    u = _user(pg)
    pending = _pending(u, injury_notes="shoulder")
    rejected = u.rpc("reject_adjustment", pending["id"])
    assert (rejected["status"], rejected["decided_at"]) == ("rejected", _now(pg))
    assert (rejected["applied_at"], rejected["undo_until"]) == (None, None)
    assert u.transitions(pending["id"])[-1] == ("pending", "rejected", "user")
    notes = u.notifications(pending["id"])
    assert [(n["kind"], n["priority"], n["action_taken"]) for n in notes] == [
        ("adjustment_pending", "high", "rejected"),
        ("adjustment_rejected", "low", None),
    ]
    # The calendar shows no open override, and the day stays as planned.
    assert u.open_override(u.today) is None


def test_auto_apply_after_the_grace_period_then_undo(pg: PostgrestSession) -> None:
    u = _user(pg)
    auto = _pending(u, soreness_level=9)
    asked = _pending(_user(pg), injury_notes="knee")
    assert (auto["approval"], asked["approval"]) == ("auto_apply", "ask")
    grace = dt.timedelta(minutes=model.GRACE_MINUTES)
    now = _now(pg)
    assert _apply_due(pg, now + grace - dt.timedelta(seconds=1)) == 0
    assert u.open_override(u.today) == auto
    as_of = now + grace
    assert _apply_due(pg, as_of) == 1
    applied = u.open_override(u.today)
    assert applied is not None
    assert (applied["status"], applied["applied_at"]) == ("auto_applied", as_of)
    assert applied["undo_until"] == as_of + dt.timedelta(hours=24)
    assert applied["decided_at"] is None
    assert u.transitions(auto["id"])[-1] == ("pending", "auto_applied", "system")
    applied_note = [n for n in u.notifications(auto["id"]) if n["kind"] == "adjustment_applied"]
    assert [(n["priority"], n["action_taken"]) for n in applied_note] == [("normal", None)]
    # An ask override never applies by itself; nothing is applied twice.
    assert _apply_due(pg, now + dt.timedelta(days=2)) == 0
    undone = u.rpc("undo_adjustment", auto["id"])  # now <= as_of + 24 h
    assert (undone["status"], undone["decided_at"]) == ("undone", now)
    assert u.transitions(auto["id"])[-1] == ("auto_applied", "undone", "user")
    note = {n["kind"]: n for n in u.notifications(auto["id"])}
    assert (note["adjustment_pending"]["action_taken"], note["adjustment_pending"]["read_at"]) == (
        "undone",
        now,
    )
    assert note["adjustment_undone"]["priority"] == "low"


@pytest.mark.parametrize(("hours_ago", "allowed"), [(24, True), (25, False)])
def test_undo_window(pg: PostgrestSession, hours_ago: int, allowed: bool) -> None:
    u = _user(pg)
    pending = _pending(u, soreness_level=9)
    u.rpc("approve_adjustment", pending["id"])
    with pg.as_service() as conn:  # applied hours_ago hours ago
        conn.execute(
            "update public.day_overrides set applied_at = now() - make_interval(hours => %s),"
            " undo_until = now() - make_interval(hours => %s) + interval '24 hours'"
            " where id = %s",
            (hours_ago, hours_ago, pending["id"]),
        )
    if allowed:
        assert u.rpc("undo_adjustment", pending["id"])["status"] == "undone"
        return
    with pytest.raises(psycopg.DatabaseError) as refused:
        u.rpc("undo_adjustment", pending["id"])
    assert refused.value.sqlstate == "PT409"
    assert "undo window" in str(refused.value)
    assert u.open_override(u.today) is not None


def _to(u: User, pg: PostgrestSession, status: str) -> uuid.UUID:
    """An override of today in ``status``."""
    override: uuid.UUID = _pending(u, soreness_level=9)["id"]
    if status in ("approved", "undone"):
        u.rpc("approve_adjustment", override)
    if status == "auto_applied":
        assert _apply_due(pg, _now(pg) + dt.timedelta(hours=3)) == 1
    if status == "rejected":
        u.rpc("reject_adjustment", override)
    if status == "undone":
        u.rpc("undo_adjustment", override)
    if status == "withdrawn":
        u.log(u.today, soreness_level=2)
    return override


ILLEGAL_RPCS = (
    "approved:approve approved:reject auto_applied:approve auto_applied:reject pending:undo"
    " rejected:approve rejected:reject rejected:undo withdrawn:approve withdrawn:reject"
    " withdrawn:undo undone:approve undone:reject undone:undo"
)


@pytest.mark.parametrize("case", ILLEGAL_RPCS.split())
def test_illegal_transitions_are_refused(pg: PostgrestSession, case: str) -> None:
    status, action = case.split(":")
    rpc = f"{action}_adjustment"
    u = _user(pg)
    override = _to(u, pg, status)
    before = [o for o in u.overrides(u.today) if o["id"] == override]
    assert before[0]["status"] == status
    with pytest.raises(psycopg.DatabaseError) as refused:
        u.rpc(rpc, override)
    assert refused.value.sqlstate == "PT409"
    assert status in str(refused.value)
    assert [o for o in u.overrides(u.today) if o["id"] == override] == before


ILLEGAL_MOVES = (
    "pending:undone approved:pending approved:rejected auto_applied:approved rejected:approved"
    " rejected:pending withdrawn:pending undone:approved undone:pending"
)


@pytest.mark.parametrize("case", ILLEGAL_MOVES.split())
def test_service_role_cannot_force_an_illegal_status(pg: PostgrestSession, case: str) -> None:
    status, target = case.split(":")
    u = _user(pg)
    override = _to(u, pg, status)
    with pytest.raises(psycopg.DatabaseError) as refused, pg.as_service() as conn:
        conn.execute(
            "update public.day_overrides set status = %s where id = %s", (target, override)
        )
    assert refused.value.sqlstate == "PT409"
    assert status in str(refused.value)
    assert target in str(refused.value)


def test_the_rpcs_need_a_signed_in_user(pg: PostgrestSession) -> None:
    u = _user(pg)
    override = _pending(u, soreness_level=9)["id"]
    for rpc in ("approve_adjustment", "reject_adjustment", "undo_adjustment"):
        with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
            conn.execute(f"select public.{rpc}(%s)", (override,))
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(u.id) as conn:
        conn.execute("select private.apply_due_overrides(now())")


# ----------------------------------------------------------------------- RLS


def test_another_user_can_neither_act_on_nor_read_an_override(pg: PostgrestSession) -> None:
    alice, bob = _user(pg), _user(pg)
    override = _pending(alice, sleep_hours=D(3), stress_level=8)["id"]
    carol = _user(pg)
    applied = _pending(carol, soreness_level=9)["id"]
    carol.rpc("approve_adjustment", applied)
    for rpc in ("approve_adjustment", "reject_adjustment", "undo_adjustment"):
        for target in (override, applied, uuid.uuid4()):
            with pytest.raises(psycopg.DatabaseError) as refused:
                bob.rpc(rpc, target)
            assert refused.value.sqlstate == "PT404"
            assert "adjustment not found" in str(refused.value)
    with pg.as_user(bob.id) as conn:
        for table in ("day_overrides", "day_override_transitions", "notifications"):
            assert conn.execute(f"select * from public.{table}").fetchall() == []  # noqa: S608
        updated = conn.execute(
            "update public.notifications set read_at = now() where ref_id = %s", (override,)
        )
        assert updated.rowcount == 0
    still = alice.open_override(alice.today)
    assert still is not None
    assert (still["id"], still["status"]) == (override, "pending")


@pytest.mark.parametrize(
    "sql",
    [
        "insert into public.day_overrides (user_id, program_id, date, reason_codes, modifications,"
        " confidence, explanation) values (%(user)s, %(program)s, current_date, '{injury}', '{}',"
        " 0.9, 'x')",
        "update public.day_overrides set status = 'approved' where user_id = %(user)s",
        "insert into public.day_override_transitions (override_id, user_id, to_status, actor)"
        " select id, user_id, 'approved', 'user' from public.day_overrides",
        "update public.notifications set title = 'hacked' where user_id = %(user)s",
    ],
)
def test_a_user_cannot_write_overrides_transitions_or_notification_content(
    pg: PostgrestSession, sql: str
) -> None:
    u = _user(pg)
    _pending(u, soreness_level=9)
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(u.id) as conn:
        conn.execute(sql, {"user": u.id, "program": u.program})


def test_a_user_marks_a_notification_read(pg: PostgrestSession) -> None:
    u = _user(pg)
    override = _pending(u, soreness_level=9)["id"]
    [note] = u.notifications(override)
    assert note["read_at"] is None
    with pg.as_user(u.id, method="PATCH") as conn:
        updated = conn.execute(
            "update public.notifications set read_at = now() where id = %s", (note["id"],)
        )
        assert updated.rowcount == 1
    [read] = u.notifications(override)
    assert read["read_at"] == _now(pg)
    assert (read["title"], read["body"]) == (note["title"], note["body"])


# ------------------------------------------------------- the plan a client reads


def _calendar(u: User, day: dt.date) -> list[dict[str, Any]]:
    with u.pg.as_user(u.id, method="GET") as conn:
        rows = conn.execute(
            "select event_type, meal_type, session_kind, override_id, override_status,"
            " adjustment_reasons, adjustment_explanation, adjusted_session_kind,"
            " exercises::text as exercises, adjusted_exercises::text as adjusted_exercises,"
            " targets::text as targets, adjusted_targets::text as adjusted_targets"
            " from public.calendar_day where date = %s order by event_type, meal_type",
            (day,),
        ).fetchall()
    return [
        {
            **r,
            **{
                k: json_decimals(r[k])
                for k in ("exercises", "adjusted_exercises", "targets", "adjusted_targets")
            },
        }
        for r in rows
    ]


def _nutrition(u: User, view: str) -> dict[str, Any]:
    with u.pg.as_user(u.id, method="GET") as conn:
        return one_row(
            conn,
            f"select target_kcal, target_carbs_g, target_protein_g, kcal_adjustment"  # noqa: S608
            f" from public.{view} where date = %s",
            (u.today,),
        )


def _adjusted_sets(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    [training] = [r for r in rows if r["event_type"] == "training"]
    return [
        (e["sets"], e["target_rir"], e["target_pct_1rm"]) for e in training["adjusted_exercises"]
    ]


def _expected_sets(mods: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    return [
        model.adjust_exercise(model.Exercise(sets, rir, pct), mods) for sets, rir, pct in EXERCISES
    ]


def test_calendar_day_and_nutrition_reflect_an_active_override(pg: PostgrestSession) -> None:
    u = _user(pg)
    u.plan_day(u.today)
    u.adherence(u.day(-1), "meal", completed=1, skipped=2)  # low adherence: one set fewer
    context: dict[str, Any] = {SLEEP: D("4.5"), STRESS: 8, SORENESS: 9}
    u.log(u.today, **context)
    expected = model.analyse(
        model.Context(**context), adherence=model.Adherence(completed=1, skipped=2)
    )
    assert expected is not None
    pending = u.open_override(u.today)
    _assert_matches(pg, pending, expected)
    assert pending is not None
    mods = expected.modifications
    assert mods["volume_multiplier"] == D("0.599")  # 0.94 x 0.85 x 0.75 = 0.59925

    # Pending: the override is shown, the plan is not adjusted yet.
    rows = _calendar(u, u.today)
    assert {(r["override_id"], r["override_status"]) for r in rows} == {(pending["id"], "pending")}
    assert all(r["adjustment_reasons"] == expected.reason_codes for r in rows)
    assert all(r["adjustment_explanation"] == pending["explanation"] for r in rows)
    assert _adjusted_sets(rows) == _expected_sets(None)
    assert all(r["adjusted_targets"] == r["targets"] for r in rows if r["event_type"] == "meal")
    assert _nutrition(u, "nutrition_today")["kcal_adjustment"] == 0

    u.rpc("approve_adjustment", pending["id"])
    rows = _calendar(u, u.today)
    assert {r["override_status"] for r in rows} == {"approved"}
    assert _adjusted_sets(rows) == _expected_sets(mods)
    assert _adjusted_sets(rows) == [(3, 3, D("72.0")), (1, 5, D("69.8")), (1, None, None)]
    [training] = [r for r in rows if r["event_type"] == "training"]
    assert training["adjusted_session_kind"] == "strength"
    assert [
        (e["planned_sets"], e["planned_target_rir"], e["planned_target_pct_1rm"])
        for e in training["adjusted_exercises"]
    ] == [(s, r, p) for s, r, p in EXERCISES]
    assert [e["sets"] for e in training["exercises"]] == [s for s, _, _ in EXERCISES]
    kcal_delta = int(mods["kcal_delta"])
    for row in (r for r in rows if r["event_type"] == "meal"):
        targets = {k: D(v) for k, v in row["targets"].items()}
        assert row["adjusted_targets"] == model.adjust_meal(targets, D(2000), kcal_delta)
    for view in ("nutrition_today", "nutrition_day"):
        assert _nutrition(u, view) == {
            "target_kcal": D(2000 + kcal_delta),
            "target_carbs_g": D(230) + D(kcal_delta) / 4,
            "target_protein_g": D(125),
            "kcal_adjustment": kcal_delta,
        }

    # Undone: back to the plan.
    u.rpc("undo_adjustment", pending["id"])
    rows = _calendar(u, u.today)
    assert {r["override_id"] for r in rows} == {None}
    assert _adjusted_sets(rows) == _expected_sets(None)
    assert _nutrition(u, "nutrition_day")["target_kcal"] == 2000


def test_an_injury_replaces_the_session_once_applied(pg: PostgrestSession) -> None:
    u = _user(pg)
    pending = _pending(u, injury_notes="ankle")
    [training] = [r for r in _calendar(u, u.today) if r["event_type"] == "training"]
    assert training["adjusted_session_kind"] == "strength"
    u.rpc("approve_adjustment", pending["id"])
    rows = _calendar(u, u.today)
    [training] = [r for r in rows if r["event_type"] == "training"]
    assert training["session_kind"] == "strength"
    assert training["adjusted_session_kind"] == "mobility"
    assert [e["sets"] for e in training["adjusted_exercises"]] == [0, 0, 0]
    assert all(r["adjusted_targets"] == r["targets"] for r in rows if r["event_type"] == "meal")


def test_an_auto_applied_kcal_cut_reaches_the_targets(pg: PostgrestSession) -> None:
    u = _user(pg, sex="female")
    u.session(u.day(-1))
    u.meals(u.today, [("lunch", {"kcal": 1300, "protein_g": 80, "carbs_g": 150, "fat_g": 40})])
    u.log(u.today, energy_level=5)
    assert _apply_due(pg, _now(pg) + dt.timedelta(minutes=120)) == 1
    override = u.open_override(u.today)
    assert override is not None
    assert override["status"] == "auto_applied"
    assert override["modifications"] == {"kcal_delta": -100, "carbs_delta_g": -25}
    [meal] = _calendar(u, u.today)
    assert meal["adjusted_targets"] == {
        "kcal": D("1200.0"),
        "protein_g": 80,
        "carbs_g": D("125.0"),
        "fat_g": 40,
    }
    assert _nutrition(u, "nutrition_today") == {
        "target_kcal": D(1200),
        "target_carbs_g": D(125),
        "target_protein_g": D(80),
        "kcal_adjustment": -100,
    }
