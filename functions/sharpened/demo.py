"""``make demo``: the demo journey against the running local stack, as a client app would do it.

Each later issue adds its steps (consultation, program, logging, adaptation,
reassessment); this first part signs a user up, completes onboarding through
the Data API's SQL (PostgREST's prelude, under RLS) and reads the profile back
through the functions with the official ``supabase`` Python client. Issue 6
logs the user's first day as a client would POST it (the planned workout, or a
walk on a rest day; the planned meals and an extra snack) and prints the day's
verdicts, adherence and nutrition views. Issue 7 checks in a poor night, a
stressful day and sore legs (POST /user_context_log), shows the day override the
database proposes, approves it (RPC approve_adjustment) and prints the adjusted
day, the notifications and the recorded transitions.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
    with psycopg.connect(stack.db_url) as conn:
        user_id = create_user(conn, email, display_name="Demo Runner")
    token = mint_user_token(user_id, email, settings=settings)
    say(f"    user {email} ({user_id})")

    _step(say, 3, "onboarding as that user, through the Data API (PATCH /profiles, RPC)")
    database = Database(stack.db_url, min_size=1, max_size=2)
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

    session_id = _redeem_a_key(say, stack.db_url, user_id, email)
    _consult(say, client, token, session_id)
    _program(say, client, token, session_id)
    database = Database(stack.db_url, min_size=1, max_size=2)
    try:
        claims = user_claims(user_id, email, settings=settings)
        today = _log_the_day(say, database, claims)
        _adapt_the_day(say, database, claims, today)
    finally:
        database.close()
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


# ------------------------------------------------------------- issue 6: the day's logs

# A planned slot's clock time for the workout; the category logged for each session kind.
SLOT_TIMES = {
    "early_morning": dt.time(6, 0),
    "morning": dt.time(8, 0),
    "midday": dt.time(12, 0),
    "afternoon": dt.time(15, 0),
    "evening": dt.time(18, 0),
    "night": dt.time(21, 30),
}
CATEGORIES = {
    "strength": "strength",
    "cardio": "cardio_steady",
    "hiit": "cardio_interval",
    "mobility": "flexibility",
    "sport": "sports",
    "active_recovery": "cardio_steady",
}
WORKING_KG = 30
PORTIONS = (1.0, 0.9, 1.1, 0.95, 1.05)  # eaten / planned grams, item by item
SNACK_FOOD = "09003"  # USDA SR28 "Apples, raw, with skin"
SNACK_GRAMS = 180
WALK_TIME = dt.time(17, 30)
WALK_MINUTES = 40
WALK_METS = 4.3  # walking 3.5 mph, brisk, for exercise (2011 Compendium code 17200)
# The breakdown terms in DOMAIN §6 order.
TERMS = (
    "category",
    "exercises",
    "volume",
    "time_of_day",
    "meal_type",
    "kcal",
    "protein",
    "carbs",
    "fat",
)


def _post(
    database: Database, claims: dict[str, Any], path: str, sql: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """POST ``rows`` (a JSON array body, each with the caller's user_id, which RLS checks) to a
    table the way PostgREST inserts them."""
    body = json.dumps([{**row, "user_id": claims["sub"]} for row in rows], default=str)
    with database.as_user(claims, method="POST", path=path) as conn:
        return [dict(row) for row in conn.execute(sql, (body,))]


def _get(
    database: Database, claims: dict[str, Any], path: str, sql: str, *params: object
) -> list[dict[str, Any]]:
    """GET through the Data API: one read transaction as the user (RLS, security_invoker)."""
    with database.as_user(claims, method="GET", path=path) as conn:
        return [dict(row) for row in conn.execute(sql, params)]


def _log_the_day(say: Say, database: Database, claims: dict[str, Any]) -> dt.date:
    """Steps 9-13; returns the local date it logged (today)."""
    zone = ZoneInfo(str(ONBOARDING_ANSWERS["timezone"]))
    today = dt.datetime.now(zone).date()
    plan = _get(
        database,
        claims,
        "/calendar_day",
        "select * from public.calendar_day where date = %s",
        today,
    )
    plan.sort(key=_clock)
    _log_workout(say, database, claims, zone, today, plan)
    _log_meals(say, database, claims, zone, today, plan)
    _show_the_day(say, database, claims, today, plan)
    return today


def _clock(event: dict[str, Any]) -> dt.time:
    """When a planned item happens: the meal's time, else its slot's (evening without one)."""
    if event["meal_time"] is not None:
        clock: dt.time = event["meal_time"]
        return clock
    return SLOT_TIMES.get(event["time_of_day"] or "evening", dt.time(18, 0))


def _log_workout(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    today: dt.date,
    plan: list[dict[str, Any]],
) -> None:
    _step(say, 9, f"log today's workout ({today}) as the user: POST /activities, /exercise_sets")
    sessions = [e for e in plan if e["event_type"] == "training" and e["session_kind"] != "rest"]
    if not sessions:
        _log_walk(say, database, claims, zone, today)
        return
    session = sessions[0]
    clock = _clock(session)
    started = dt.datetime.combine(today, clock, tzinfo=zone)
    minutes = max(session["planned_duration_minutes"] or 45, 1)
    activity = _post(
        database,
        claims,
        "/activities",
        "insert into public.activities (user_id, category, name, start_time, end_time, "
        "duration_minutes) select b.user_id, b.category, b.name, b.start_time, "
        "b.end_time, b.duration_minutes "
        "from json_populate_recordset(null::public.activities, %s::json) as b returning id",
        [
            {
                "category": CATEGORIES.get(session["session_kind"], "strength"),
                "name": session["title"],
                "start_time": started.isoformat(),
                "end_time": (started + dt.timedelta(minutes=minutes)).isoformat(),
                "duration_minutes": minutes,
            }
        ],
    )[0]
    # The planned sets at mid-range reps, all but the very last one (close, not identical).
    exercises = session["exercises"] or []
    sets: list[dict[str, Any]] = []
    for index, exercise in enumerate(exercises):
        count = exercise["sets"] - (
            1 if index == len(exercises) - 1 and exercise["sets"] > 1 else 0
        )
        for number in range(1, count + 1):
            timed = exercise["reps_min"] is None
            sets.append(
                {
                    "activity_id": str(activity["id"]),
                    "exercise_id": exercise["exercise_id"],
                    "exercise_name": exercise["name"],
                    "set_number": number,
                    "reps": None if timed else (exercise["reps_min"] + exercise["reps_max"]) // 2,
                    "weight_kg": None if timed else WORKING_KG,
                    "rir": exercise["target_rir"],
                    "duration_seconds": 60 if timed else None,
                }
            )
    if sets:
        _post(
            database,
            claims,
            "/exercise_sets",
            "insert into public.exercise_sets (activity_id, user_id, exercise_id, exercise_name, "
            "set_number, reps, weight_kg, rir, duration_seconds) select b.activity_id, "
            "b.user_id, b.exercise_id, b.exercise_name, b.set_number, b.reps, "
            "b.weight_kg, b.rir, b.duration_seconds "
            "from json_populate_recordset(null::public.exercise_sets, %s::json) as b returning id",
            sets,
        )
    logged = _get(
        database,
        claims,
        "/activities",
        "select name, category, start_time, duration_minutes, calories_burned, local_date "
        "from public.activities where id = %s",
        activity["id"],
    )[0]
    planned_sets = sum(e["sets"] for e in exercises)
    say(
        f"    {logged['name']} ({logged['category']}) at {clock:%H:%M}, "
        f"{logged['duration_minutes']} min: {len(exercises)} exercises, {len(sets)} of "
        f"{planned_sets} planned sets at {WORKING_KG} kg"
    )
    say(
        f"    calories burned {logged['calories_burned']} kcal (MET x weight x time, by trigger); "
        f"local date {logged['local_date']}"
    )


def _log_walk(
    say: Say, database: Database, claims: dict[str, Any], zone: ZoneInfo, today: dt.date
) -> None:
    """A rest day in the plan: the user walks anyway (an activity that matches nothing)."""
    started = dt.datetime.combine(today, WALK_TIME, tzinfo=zone)
    walk = _post(
        database,
        claims,
        "/activities",
        "insert into public.activities (user_id, category, name, start_time, duration_minutes, "
        "intensity_mets) select b.user_id, b.category, b.name, b.start_time, "
        "b.duration_minutes, b.intensity_mets "
        "from json_populate_recordset(null::public.activities, %s::json) as b "
        "returning name, duration_minutes, calories_burned",
        [
            {
                "category": "cardio_steady",
                "name": "Evening walk",
                "start_time": started.isoformat(),
                "duration_minutes": WALK_MINUTES,
                "intensity_mets": WALK_METS,
            }
        ],
    )[0]
    say("    no session planned today (the plan trains on other weekdays); the user walks anyway:")
    say(
        f"    {walk['name']} (cardio_steady) at {WALK_TIME:%H:%M}, {walk['duration_minutes']} min: "
        f"calories burned {walk['calories_burned']} kcal (MET x weight x time, by trigger)"
    )


MEAL_SQL = (
    "insert into public.meals (user_id, meal_type, logged_at) "
    "select b.user_id, b.meal_type, b.logged_at "
    "from json_populate_recordset(null::public.meals, %s::json) as b returning id"
)
ITEMS_SQL = (
    "insert into public.meal_items (meal_id, user_id, food_id, grams) "
    "select b.meal_id, b.user_id, b.food_id, b.grams "
    "from json_populate_recordset(null::public.meal_items, %s::json) as b returning id"
)


def _log_meal(
    database: Database,
    claims: dict[str, Any],
    meal_type: str,
    logged_at: dt.datetime,
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    """POST /meals, then POST /meal_items; returns the meal as read back (totals by trigger)."""
    meal = _post(
        database,
        claims,
        "/meals",
        MEAL_SQL,
        [{"meal_type": meal_type, "logged_at": logged_at.isoformat()}],
    )[0]
    _post(database, claims, "/meal_items", ITEMS_SQL, [{**i, "meal_id": meal["id"]} for i in items])
    return _get(
        database,
        claims,
        "/meals",
        "select id, meal_type, logged_at, total_kcal, total_protein_g, total_carbs_g, "
        "total_fat_g from public.meals where id = %s",
        meal["id"],
    )[0]


def _log_meals(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    today: dt.date,
    plan: list[dict[str, Any]],
) -> None:
    _step(say, 10, "log today's meals (POST /meals + /meal_items): the planned foods, and a snack")
    portion = iter(PORTIONS * 20)
    for event in (e for e in plan if e["event_type"] == "meal"):
        items = [
            {"food_id": item["food_id"], "grams": round(item["grams"] * next(portion), 1)}
            for item in event["items"] or []
        ]
        clock = _clock(event)
        meal = _log_meal(
            database, claims, event["meal_type"], dt.datetime.combine(today, clock, zone), items
        )
        say(
            f"    {event['meal_type']:<9} {clock:%H:%M}  {len(items)} foods: "
            f"{meal['total_kcal']} kcal, P {meal['total_protein_g']} g "
            f"(planned {event['targets']['kcal']} kcal, P {event['targets']['protein_g']} g)"
        )
    apple = _get(
        database,
        claims,
        "/foods",
        "select id, name from public.foods where source_id = %s",
        SNACK_FOOD,
    )
    if apple:
        meal = _log_meal(
            database,
            claims,
            "snack",
            dt.datetime.combine(today, dt.time(21, 0), zone),
            [{"food_id": str(apple[0]["id"]), "grams": SNACK_GRAMS}],
        )
        say(
            f"    {'snack':<9} 21:00  extra, not planned: {SNACK_GRAMS} g {apple[0]['name']}: "
            f"{meal['total_kcal']} kcal"
        )


def _show_the_day(
    say: Say, database: Database, claims: dict[str, Any], today: dt.date, plan: list[dict[str, Any]]
) -> None:
    _step(say, 11, f"today's calendar as matched by the triggers (GET /calendar_day, {today})")
    calendar = {
        row["id"]: row
        for row in _get(
            database,
            claims,
            "/calendar_day",
            "select id, status from public.calendar_day where date = %s",
            today,
        )
    }
    records = {
        row["planned_entity_id"]: row
        for row in _get(
            database,
            claims,
            "/adherence_records",
            "select planned_entity_id, status, similarity_score, breakdown, actual_ref_id "
            "from public.adherence_records where date = %s",
            today,
        )
    }
    for event in plan:
        record = records.get(event["ref_id"])
        status = calendar[event["id"]]["status"] if event["id"] in calendar else event["status"]
        when = event["time_of_day"] or ""
        line = f"    {event['event_type']:<8} {event['title']:<28} {when:<13} {status}"
        if record is not None and record["similarity_score"] is not None:
            breakdown = record["breakdown"]
            terms = ", ".join(f"{k} {breakdown[k]}" for k in TERMS if k in breakdown)
            line += f" (score {record['similarity_score']}: {terms})"
        say(line)
    matched = {r["actual_ref_id"] for r in records.values() if r["actual_ref_id"] is not None}
    unmatched = _get(
        database,
        claims,
        "/meals",
        "select meal_type, total_kcal from public.meals where local_date = %s "
        "and not (id = any(%s)) order by logged_at",
        today,
        list(matched),
    )
    for meal in unmatched:
        say(f"    logged, matches no planned item: {meal['meal_type']} ({meal['total_kcal']} kcal)")
    for activity in _get(
        database,
        claims,
        "/activities",
        "select name, duration_minutes from public.activities where local_date = %s "
        "and not (id = any(%s)) order by start_time",
        today,
        list(matched),
    ):
        say(
            f"    logged, matches no planned item: {activity['name']} "
            f"({activity['duration_minutes']} min)"
        )

    _step(say, 12, "adherence today (GET /adherence_daily)")
    for row in _get(
        database,
        claims,
        "/adherence_daily",
        "select kind, planned_items, completed_items, similar_items, partial_items, "
        "skipped_items, pending_items, adherence_pct from public.adherence_daily "
        "where date = %s order by kind",
        today,
    ):
        pct = "n/a" if row["adherence_pct"] is None else f"{row['adherence_pct']} %"
        say(
            f"    {row['kind']:<8} planned {row['planned_items']}: completed "
            f"{row['completed_items']}, similar {row['similar_items']}, partial "
            f"{row['partial_items']}, skipped {row['skipped_items']}, pending "
            f"{row['pending_items']}; adherence {pct}"
        )

    _step(say, 13, "nutrition today (GET /nutrition_today)")
    for row in _get(database, claims, "/nutrition_today", "select * from public.nutrition_today"):
        say(
            f"    {row['date']}: target {_num(row['target_kcal'])} kcal, eaten "
            f"{_num(row['eaten_kcal'])} kcal in {row['meals_logged']} meals, burned "
            f"{_num(row['calories_burned'])} kcal"
        )
        say(
            f"    budget {_num(row['kcal_budget'])} kcal, remaining "
            f"{_num(row['kcal_remaining'])} kcal"
        )
        macros = ", ".join(
            f"{name} {_num(row[f'eaten_{name}_g'])} of {_num(row[f'target_{name}_g'])} g"
            for name in ("protein", "carbs", "fat")
        )
        say(f"    eaten of target: {macros}")


def _num(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


# --------------------------------------------------- issue 7: the day adapts to the check-in

# Today's check-in (DOMAIN §7): a short, poor night (poor_sleep, severity max(2, 5) = 5), a
# stressful day (high_stress 8: training volume x0.85 and +150 kcal, whose nutrition part asks by
# default) and sore legs (high_soreness 8). Sleep and soreness adjust training only, so on a rest
# day the stress's +150 kcal is what remains to adjust.
CHECK_IN: dict[str, Any] = {
    "sleep_hours": 5.0,
    "sleep_quality": 4,
    "stress_level": 8,
    "soreness_level": 8,
    "energy_level": 4,
}
CHECK_IN_TRIGGERS = ("poor_sleep", "high_stress", "high_soreness")
# What PostgREST runs for POST /user_context_log?on_conflict=user_id,date with
# `Prefer: resolution=merge-duplicates` (an upsert: the payload's columns are updated).
CHECK_IN_SQL = (
    "insert into public.user_context_log (user_id, date, sleep_hours, sleep_quality, "
    "stress_level, soreness_level, energy_level) select b.user_id, b.date, b.sleep_hours, "
    "b.sleep_quality, b.stress_level, b.soreness_level, b.energy_level "
    "from json_populate_recordset(null::public.user_context_log, %s::json) as b "
    "on conflict (user_id, date) do update set sleep_hours = excluded.sleep_hours, "
    "sleep_quality = excluded.sleep_quality, stress_level = excluded.stress_level, "
    "soreness_level = excluded.soreness_level, energy_level = excluded.energy_level "
    "returning date, sleep_hours, sleep_quality, stress_level, soreness_level, energy_level"
)
MODIFICATION_KEYS = (
    "volume_multiplier",
    "intensity_multiplier",
    "rir_delta",
    "set_delta",
    "replace_session",
    "kcal_delta",
    "carbs_delta_g",
)


def _adapt_the_day(say: Say, database: Database, claims: dict[str, Any], today: dt.date) -> None:
    zone = ZoneInfo(str(ONBOARDING_ANSWERS["timezone"]))
    _step(say, 14, f"check in for {today} as the user: POST /user_context_log (upsert)")
    logged = _post(
        database, claims, "/user_context_log", CHECK_IN_SQL, [{**CHECK_IN, "date": today}]
    )[0]
    say(
        f"    slept {_val(logged['sleep_hours'])} h (quality {logged['sleep_quality']}/10), "
        f"stress {logged['stress_level']}/10, soreness {logged['soreness_level']}/10, "
        f"energy {logged['energy_level']}/10"
    )
    say("    a trigger on user_context_log analyses the day (DOMAIN §7) and proposes an override")

    _step(say, 15, "the proposed adjustment (GET /day_overrides?date=eq.<today>)")
    found = _get(
        database,
        claims,
        "/day_overrides",
        "select id, status, approval, reason_codes, triggers, modifications, confidence, "
        "explanation, apply_after from public.day_overrides where date = %s "
        "and status in ('pending', 'approved', 'auto_applied')",
        today,
    )
    training = _get(
        database,
        claims,
        "/calendar_day",
        "select title from public.calendar_day where date = %s and event_type = 'training' "
        "and session_kind <> 'rest'",
        today,
    )
    if not found:
        say("    none: nothing planned today is affected by this check-in")
        return
    override = found[0]
    say(
        f"    status {override['status']}, approval {override['approval']}, "
        f"confidence {_val(override['confidence'])}"
    )
    for reason in override["triggers"]:
        modes = ", ".join(
            f"{domain} {reason[domain]}"
            for domain in ("training", "nutrition")
            if reason[domain] is not None
        )
        say(f"    reason {reason['trigger']} (severity {_val(reason['severity'])}): {modes}")
    for trigger in CHECK_IN_TRIGGERS:
        if trigger not in override["reason_codes"]:
            why = (
                "it adjusts training only and no session is planned today"
                if not training
                else "every part of it is disabled in the user's preferences"
            )
            say(f"    reason {trigger}: dropped, {why}")
    modifications = override["modifications"]
    changes = ", ".join(
        f"{key}={_val(modifications[key])}" for key in MODIFICATION_KEYS if key in modifications
    )
    for number, line in enumerate(textwrap.wrap(changes, 78)):
        say(f"    {'modifications:' if number == 0 else '':<14} {line}")
    for line in textwrap.wrap(override["explanation"], 92):
        say(f"    | {line}")
    if override["apply_after"] is not None:
        say(
            f"    applies by itself at {override['apply_after'].astimezone(zone):%H:%M} "
            "(pg_cron, every 5 minutes) unless the user rejects it"
        )
    else:
        say("    it waits for the user: approve_adjustment or reject_adjustment")

    _step(say, 16, "the user approves it (POST /rest/v1/rpc/approve_adjustment)")
    with database.as_user(claims, method="POST", path="/rpc/approve_adjustment") as conn:
        approved = conn.execute(
            "select status, applied_at, undo_until from public.approve_adjustment(%s)",
            (override["id"],),
        ).fetchone()
    assert approved is not None
    say(
        f"    status {approved['status']}, applied at "
        f"{approved['applied_at'].astimezone(zone):%H:%M}; undo_adjustment possible until "
        f"{approved['undo_until'].astimezone(zone):%Y-%m-%d %H:%M}"
    )

    _show_the_adjusted_day(say, database, claims, today)
    _show_the_notifications(say, database, claims, override["id"], zone)


def _show_the_adjusted_day(
    say: Say, database: Database, claims: dict[str, Any], today: dt.date
) -> None:
    _step(say, 17, "today's plan, adjusted (GET /calendar_day, /nutrition_today)")
    plan = _get(
        database,
        claims,
        "/calendar_day",
        "select event_type, title, time_of_day, meal_time, meal_type, session_kind, "
        "adjusted_session_kind, adjusted_exercises, targets, adjusted_targets, override_status, "
        "adjustment_reasons from public.calendar_day where date = %s",
        today,
    )
    plan.sort(key=_clock)
    if plan:
        say(
            f"    override {plan[0]['override_status']}: "
            f"{', '.join(plan[0]['adjustment_reasons'] or [])}"
        )
    for event in plan:
        if event["event_type"] == "training":
            if event["session_kind"] == "rest":
                say(f"    training {event['title']}: rest day, nothing to adjust")
                continue
            kind = event["session_kind"]
            if event["adjusted_session_kind"] != kind:
                kind += f" -> {event['adjusted_session_kind']}"
            say(f"    training {event['title']} ({kind}):")
            for exercise in event["adjusted_exercises"] or []:
                say(
                    f"      {exercise['name']:<30} sets {exercise['planned_sets']} -> "
                    f"{exercise['sets']}, RIR {_val(exercise['planned_target_rir'])} -> "
                    f"{_val(exercise['target_rir'])}, %1RM "
                    f"{_val(exercise['planned_target_pct_1rm'])} -> "
                    f"{_val(exercise['target_pct_1rm'])}"
                )
        else:
            planned, adjusted = event["targets"], event["adjusted_targets"]
            say(
                f"    meal     {event['meal_type']:<9} {_val(planned['kcal'])} -> "
                f"{_val(adjusted['kcal'])} kcal, carbs {_val(planned['carbs_g'])} -> "
                f"{_val(adjusted['carbs_g'])} g, protein {_val(adjusted['protein_g'])} g, "
                f"fat {_val(adjusted['fat_g'])} g"
            )
    if not any(e["event_type"] == "training" and e["session_kind"] != "rest" for e in plan):
        say("    training: no session planned today, nothing to adjust")
    for row in _get(database, claims, "/nutrition_today", "select * from public.nutrition_today"):
        say(
            f"    nutrition_today: target {_num(row['target_kcal'])} kcal "
            f"(kcal_adjustment {_num(row['kcal_adjustment'])}), carbs "
            f"{_num(row['target_carbs_g'])} g, remaining {_num(row['kcal_remaining'])} kcal"
        )


def _show_the_notifications(
    say: Say, database: Database, claims: dict[str, Any], override_id: uuid.UUID, zone: ZoneInfo
) -> None:
    _step(
        say,
        18,
        "notifications and the recorded moves (GET /notifications, /day_override_transitions)",
    )
    for note in _get(
        database,
        claims,
        "/notifications",
        "select kind, priority, title, action_taken, read_at from public.notifications "
        "where ref_table = 'day_overrides' and ref_id = %s order by created_at, kind",
        override_id,
    ):
        say(
            f"    {note['kind']:<20} {note['priority']:<6} {note['title']} "
            f"({note['action_taken'] or 'no action'}, {'read' if note['read_at'] else 'unread'})"
        )
    for move in _get(
        database,
        claims,
        "/day_override_transitions",
        "select from_status, to_status, actor, created_at from public.day_override_transitions "
        "where override_id = %s order by created_at",
        override_id,
    ):
        say(
            f"    {move['from_status'] or '(new)'} -> {move['to_status']} by {move['actor']} "
            f"at {move['created_at'].astimezone(zone):%H:%M:%S}"
        )


def _val(value: object) -> str:
    """A number as a person writes it (3, 67.5, 0.574), "-" for none."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
