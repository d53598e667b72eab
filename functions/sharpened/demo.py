"""``make demo``: the demo journey against the running local stack, as a client app would do it.

Each later issue adds its steps (consultation, program, logging, adaptation,
reassessment); this first part signs a user up, completes onboarding through
the Data API's SQL (PostgREST's prelude, under RLS) and reads the profile back
through the functions with the official ``supabase`` Python client.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from supabase import Client, create_client
from supabase_functions.errors import FunctionsHttpError

from sharpened.auth import api_key, mint_user_token, user_claims
from sharpened.consultation.script import SCRIPTED_CONSULTATION
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
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

    session_id = _redeem_a_key(say, settings.db_url, user_id, email)
    _consult(say, client, token, session_id)
    _program(say, client, token, session_id)
    say(f"\naccess token for {email} (1 h):\n{token}")
    return 0


def _redeem_a_key(say: Say, db_url: str, user_id: uuid.UUID, email: str) -> uuid.UUID:
    _step(say, 5, "an operator mints a consultation key (`sharpened keys mint`, service role)")
    database = Database(db_url, min_size=1, max_size=2)
    try:
        key = mint_keys_as_service(database, 1)[0]
        say(f"    {key.key_code} (1 use)")
        _step(say, 6, "the user redeems it (RPC redeem_consultation_key, as the user)")
        headers = {"user-agent": "sharpened-demo", "x-forwarded-for": "203.0.113.7"}
        claims = user_claims(user_id, email)
        with database.as_user(claims, headers, "POST", "/rpc/redeem_consultation_key") as conn:
            redeemed = redeem_key(conn, key.key_code)
    finally:
        database.close()
    say(f"    session {redeemed.session_id}, uses remaining {redeemed.uses_remaining}")
    return redeemed.session_id


def _invoke_chat(client: Client, token: str, body: dict[str, Any], say: Say) -> dict[str, Any]:
    """POST consultation-chat; on 429 wait out the per-minute limit, as a client should."""
    while True:
        try:
            answer = client.functions.invoke(
                "consultation-chat",
                {
                    "body": body,
                    "headers": {"Authorization": f"Bearer {token}"},
                    "responseType": "json",
                },
            )
        except FunctionsHttpError as exc:
            if exc.status != 429:
                raise
            say("    (the per-minute message limit: waiting for the window to pass)")
            time.sleep(61)
            continue
        assert isinstance(answer, dict)
        return answer


def _program(say: Say, client: Client, token: str, session_id: uuid.UUID) -> None:
    _step(say, 8, "consultation-complete: the program is generated, stored and laid out")
    summary = client.functions.invoke(
        "consultation-complete",
        {
            "body": {"session_id": str(session_id)},
            "headers": {"Authorization": f"Bearer {token}"},
            "responseType": "json",
        },
    )
    assert isinstance(summary, dict)
    targets = summary["targets"]
    say(
        f"    program v{summary['version']} ({summary['primary_goal']}), "
        f"{summary['program_start_date']} to {summary['program_end_date']}, "
        f"reassessment {summary['next_reassessment_date']}"
    )
    say(
        f"    daily targets: {targets['kcal']} kcal, protein {targets['protein_g']} g, "
        f"carbs {targets['carbs_g']} g, fat {targets['fat_g']} g, fiber {targets['fiber_g']} g "
        f"(TDEE {summary['tdee_kcal']})"
    )
    say(f"    feasibility {summary['feasibility']['score']}")
    say("    weekly schedule:")
    for entry in summary["weekly_schedule"]:
        say(
            f"      {entry['weekday']:<9} {entry['title']} "
            f"({entry['planned_duration_minutes']} min, {entry['time_of_day']})"
        )
    today = summary["first_week"][0]["date"] if summary["first_week"] else None
    say(f"    plan for {today}:")
    for event in summary["first_week"]:
        if event["date"] != today:
            continue
        if event["event_type"] == "meal":
            kcal = event["targets"]["kcal"]
            say(f"      meal     {event['title']} ({event['time_of_day']}): {kcal} kcal")
        else:
            minutes = event["planned_duration_minutes"]
            say(f"      training {event['title']} ({event['time_of_day']}, {minutes} min)")


def _consult(say: Say, client: Client, token: str, session_id: uuid.UUID) -> None:
    _step(say, 7, "the scripted consultation, turn by turn (consultation-chat, offline engine)")
    answer: dict[str, Any] = {}
    for message in SCRIPTED_CONSULTATION:
        say(f"\n    user: {message}")
        answer = _invoke_chat(
            client, token, {"session_id": str(session_id), "message": message}, say
        )
        say(f"    coach: {answer['reply']}")
        say(
            f"    -> section {answer['section']} ({answer['section_slug']}), {answer['progress']} %"
        )
        for table, rows in answer["extracted"].items():
            for row in rows:
                facts = ", ".join(f"{k}={v}" for k, v in row.items() if v not in (None, [], {}))
                say(f"       + {table}: {facts}")
        for name in answer["unresolved"]:
            say(f"       ? not recognised: {name}")
    say(f"\n    consultation complete: sections {answer.get('completed_sections')}")
