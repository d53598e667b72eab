"""Tracking views (issue 6, item 5): nutrition_today / nutrition_day, muscle_volume_weekly,
exercise_records and adherence_summary.

Plans are stored with store_program_bundle as service code does; logs are written and every view is
read as the real ``authenticated`` role with claims (PostgREST's prelude).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.types.json import Jsonb

from harness import PostgrestSession

pytestmark = pytest.mark.integration

EGG = "01123"  # USDA SR28 egg: 150 g -> 214.5 kcal, 18.8 P, 1.1 C, 14.3 F
OATS = "08120"  # USDA SR28 oats: 50 g -> 189.5 kcal, 6.6 P, 33.9 C, 3.3 F
BREAKFAST: dict[str, float] = {"kcal": 500, "protein_g": 30, "carbs_g": 60, "fat_g": 15}
DINNER: dict[str, float] = {"kcal": 700.5, "protein_g": 45, "carbs_g": 70, "fat_g": 25}
WEEK = dt.date(2026, 11, 2)  # a Monday in the past


def _food(pg: PostgrestSession, source_id: str) -> uuid.UUID:
    row = pg.conn.execute(
        "select id from public.foods where source_id = %s", (source_id,)
    ).fetchone()
    assert row is not None
    food_id: uuid.UUID = row["id"]
    return food_id


def _local_today(pg: PostgrestSession, user: uuid.UUID) -> dt.date:
    row = pg.conn.execute(
        "select (now() at time zone timezone)::date as d from public.profiles where id = %s",
        (user,),
    ).fetchone()
    assert row is not None
    today: dt.date = row["d"]
    return today


def _store_program(
    pg: PostgrestSession,
    user: uuid.UUID,
    start: dt.date,
    *,
    meals: list[tuple[int, str, dict[str, float]]] | None = None,
    sessions: list[tuple[int, list[tuple[str | None, str, int]]]] | None = None,
) -> None:
    """Store a one-week program as service code does: meals (day, type, targets) and sessions
    (day, [(exercise_id, name, sets)])."""
    food = _food(pg, EGG)
    bundle: dict[str, Any] = {
        "user_id": str(user),
        "source": "onboarding",
        "primary_goal": "fat_loss",
        "program_start_date": start.isoformat(),
        "program_duration_weeks": 1,
        "next_reassessment_date": (start + dt.timedelta(days=14)).isoformat(),
        "tdee": {},
        "macros": {"kcal": 2000},
        "safety": {},
        "feasibility": {},
        "provenance": {},
        "sessions": [
            {
                "week_index": 0,
                "day_index": day,
                "session_kind": "strength",
                "title": "Full body",
                "planned_duration_minutes": 60,
                "exercises": [
                    {"order_index": i, "exercise_id": ex, "name": name, "sets": sets}
                    for i, (ex, name, sets) in enumerate(exercises)
                ],
            }
            for day, exercises in sessions or []
        ],
        "meals": [
            {
                "week_index": 0,
                "day_index": day,
                "meal_type": meal_type,
                "targets": targets,
                "totals": targets,
                "items": [
                    {
                        "food_id": str(food),
                        "food_name": "Egg",
                        "grams": 100,
                        "kcal": 143,
                        "protein_g": 12.6,
                        "carbs_g": 0.7,
                        "fat_g": 9.5,
                    }
                ],
            }
            for day, meal_type, targets in meals or []
        ],
    }
    with pg.as_service() as conn:
        conn.execute("select public.store_program_bundle(%s)", (Jsonb(bundle),))


def _meal(
    conn: psycopg.Connection[Any],
    user: uuid.UUID,
    at: dt.datetime,
    items: list[tuple[uuid.UUID, float]],
    meal_type: str = "breakfast",
) -> None:
    row = conn.execute(
        "insert into public.meals (user_id, meal_type, logged_at) values (%s, %s, %s) returning id",
        (user, meal_type, at),
    ).fetchone()
    assert row is not None
    for food, grams in items:
        conn.execute(
            "insert into public.meal_items (meal_id, user_id, food_id, grams)"
            " values (%s, %s, %s, %s)",
            (row["id"], user, food, grams),
        )


def _activity(
    conn: psycopg.Connection[Any], user: uuid.UUID, at: dt.datetime, kcal: float | None = None
) -> uuid.UUID:
    row = conn.execute(
        "insert into public.activities (user_id, category, name, start_time, duration_minutes,"
        " calories_burned) values (%s, 'strength', 'Workout', %s, 45, %s) returning id",
        (user, at, kcal),
    ).fetchone()
    assert row is not None
    activity_id: uuid.UUID = row["id"]
    return activity_id


def _sets(
    conn: psycopg.Connection[Any], user: uuid.UUID, activity: uuid.UUID, rows: list[dict[str, Any]]
) -> None:
    for number, fields in enumerate(rows, start=1):
        values = {"activity_id": activity, "user_id": user, "set_number": number, **fields}
        names = ", ".join(values)
        params = ", ".join(f"%({name})s" for name in values)
        conn.execute(
            f"insert into public.exercise_sets ({names}) values ({params})",  # noqa: S608
            values,
        )


def _at(day: dt.date, clock: str, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=ZoneInfo(tz))


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


# ---------------------------------------------------------------- nutrition


def test_nutrition_today_targets_eaten_burned_and_remaining(pg: PostgrestSession) -> None:
    user = pg.signup()
    today = _local_today(pg, user)
    _store_program(
        pg,
        user,
        today,
        meals=[(0, "breakfast", BREAKFAST), (0, "dinner", DINNER), (1, "lunch", BREAKFAST)],
    )
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    with pg.as_user(user) as conn:
        _meal(conn, user, _at(today, "07:30"), [(egg, 150), (oats, 50)])
        _meal(conn, user, _at(today, "12:00"), [(egg, 150)], "lunch")
        _meal(conn, user, _at(today - dt.timedelta(days=1), "12:00"), [(oats, 100)])
        _activity(conn, user, _at(today, "06:00"), 300)
        _activity(conn, user, _at(today, "18:00"), 150.5)
        _activity(conn, user, _at(today - dt.timedelta(days=1), "18:00"), 999)
    with pg.as_user(user, method="GET") as conn:
        rows = conn.execute("select * from public.nutrition_today").fetchall()
    assert len(rows) == 1
    row = rows[0]
    target_kcal = _dec(BREAKFAST["kcal"]) + _dec(DINNER["kcal"])
    eaten = (Decimal("214.5") * 2 + Decimal("189.5"), Decimal("18.8") * 2 + Decimal("6.6"))
    assert row["user_id"] == user
    assert row["date"] == today
    assert row["target_kcal"] == target_kcal
    assert row["target_protein_g"] == _dec(BREAKFAST["protein_g"]) + _dec(DINNER["protein_g"])
    assert row["target_fat_g"] == _dec(BREAKFAST["fat_g"]) + _dec(DINNER["fat_g"])
    assert (row["eaten_kcal"], row["eaten_protein_g"]) == eaten
    assert row["meals_logged"] == 2
    assert row["calories_burned"] == Decimal("450.5")
    assert row["kcal_budget"] == target_kcal + Decimal("450.5")
    assert row["kcal_remaining"] == target_kcal + Decimal("450.5") - eaten[0]
    assert row["protein_g_remaining"] == row["target_protein_g"] - eaten[1]


def test_nutrition_today_without_plan_and_only_own_row(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    _store_program(pg, alice, _local_today(pg, alice), meals=[(0, "breakfast", BREAKFAST)])
    egg = _food(pg, EGG)
    with pg.as_user(bob) as conn:
        _meal(conn, bob, _at(_local_today(pg, bob), "08:00"), [(egg, 150)])
        _activity(conn, bob, _at(_local_today(pg, bob), "09:00"), 200)
    with pg.as_user(bob, method="GET") as conn:
        rows = conn.execute("select * from public.nutrition_today").fetchall()
        others = conn.execute(
            "select count(*) as n from public.nutrition_day where user_id = %s", (alice,)
        ).fetchone()
    assert [r["user_id"] for r in rows] == [bob]
    assert others is not None
    assert others["n"] == 0
    row = rows[0]
    assert row["target_kcal"] is None
    assert row["target_protein_g"] is None
    assert row["kcal_budget"] is None
    assert row["kcal_remaining"] is None
    assert row["protein_g_remaining"] is None
    assert (row["eaten_kcal"], row["calories_burned"]) == (Decimal("214.5"), Decimal("200"))


def test_nutrition_today_counts_a_late_meal_on_the_local_day(pg: PostgrestSession) -> None:
    tz = "America/Los_Angeles"  # 23:30 local is the next day in UTC
    user = pg.signup()
    pg.conn.execute("update public.profiles set timezone = %s where id = %s", (tz, user))
    today = _local_today(pg, user)
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    with pg.as_user(user) as conn:
        _meal(conn, user, _at(today, "23:30", tz), [(egg, 150)], "dinner")
        _meal(conn, user, _at(today, "00:30", tz), [(oats, 50)], "snack")
        _meal(conn, user, _at(today - dt.timedelta(days=1), "23:30", tz), [(oats, 100)])
        _meal(conn, user, _at(today + dt.timedelta(days=1), "00:30", tz), [(oats, 100)])
    with pg.as_user(user, method="GET") as conn:
        row = conn.execute("select * from public.nutrition_today").fetchone()
    assert row is not None
    assert row["date"] == today
    assert row["meals_logged"] == 2
    assert row["eaten_kcal"] == Decimal("214.5") + Decimal("189.5")


def test_nutrition_today_is_the_profiles_local_today(pg: PostgrestSession) -> None:
    # UTC+14 or UTC-11: at any moment one of them is on another date than UTC.
    dates = pg.conn.execute(
        "select (now() at time zone 'Pacific/Kiritimati')::date as east,"
        " (now() at time zone 'UTC')::date as utc"
    ).fetchone()
    assert dates is not None
    tz = "Pacific/Kiritimati" if dates["east"] != dates["utc"] else "Pacific/Pago_Pago"
    user = pg.signup()
    pg.conn.execute("update public.profiles set timezone = %s where id = %s", (tz, user))
    today = _local_today(pg, user)
    assert today != dates["utc"]
    with pg.as_user(user) as conn:
        _meal(conn, user, _at(today, "12:00", tz), [(_food(pg, EGG), 150)])
        _meal(conn, user, _at(dates["utc"], "12:00", tz), [(_food(pg, OATS), 50)])
    with pg.as_user(user, method="GET") as conn:
        row = conn.execute("select * from public.nutrition_today").fetchone()
    assert row is not None
    assert row["date"] == today
    assert row["eaten_kcal"] == Decimal("214.5")


def test_nutrition_day_for_any_day(pg: PostgrestSession) -> None:
    user = pg.signup()
    today = _local_today(pg, user)
    yesterday = today - dt.timedelta(days=1)
    _store_program(pg, user, yesterday, meals=[(0, "breakfast", BREAKFAST), (1, "dinner", DINNER)])
    oats = _food(pg, OATS)
    with pg.as_user(user) as conn:
        _meal(conn, user, _at(yesterday, "08:00"), [(oats, 50)])
        _activity(conn, user, _at(yesterday, "18:00"), 120)
    with pg.as_user(user, method="GET") as conn:
        day = conn.execute(
            "select * from public.nutrition_day where date = %s", (yesterday,)
        ).fetchall()
        both = conn.execute(
            "select date, target_kcal from public.nutrition_day where date >= %s order by date",
            (yesterday,),
        ).fetchall()
    assert len(day) == 1
    assert day[0]["target_kcal"] == _dec(BREAKFAST["kcal"])
    assert day[0]["eaten_kcal"] == Decimal("189.5")
    assert day[0]["calories_burned"] == 120
    assert day[0]["kcal_remaining"] == _dec(BREAKFAST["kcal"]) + 120 - Decimal("189.5")
    assert [(r["date"], r["target_kcal"]) for r in both] == [
        (yesterday, _dec(BREAKFAST["kcal"])),
        (today, _dec(DINNER["kcal"])),
    ]


# ---------------------------------------------------------------- muscle volume


def _exercise(pg: PostgrestSession, primary: str, secondary: str) -> str:
    """A catalogue exercise whose only primary muscle is ``primary`` and whose secondary muscles
    map to the single group of ``secondary``."""
    row = pg.conn.execute(
        "select id from public.exercises where primary_muscles = array[%s]"
        " and secondary_muscles = array[%s] order by id limit 1",
        (primary, secondary),
    ).fetchone()
    assert row is not None
    exercise_id: str = row["id"]
    return exercise_id


def test_muscle_volume_weekly_hard_sets_against_the_plan(pg: PostgrestSession) -> None:
    user, other = pg.signup(), pg.signup()
    press = _exercise(pg, "chest", "triceps")
    _store_program(pg, user, WEEK, sessions=[(2, [(press, "Press", 4), (None, "Sled", 3)])])
    hard = {"exercise_id": press, "reps": 8, "weight_kg": 60}
    with pg.as_user(user) as conn:
        workout = _activity(conn, user, _at(WEEK + dt.timedelta(days=2), "18:00"))
        _sets(
            conn,
            user,
            workout,
            [
                {**hard, "reps": 10, "weight_kg": 30, "is_warmup": True},  # warm-up: no
                {**hard, "rir": 2},  # hard
                {**hard, "rir": 4},  # hard
                {**hard, "rir": 5},  # too easy: no
                {**hard, "rpe": 7},  # hard
                {**hard, "rpe": 5},  # too easy: no
                hard,  # no effort recorded: counts
            ],
        )
        _sets(conn, user, workout, [{"exercise_name": "Sled push", "reps": 10}])  # custom: nowhere
        _sets(conn, user, _activity(conn, user, _at(WEEK + dt.timedelta(days=7), "18:00")), [hard])
    with pg.as_user(other) as conn:
        _sets(conn, other, _activity(conn, other, _at(WEEK, "18:00")), [hard])
    with pg.as_user(user, method="GET") as conn:
        rows = conn.execute(
            "select * from public.muscle_volume_weekly where week_start = %s order by muscle_group",
            (WEEK,),
        ).fetchall()
        weeks = conn.execute(
            "select distinct user_id, week_start from public.muscle_volume_weekly order by 2"
        ).fetchall()
    got = {r["muscle_group"]: (r["hard_sets"], r["planned_sets"]) for r in rows}
    assert got == {"chest": (4, 4), "triceps": (2, 2)}
    chest = next(r for r in rows if r["muscle_group"] == "chest")
    assert (chest["mev"], chest["mav"], chest["mrv"]) == (10, 16, 22)
    assert [(r["user_id"], r["week_start"]) for r in weeks] == [
        (user, WEEK),
        (user, WEEK + dt.timedelta(days=7)),
    ]


# ---------------------------------------------------------------- records


def test_exercise_records_epley_pr_date_and_latest(pg: PostgrestSession) -> None:
    user, other = pg.signup(), pg.signup()
    squat = _exercise(pg, "chest", "triceps")
    first, second = WEEK, WEEK + dt.timedelta(days=3)
    with pg.as_user(user) as conn:
        a1 = _activity(conn, user, _at(first, "18:00"))
        _sets(
            conn,
            user,
            a1,
            [
                {"exercise_id": squat, "reps": 1, "weight_kg": 120, "is_warmup": True},
                {"exercise_id": squat, "reps": 5, "weight_kg": 100},
                {"exercise_id": squat, "reps": 15, "weight_kg": 90},  # > 10 reps: no e1RM
            ],
        )
        _sets(conn, user, a1, [{"exercise_name": "Sled Push", "reps": 10, "weight_kg": 50}])
        a2 = _activity(conn, user, _at(second, "18:00"))
        _sets(conn, user, a2, [{"exercise_id": squat, "reps": 3, "weight_kg": 95}])
        _sets(conn, user, a2, [{"exercise_name": " sled push", "reps": 8, "weight_kg": 60}])
    with pg.as_user(other) as conn:
        _sets(
            conn,
            other,
            _activity(conn, other, _at(first, "18:00")),
            [{"exercise_id": squat, "reps": 5, "weight_kg": 200}],
        )
    with pg.as_user(user, method="GET") as conn:
        rows = {
            r["exercise_key"]: r
            for r in conn.execute("select * from public.exercise_records").fetchall()
        }
    assert set(rows) == {squat, "custom:sled push"}
    sq = rows[squat]
    assert sq["user_id"] == user
    assert sq["exercise_id"] == squat
    epley = (Decimal(100) * (1 + Decimal(5) / 30)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert sq["best_e1rm_kg"] == epley == Decimal("116.7")
    assert sq["best_e1rm_date"] == first
    assert sq["latest_e1rm_kg"] == Decimal("104.5")  # 95 x (1 + 3/30) on the later day
    assert (sq["heaviest_kg"], sq["heaviest_reps"]) == (100, 5)  # the 120 kg warm-up is no record
    assert sq["best_volume_set_kg"] == 90 * 15
    assert (sq["sessions"], sq["last_done"]) == (2, second)
    sled = rows["custom:sled push"]
    assert sled["exercise_id"] is None
    assert sled["exercise_name"] == " sled push"
    assert (sled["sessions"], sled["heaviest_kg"], sled["best_e1rm_kg"]) == (2, 60, Decimal("76.0"))


# ---------------------------------------------------------------- adherence


def _pct(completed: int, similar: int, partial: int, skipped: int) -> Decimal | None:
    decided = completed + similar + partial + skipped
    if decided == 0:
        return None
    value = 100 * (completed + Decimal("0.75") * similar + Decimal("0.4") * partial) / decided
    return value.quantize(Decimal("0.1"), ROUND_HALF_UP)


def test_adherence_summary_sessions_and_meals_side_by_side(pg: PostgrestSession) -> None:
    user, other = pg.signup(), pg.signup()  # no plans: the matching writes no rollup for them
    later = WEEK + dt.timedelta(days=7)
    # Daily rollups; the weeks (adherence_weekly, then the summary) are their sums.
    daily = [
        (user, WEEK, "session", 2, 1, 1, 0, 0),
        (user, WEEK + dt.timedelta(days=6), "session", 2, 1, 0, 0, 1),
        (user, WEEK + dt.timedelta(days=1), "meal", 28, 20, 2, 2, 2),
        (user, later, "meal", 21, 0, 0, 0, 0),
        (other, WEEK, "session", 3, 3, 0, 0, 0),
    ]
    with pg.as_service() as conn:
        for row in daily:
            conn.execute(
                "insert into public.adherence_daily (user_id, date, kind, planned_items,"
                " completed_items, similar_items, partial_items, skipped_items)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                row,
            )
    with pg.as_user(user, method="GET") as conn:
        rows = conn.execute(
            "select * from public.adherence_summary where week_start >= %s order by week_start",
            (WEEK,),
        ).fetchall()
    assert [(r["user_id"], r["week_start"]) for r in rows] == [(user, WEEK), (user, later)]
    first, second = rows
    assert (first["session_planned"], first["session_completed"], first["session_skipped"]) == (
        4,
        2,
        1,
    )
    assert first["session_pending"] == 0
    assert first["meal_pending"] == 2
    assert first["session_adherence_pct"] == _pct(2, 1, 0, 1)
    assert first["meal_adherence_pct"] == _pct(20, 2, 2, 2)
    assert first["adherence_pct"] == _pct(22, 3, 2, 3)
    assert second["session_planned"] == 0
    assert second["session_adherence_pct"] is None
    assert (second["meal_planned"], second["meal_pending"]) == (21, 21)
    assert second["adherence_pct"] is None
