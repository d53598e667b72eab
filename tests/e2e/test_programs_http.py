"""generate-program over real HTTP: a program generated, stored, laid out and summarised."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import psycopg
import pytest

from sharpened.auth import mint_user_token, user_claims
from sharpened.db import Database
from sharpened.users import create_user

pytestmark = pytest.mark.e2e

START = dt.date(2026, 12, 7)  # a Monday

ONBOARDING = """
update public.profiles set sex = 'male', date_of_birth = '1996-11-01', height_cm = 180,
    weight_kg = 80, activity_level = 'moderate', primary_goal = 'fat_loss',
    experience_level = 'intermediate', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 4
where id = %s
"""


def signup(
    db_url: str, *, onboarded: bool = True, **profile: object
) -> tuple[uuid.UUID, dict[str, str]]:
    with psycopg.connect(db_url) as conn:
        user_id = create_user(conn, f"prog-{uuid.uuid4().hex[:8]}@example.test")
        if onboarded:
            conn.execute(ONBOARDING, (user_id,))
        for column, value in profile.items():
            conn.execute(
                f"update public.profiles set {column} = %s where id = %s",  # noqa: S608
                (value, user_id),
            )
    return user_id, {"Authorization": f"Bearer {mint_user_token(user_id)}"}


def scalar(db_url: str, query: str, *args: object) -> object:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0]


def test_generate_program_stores_and_lays_out_a_program(functions_url: str, e2e_db: str) -> None:
    user_id, headers = signup(e2e_db)
    response = httpx.post(
        f"{functions_url}/generate-program",
        headers=headers,
        json={"start_date": START.isoformat(), "duration_weeks": 4},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["targets"]["kcal"] == 2140  # DOMAIN §2 reference (80 kg male, 30 y)
    assert summary["program_start_date"] == START.isoformat()
    assert summary["version"] == 1
    kinds = [event["event_type"] for event in summary["first_week"]]
    assert kinds.count("training") == 3
    assert kinds.count("meal") == 7 * 4
    sessions = scalar(
        e2e_db, "select count(*) from public.session_instances where user_id = %s", user_id
    )
    meals = scalar(e2e_db, "select count(*) from public.meal_instances where user_id = %s", user_id)
    events = scalar(
        e2e_db, "select count(*) from public.calendar_events where user_id = %s", user_id
    )
    assert events == sessions + meals
    assert (
        scalar(e2e_db, "select daily_calorie_goal from public.profiles where id = %s", user_id)
        == 2140
    )

    again = httpx.post(f"{functions_url}/generate-program", headers=headers, json={}, timeout=60)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 2  # a new version supersedes the first
    active = "select count(*) from public.programs where user_id = %s and status = 'active'"
    assert scalar(e2e_db, active, user_id) == 1

    other, _ = signup(e2e_db)
    database = Database(e2e_db, min_size=1, max_size=1)
    try:
        with database.as_user(user_claims(other)) as conn:  # RLS: nothing of the first user's
            seen = conn.execute("select count(*) as n from public.calendar_day").fetchone()
            assert seen == {"n": 0}
        with database.as_user(user_claims(user_id)) as conn:
            mine = conn.execute("select count(*) as n from public.program_summary").fetchone()
            assert mine == {"n": 1}
    finally:
        database.close()


def test_missing_profile_data_answers_422_naming_the_fields(
    functions_url: str, e2e_db: str
) -> None:
    _, headers = signup(e2e_db, onboarded=False)
    response = httpx.post(f"{functions_url}/generate-program", headers=headers, json={}, timeout=60)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "profile_incomplete"
    assert "date_of_birth" in error["details"]["missing"]


def test_a_blocked_safety_gate_answers_422_with_the_findings(
    functions_url: str, e2e_db: str
) -> None:
    user_id, headers = signup(e2e_db, weight_kg=45)  # BMI 13.9 at 180 cm
    response = httpx.post(f"{functions_url}/generate-program", headers=headers, json={}, timeout=60)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "safety_blocked"
    assert "bmi_below_16" in {finding["code"] for finding in error["details"]["findings"]}
    assert scalar(e2e_db, "select count(*) from public.programs where user_id = %s", user_id) == 0
