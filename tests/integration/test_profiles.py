"""Profiles under RLS, acting exactly as PostgREST would for each caller."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from psycopg import errors

from harness import PostgrestSession

pytestmark = pytest.mark.integration

ONBOARDING = {
    "date_of_birth": dt.date(1995, 5, 17),
    "sex": "female",
    "height_cm": 165,
    "weight_kg": 60,
    "primary_goal": "fat_loss",
    "goal_rate_pct_per_week": 0.5,
    "experience_level": "beginner",
    "workout_frequency": 3,
    "activity_level": "light",
    "dietary_preference": "vegetarian",
    "meals_per_day": 4,
}


def _update_own(conn: psycopg.Connection, fields: dict[str, object]) -> int:
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    return conn.execute(f"update public.profiles set {assignments}", fields).rowcount  # noqa: S608


def test_signup_creates_exactly_one_profile(pg: PostgrestSession) -> None:
    user = pg.signup(display_name="  Ada  ")
    rows = pg.conn.execute(
        "select id, display_name, onboarding_completed from public.profiles where id = %s", (user,)
    ).fetchall()
    assert rows == [{"id": user, "display_name": "Ada", "onboarding_completed": False}]


def test_user_reads_only_own_profile(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    with pg.as_user(alice) as conn:
        ids = [row["id"] for row in conn.execute("select id from public.profiles")]
        assert ids == [alice]
        assert conn.execute("select * from public.profiles where id = %s", (bob,)).fetchall() == []


def test_user_updates_own_profile_but_not_another(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    with pg.as_user(alice) as conn:
        assert _update_own(conn, {"weight_kg": 61.5, "allergies": ["peanut"]}) == 1
        changed = conn.execute(
            "update public.profiles set weight_kg = 99 where id = %s", (bob,)
        ).rowcount
        assert changed == 0
    rows = pg.conn.execute(
        "select id, weight_kg from public.profiles where id = any(%s)", ([alice, bob],)
    ).fetchall()
    weights = {row["id"]: row["weight_kg"] for row in rows}
    assert float(weights[alice]) == 61.5
    assert weights[bob] is None


@pytest.mark.parametrize(
    "column",
    [
        "onboarding_completed",
        "consultation_completed",
        "estimated_tdee",
        "daily_calorie_goal",
        "protein_g",
        "carbs_g",
        "fat_g",
    ],
)
def test_user_cannot_write_flags_or_targets(pg: PostgrestSession, column: str) -> None:
    user = pg.signup()
    value = True if column.endswith("completed") else 2000
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        _update_own(conn, {column: value})


def test_user_cannot_insert_or_delete_profiles(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute("delete from public.profiles")
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute("insert into public.profiles (id) values (gen_random_uuid())")


def test_anon_sees_nothing(pg: PostgrestSession) -> None:
    pg.signup()
    with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
        conn.execute("select * from public.profiles")


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ({"height_cm": 119}, "height_cm"),
        ({"weight_kg": 301}, "weight_kg"),
        ({"body_fat_pct": 2.5}, "body_fat_pct"),
        ({"sex": "other"}, "sex"),
        ({"primary_goal": "bulk"}, "primary_goal"),
        ({"activity_level": "couch"}, "activity_level"),
        ({"primary_goal": "muscle_gain", "goal_rate_pct_per_week": 0.75}, "goal_rate"),
        ({"date_of_birth": dt.date.today() - dt.timedelta(days=12 * 366)}, "date_of_birth"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "europe/berlin"}, "timezone"),
        ({"timezone": "+05:00"}, "timezone"),
        ({"goal_rate_pct_per_week": 0.8}, "goal_rate"),
        ({"display_name": "   "}, "display_name"),
    ],
)
def test_out_of_range_values_are_rejected(
    pg: PostgrestSession, fields: dict[str, object], column: str
) -> None:
    user = pg.signup()
    with pytest.raises(errors.CheckViolation) as raised, pg.as_user(user) as conn:
        _update_own(conn, fields)
    assert column in str(raised.value) or column in (raised.value.diag.constraint_name or "")


def test_valid_time_zone_and_goal_rate_are_accepted(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        fields = {"timezone": "Europe/Berlin", "primary_goal": "fat_loss"}
        assert _update_own(conn, fields | {"goal_rate_pct_per_week": 1.0}) == 1


def test_complete_onboarding_lists_missing_fields_then_succeeds(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        _update_own(conn, {"sex": "female", "height_cm": 165})
    with pytest.raises(psycopg.Error) as raised, pg.as_user(user) as conn:
        conn.execute("select public.complete_onboarding()")
    assert raised.value.sqlstate == "PT422"
    detail = json.loads(raised.value.diag.message_detail or "{}")
    assert detail["code"] == "onboarding_incomplete"
    missing = detail["missing"]
    assert missing == [
        "date_of_birth",
        "weight_kg",
        "primary_goal",
        "experience_level",
        "workout_frequency",
        "activity_level",
        "dietary_preference",
        "meals_per_day",
    ]
    with pg.as_user(user) as conn:
        assert _update_own(conn, ONBOARDING) == 1
        row = conn.execute("select * from public.complete_onboarding()").fetchone()
        assert row is not None
        assert row["onboarding_completed"] is True
        assert row["id"] == user


def test_anon_cannot_complete_onboarding(pg: PostgrestSession) -> None:
    with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
        conn.execute("select public.complete_onboarding()")


def test_deleting_the_auth_user_deletes_the_profile(pg: PostgrestSession) -> None:
    user = pg.signup()
    pg.conn.execute("delete from auth.users where id = %s", (user,))
    assert (
        pg.conn.execute("select 1 from public.profiles where id = %s", (user,)).fetchone() is None
    )


def test_updated_at_moves_on_update(pg: PostgrestSession) -> None:
    user = pg.signup()
    pg.conn.execute(
        "update public.profiles set updated_at = now() - interval '1 day' where id = %s", (user,)
    )
    with pg.as_user(user) as conn:
        _update_own(conn, {"units": "imperial"})
        row = conn.execute(
            "select updated_at > now() - interval '1 hour' as fresh from public.profiles"
        ).fetchone()
    assert row == {"fresh": True}
