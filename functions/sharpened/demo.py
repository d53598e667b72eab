"""``make demo``: the demo journey against the running local stack, as a client app would do it.

Each later issue adds its steps (consultation, program, logging, adaptation,
reassessment); this first part signs a user up, completes onboarding through
the Data API's SQL (PostgREST's prelude, under RLS) and reads the profile back
through the functions with the official ``supabase`` Python client.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import psycopg

from sharpened.auth import api_key, mint_user_token, user_claims
from sharpened.db import Database
from sharpened.local import LocalStack
from sharpened.settings import get_settings
from sharpened.users import create_user

Say = Callable[[str], None]

ONBOARDING_ANSWERS: dict[str, Any] = {
    "date_of_birth": dt.date(1996, 3, 14),
    "sex": "male",
    "height_cm": 180,
    "weight_kg": 80,
    "body_fat_pct": 18,
    "primary_goal": "fat_loss",
    "goal_rate_pct_per_week": 0.7,
    "experience_level": "intermediate",
    "workout_frequency": 4,
    "activity_level": "moderate",
    "dietary_preference": "omnivore",
    "allergies": ["peanut"],
    "meals_per_day": 4,
    "timezone": "Europe/Berlin",
}


def _step(say: Say, number: int, title: str) -> None:
    say(f"\n[{number}] {title}")


def run_demo(say: Say) -> int:
    settings = get_settings()
    stack = LocalStack(settings)
    from supabase import create_client  # dev dependency: the client a real app uses

    client = create_client(stack.api_url, api_key("anon", settings=settings))
    _step(say, 1, f"local stack at {stack.api_url}")
    try:
        health = client.functions.invoke("health", {"method": "GET", "responseType": "json"})
    except Exception as exc:
        say(
            f"    the local stack is not answering ({type(exc).__name__}); start it with `make dev`"
        )
        return 1
    assert isinstance(health, dict)
    say(f"    health: {health['status']}, PostgreSQL {health['database']['version']}")

    _step(say, 2, "sign up (Supabase Auth inserts into auth.users; a trigger creates the profile)")
    email = f"demo-{int(time.time())}@sharpened.local"
    with psycopg.connect(settings.db_url) as conn:
        user_id = create_user(conn, email, display_name="Demo Runner")
    token = mint_user_token(user_id, email, settings=settings)
    say(f"    user {email} ({user_id})")

    _step(say, 3, "onboarding as that user, through the Data API (PATCH /profiles, RPC)")
    database = Database(settings.db_url, min_size=1, max_size=2)
    try:
        claims = user_claims(user_id, email, settings=settings)
        with database.as_user(claims, method="PATCH", path="/profiles") as conn:
            assignments = ", ".join(f"{column} = %({column})s" for column in ONBOARDING_ANSWERS)
            conn.execute(f"update public.profiles set {assignments}", ONBOARDING_ANSWERS)  # noqa: S608
        with database.as_user(claims, method="POST", path="/rpc/complete_onboarding") as conn:
            conn.execute("select public.complete_onboarding()")
    finally:
        database.close()
    say("    answers saved; complete_onboarding() accepted them")

    _step(say, 4, "read the profile back through the `me` function (supabase client, user token)")
    answer = client.functions.invoke(
        "me",
        {"method": "GET", "headers": {"Authorization": f"Bearer {token}"}, "responseType": "json"},
    )
    assert isinstance(answer, dict)
    profile = answer["profile"]
    say(f"    {profile['display_name']}: {profile['sex']}, born {profile['date_of_birth']}")
    say(
        f"    {profile['height_cm']} cm, {profile['weight_kg']} kg, {profile['body_fat_pct']} % fat"
    )
    say(
        f"    goal {profile['primary_goal']} at {profile['goal_rate_pct_per_week']} %/week, "
        f"{profile['workout_frequency']} workouts/week, {profile['experience_level']}"
    )
    say(
        f"    diet {profile['dietary_preference']}, allergies {', '.join(profile['allergies'])}, "
        f"{profile['meals_per_day']} meals/day, time zone {profile['timezone']}"
    )
    say(f"    onboarding completed: {profile['onboarding_completed']}")
    say(f"\naccess token for {email} (1 h):\n{token}")
    return 0
