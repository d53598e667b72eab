"""``make demo``: the demo journey against the running local stack, as a client app would do it.

The whole journey of issue 9 (item 1): signup, onboarding, key redemption, the consultation to
the end, the program (started 14 days ago), two weeks of logging, today's logs, the check-in and
its approved override, then the reassessment that has come due.

Each later issue adds its steps (consultation, program, logging, adaptation,
reassessment); this first part signs a user up, completes onboarding through
the Data API's SQL (PostgREST's prelude, under RLS) and reads the profile back
through the functions with the official ``supabase`` Python client. Issue 6
logs the user's first day as a client would POST it (the planned workout, or a
walk on a rest day; the planned meals and an extra snack) and prints the day's
verdicts, adherence and nutrition views. Issue 7 checks in a poor night, a
stressful day and sore legs (POST /user_context_log), shows the day override the
database proposes, approves it (RPC approve_adjustment) and prints the adjusted
day, the notifications and the recorded transitions. Issue 8 (item 6) starts the program two
weeks ago and backfills those 14 days as the user (weigh-ins, the planned meals and sessions,
daily check-ins: one day's array POSTs at a time); at the end the operator runs what pg_cron
runs (``private.enqueue_due_reassessments()``, ``private.request_reassessment()``), the local
stack's relay delivers the call to the ``reassess`` function, and the demo prints the
reassessment, its plan change events, the targets in force, the user's notification and
tomorrow's numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from supabase import Client, ClientOptions, create_client
from supabase_functions.errors import FunctionsHttpError

from sharpened.auth import api_key, mint_user_token, user_claims
from sharpened.consultation.script import SCRIPTED_CONSULTATION
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.local import LocalStack
from sharpened.settings import get_settings
from sharpened.users import create_user

Say = Callable[[str], None]
FUNCTION_TIMEOUT_SECONDS = 120

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
    # Program generation takes seconds on a busy machine: more than the client's default 5 s.
    client = create_client(
        stack.api_url,
        api_key("anon", settings=settings),
        options=ClientOptions(function_client_timeout=FUNCTION_TIMEOUT_SECONDS),
    )
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
    zone = ZoneInfo(str(ONBOARDING_ANSWERS["timezone"]))
    # Two weeks into the program: it started 14 days ago, its first reassessment is due today.
    today = dt.datetime.now(zone).date()
    start = today - dt.timedelta(days=BACKFILL_DAYS)
    program_id = _program(say, client, token, session_id, start)
    database = Database(stack.db_url, min_size=1, max_size=2)
    try:
        claims = user_claims(user_id, email, settings=settings)
        _backfill(say, database, claims, zone, start, today)
        _log_the_day(say, database, claims, today)
        _adapt_the_day(say, database, claims, today)
        _run_the_reassessment(say, stack, program_id, start, today)
        _show_the_reassessment(say, database, claims, program_id, start, today)
    except DemoError as exc:
        say(f"\n    demo stopped: {exc}")
        return 1
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


def _program(
    say: Say, client: Client, token: str, session_id: uuid.UUID, start: dt.date
) -> uuid.UUID:
    _step(
        say,
        8,
        f"consultation-complete: the program is generated, stored and laid out (start_date "
        f"{start}: the demo is two weeks into it)",
    )
    summary = client.functions.invoke(
        "consultation-complete",
        {
            "body": {"session_id": str(session_id), "start_date": start.isoformat()},
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
    first = summary["first_week"][0]["date"] if summary["first_week"] else None
    say(f"    plan for its first day, {first}:")
    for event in summary["first_week"]:
        if event["date"] != first:
            continue
        if event["event_type"] == "meal":
            kcal = event["targets"]["kcal"]
            say(f"      meal     {event['title']} ({event['time_of_day']}): {kcal} kcal")
        else:
            minutes = event["planned_duration_minutes"]
            say(f"      training {event['title']} ({event['time_of_day']}, {minutes} min)")
    return uuid.UUID(str(summary["program_id"]))


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


def _log_the_day(say: Say, database: Database, claims: dict[str, Any], today: dt.date) -> None:
    """Steps 10-14: today's workout and meals, the calendar, adherence and nutrition."""
    zone = ZoneInfo(str(ONBOARDING_ANSWERS["timezone"]))
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


def _clock(event: dict[str, Any]) -> dt.time:
    """When a planned item happens: the meal's time, else its slot's (evening without one)."""
    if event["meal_time"] is not None:
        clock: dt.time = event["meal_time"]
        return clock
    return SLOT_TIMES.get(event["time_of_day"] or "evening", dt.time(18, 0))


def _set_row(
    activity_id: Any, exercise: dict[str, Any], number: int, load_kg: float
) -> dict[str, Any]:
    """One logged set of a planned exercise: mid-range reps at ``load_kg``, or 60 s when timed."""
    timed = exercise["reps_min"] is None
    return {
        "activity_id": str(activity_id),
        "exercise_id": exercise["exercise_id"],
        "exercise_name": exercise["name"],
        "set_number": number,
        "reps": None if timed else (exercise["reps_min"] + exercise["reps_max"]) // 2,
        "weight_kg": None if timed else load_kg,
        "rir": exercise["target_rir"],
        "duration_seconds": 60 if timed else None,
    }


def _post_session_activity(
    database: Database, claims: dict[str, Any], session: dict[str, Any], started: dt.datetime
) -> dict[str, Any]:
    """POST /activities: the planned session, done from ``started`` for its planned minutes."""
    minutes = max(session["planned_duration_minutes"] or 45, 1)
    row = {
        "category": CATEGORIES.get(session["session_kind"], "strength"),
        "name": session["title"],
        "start_time": started.isoformat(),
        "end_time": (started + dt.timedelta(minutes=minutes)).isoformat(),
        "duration_minutes": minutes,
    }
    return _post(database, claims, "/activities", ACTIVITY_SQL, [row])[0]


def _log_workout(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    today: dt.date,
    plan: list[dict[str, Any]],
) -> None:
    _step(say, 10, f"log today's workout ({today}) as the user: POST /activities, /exercise_sets")
    sessions = [e for e in plan if e["event_type"] == "training" and e["session_kind"] != "rest"]
    if not sessions:
        _log_walk(say, database, claims, zone, today)
        return
    session = sessions[0]
    clock = _clock(session)
    started = dt.datetime.combine(today, clock, tzinfo=zone)
    activity = _post_session_activity(database, claims, session, started)
    # The planned sets at mid-range reps, all but the very last one (close, not identical).
    exercises = session["exercises"] or []
    sets: list[dict[str, Any]] = []
    for index, exercise in enumerate(exercises):
        count = exercise["sets"] - (
            1 if index == len(exercises) - 1 and exercise["sets"] > 1 else 0
        )
        for number in range(1, count + 1):
            sets.append(_set_row(activity["id"], exercise, number, WORKING_KG))
    if sets:
        _post(database, claims, "/exercise_sets", SETS_SQL, sets)
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


ITEMS_SQL = (
    "insert into public.meal_items (meal_id, user_id, food_id, grams) "
    "select b.meal_id, b.user_id, b.food_id, b.grams "
    "from json_populate_recordset(null::public.meal_items, %s::json) as b returning id"
)
LOG_MEAL_SQL = (
    "select id, meal_type, logged_at, total_kcal, total_protein_g, total_carbs_g, total_fat_g "
    "from public.log_meal(meal_type => %s, items => %s, logged_at => %s)"
)


def _log_meal(
    database: Database,
    claims: dict[str, Any],
    meal_type: str,
    logged_at: dt.datetime,
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    """POST /rpc/log_meal: the meal and its items in one request; returns the meal with the
    totals the trigger computed."""
    with database.as_user(claims, method="POST", path="/rpc/log_meal") as conn:
        row = conn.execute(LOG_MEAL_SQL, (meal_type, Jsonb(items), logged_at)).fetchone()
    assert row is not None
    return dict(row)


def _log_meals(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    today: dt.date,
    plan: list[dict[str, Any]],
) -> None:
    _step(say, 11, "log today's meals (POST /rpc/log_meal): the planned foods, and a snack")
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
    _step(say, 12, f"today's calendar as matched by the triggers (GET /calendar_day, {today})")
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

    _step(say, 13, "adherence today (GET /adherence_daily)")
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

    _step(say, 14, "nutrition today (GET /nutrition_today)")
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
    _step(say, 15, f"check in for {today} as the user: POST /user_context_log (upsert)")
    logged = _post(
        database, claims, "/user_context_log", CHECK_IN_SQL, [{**CHECK_IN, "date": today}]
    )[0]
    say(
        f"    slept {_val(logged['sleep_hours'])} h (quality {logged['sleep_quality']}/10), "
        f"stress {logged['stress_level']}/10, soreness {logged['soreness_level']}/10, "
        f"energy {logged['energy_level']}/10"
    )
    say("    a trigger on user_context_log analyses the day (DOMAIN §7) and proposes an override")

    _step(say, 16, "the proposed adjustment (GET /day_overrides?date=eq.<today>)")
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

    _step(say, 17, "the user approves it (POST /rest/v1/rpc/approve_adjustment)")
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
    _step(say, 18, "today's plan, adjusted (GET /calendar_day, /nutrition_today)")
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
        19,
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


# ------------------------------------------- issues 8 and 9: two weeks of logs, the reassessment


class DemoError(Exception):
    """A step could not finish; the message says what is stuck."""


BACKFILL_DAYS = 14
BACKFILL_SEED = 20261127  # the same "two weeks" on every run
WEIGHT_SLOPE_KG_PER_DAY = -0.05  # -0.35 kg/week: slower than the program's target rate
WEIGHT_NOISE_KG = 0.3  # day-to-day water and food (standard deviation)
NO_WEIGH_IN = (4, 10)  # days of the two weeks without a weigh-in
WEIGH_IN_TIME = dt.time(7, 10)
GRAMS_SPREAD = 0.04  # eaten / planned grams within +-4 %
LOAD_START_KG = WORKING_KG - 2.5  # the loads rise to today's working weight (step 10)
LOAD_STEP_KG = 1.25  # added each time an exercise is done again
BODY_METRICS_SQL = (
    "insert into public.body_metrics (user_id, measured_at, weight_kg) "
    "select b.user_id, b.measured_at, b.weight_kg "
    "from json_populate_recordset(null::public.body_metrics, %s::json) as b returning id"
)
MEALS_SQL = (
    "insert into public.meals (user_id, meal_type, logged_at) "
    "select b.user_id, b.meal_type, b.logged_at "
    "from json_populate_recordset(null::public.meals, %s::json) as b returning id, logged_at"
)
ACTIVITY_SQL = (
    "insert into public.activities (user_id, category, name, start_time, end_time, "
    "duration_minutes) select b.user_id, b.category, b.name, b.start_time, b.end_time, "
    "b.duration_minutes "
    "from json_populate_recordset(null::public.activities, %s::json) as b returning id"
)
SETS_SQL = (
    "insert into public.exercise_sets (activity_id, user_id, exercise_id, exercise_name, "
    "set_number, reps, weight_kg, rir, duration_seconds) select b.activity_id, b.user_id, "
    "b.exercise_id, b.exercise_name, b.set_number, b.reps, b.weight_kg, b.rir, "
    "b.duration_seconds "
    "from json_populate_recordset(null::public.exercise_sets, %s::json) as b returning id"
)
CONTEXT_SQL = (
    "insert into public.user_context_log (user_id, date, sleep_hours, sleep_quality, "
    "stress_level, soreness_level, energy_level) select b.user_id, b.date, b.sleep_hours, "
    "b.sleep_quality, b.stress_level, b.soreness_level, b.energy_level "
    "from json_populate_recordset(null::public.user_context_log, %s::json) as b returning id"
)


def _backfill(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    start: dt.date,
    today: dt.date,
) -> None:
    """Step 9: the 14 days before today as the user logged them, one day's POSTs at a time."""
    _step(
        say,
        9,
        f"the first two weeks ({start} to {today - dt.timedelta(days=1)}), logged as the user "
        "day by day: POST /body_metrics, /meals, /meal_items, /activities, /exercise_sets, "
        "/user_context_log (array bodies)",
    )
    rng = random.Random(BACKFILL_SEED)  # noqa: S311 - demo data, not secrets
    planned: dict[dt.date, list[dict[str, Any]]] = {}
    for event in _get(
        database,
        claims,
        "/calendar_day",
        "select * from public.calendar_day where date >= %s and date < %s",
        start,
        today,
    ):
        planned.setdefault(event["date"], []).append(event)
    weight0 = float(ONBOARDING_ANSWERS["weight_kg"])
    done: dict[str, int] = {}  # how often each exercise was done (its load rises)
    written = {"weigh-ins": 0, "meals": 0, "foods": 0, "workouts": 0, "sets": 0, "check-ins": 0}
    say(
        f"    {'date':<14} {'weight':>8}  {'meals':>5} {'eaten':>9} {'planned':>9}  "
        f"{'workout':<24} {'sets':>4} {'load':>13}  check-in"
    )
    trained_yesterday = False
    for index in range(BACKFILL_DAYS):
        day = start + dt.timedelta(days=index)
        plan = sorted(planned.get(day, []), key=_clock)
        noise = rng.gauss(0, WEIGHT_NOISE_KG)
        weight = None
        if index not in NO_WEIGH_IN:
            weight = round(weight0 + WEIGHT_SLOPE_KG_PER_DAY * index + noise, 1)
            at = dt.datetime.combine(day, WEIGH_IN_TIME, zone)
            _post(
                database,
                claims,
                "/body_metrics",
                BODY_METRICS_SQL,
                [{"measured_at": at.isoformat(), "weight_kg": weight}],
            )
            written["weigh-ins"] += 1
        meals, foods = _backfill_meals(database, claims, zone, day, plan, rng)
        written["meals"] += meals
        written["foods"] += foods
        workout = _backfill_workout(database, claims, zone, day, plan, done)
        if workout is not None:
            written["workouts"] += 1
            written["sets"] += workout[1]
        soreness = rng.randint(2, 4) + (1 if trained_yesterday else 0)
        check_in = {
            "date": day,
            "sleep_hours": rng.choice((6.5, 7.0, 7.5, 8.0)),
            "sleep_quality": rng.randint(6, 8),
            "stress_level": rng.randint(3, 6),
            "soreness_level": soreness,
            "energy_level": rng.randint(5, 8),
        }
        _post(database, claims, "/user_context_log", CONTEXT_SQL, [check_in])
        written["check-ins"] += 1
        trained_yesterday = workout is not None
        eaten = _get(
            database,
            claims,
            "/meals",
            "select coalesce(sum(total_kcal), 0) as kcal from public.meals where local_date = %s",
            day,
        )[0]["kcal"]
        target = sum(
            (Decimal(str(e["targets"]["kcal"])) for e in plan if e["event_type"] == "meal"),
            Decimal(0),
        )
        session = "rest" if workout is None else workout[0]
        sets = "" if workout is None else str(workout[1])
        load = "" if workout is None else workout[2]
        say(
            f"    {day:%Y-%m-%d %a} {_kg(weight):>8}  {meals:>5} {_num(eaten):>5} kcal "
            f"{_num(target):>5} kcal  {session:<24} {sets:>4} {load:>13}  "
            f"sleep {_val(check_in['sleep_hours'])} h, stress {check_in['stress_level']}, "
            f"soreness {soreness}"
        )
    say("    written: " + ", ".join(f"{n} {what}" for what, n in written.items()))
    _show_the_adherence(say, database, claims, start, today)


def _kg(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} kg"


def _backfill_meals(
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    day: dt.date,
    plan: list[dict[str, Any]],
    rng: random.Random,
) -> tuple[int, int]:
    """The day's planned meals with their planned foods (grams within a few %): one POST
    /meals and one POST /meal_items. Returns (meals, foods) written."""
    events = [e for e in plan if e["event_type"] == "meal"]
    if not events:
        return 0, 0
    times = [dt.datetime.combine(day, _clock(e), zone) for e in events]
    meals = _post(
        database,
        claims,
        "/meals",
        MEALS_SQL,
        [
            {"meal_type": e["meal_type"], "logged_at": at.isoformat()}
            for e, at in zip(events, times, strict=True)
        ],
    )
    ids = {row["logged_at"]: row["id"] for row in meals}
    items = [
        {
            "meal_id": str(ids[at]),
            "food_id": item["food_id"],
            "grams": round(item["grams"] * rng.uniform(1 - GRAMS_SPREAD, 1 + GRAMS_SPREAD), 1),
        }
        for e, at in zip(events, times, strict=True)
        for item in e["items"] or []
    ]
    if items:
        _post(database, claims, "/meal_items", ITEMS_SQL, items)
    return len(meals), len(items)


def _backfill_workout(
    database: Database,
    claims: dict[str, Any],
    zone: ZoneInfo,
    day: dt.date,
    plan: list[dict[str, Any]],
    done: dict[str, int],
) -> tuple[str, int, str] | None:
    """The day's planned session as planned (every set, mid-range reps, the target RIR), each
    exercise a little heavier than the last time: POST /activities, then /exercise_sets.
    Returns (title, sets, load range) or None on a rest day."""
    sessions = [e for e in plan if e["event_type"] == "training" and e["session_kind"] != "rest"]
    if not sessions:
        return None
    session = sessions[0]
    started = dt.datetime.combine(day, _clock(session), zone)
    activity = _post_session_activity(database, claims, session, started)
    sets: list[dict[str, Any]] = []
    loads: list[float] = []
    for exercise in session["exercises"] or []:
        timed = exercise["reps_min"] is None
        key = str(exercise["exercise_id"] or exercise["name"])
        load = LOAD_START_KG + LOAD_STEP_KG * done.get(key, 0)
        done[key] = done.get(key, 0) + 1
        if not timed:
            loads.append(load)
        sets += [
            _set_row(activity["id"], exercise, number, load)
            for number in range(1, exercise["sets"] + 1)
        ]
    if sets:
        _post(database, claims, "/exercise_sets", SETS_SQL, sets)
    span = ""
    if loads:
        low, high = min(loads), max(loads)
        span = f"{_val(low)} kg" if low == high else f"{_val(low)}-{_val(high)} kg"
    return str(session["title"]), len(sets), span


def _show_the_adherence(
    say: Say, database: Database, claims: dict[str, Any], start: dt.date, today: dt.date
) -> None:
    """The two weeks' adherence from the daily rollups (DOMAIN §6 weights)."""
    for row in _get(
        database,
        claims,
        "/adherence_daily",
        "select kind, sum(planned_items) as planned, sum(completed_items) as completed, "
        "sum(similar_items) as similar, sum(partial_items) as partial, "
        "sum(skipped_items) as skipped, round(100 * sum(completed_items + 0.75 * similar_items "
        "+ 0.4 * partial_items) / nullif(sum(completed_items + similar_items + partial_items "
        "+ skipped_items), 0), 1) as pct from public.adherence_daily "
        "where date >= %s and date < %s group by kind order by kind",
        start,
        today,
    ):
        say(
            f"    adherence {row['kind']:<8} planned {row['planned']:>3}: completed "
            f"{row['completed']}, similar {row['similar']}, partial {row['partial']}, skipped "
            f"{row['skipped']}; {_val(row['pct'])} %"
        )


# The operator's two statements, as the pg_cron jobs run them (as the database owner).
ENQUEUE_SQL = "select private.enqueue_due_reassessments()"
REQUEST_SQL = "select private.request_reassessment()"
REASSESS_TIMEOUT_SECONDS = 90.0


def _run_the_reassessment(
    say: Say, stack: LocalStack, program_id: uuid.UUID, start: dt.date, today: dt.date
) -> None:
    """Step 20: enqueue and request as pg_cron does, then wait for the relay and the worker."""
    _step(
        say,
        20,
        f"the reassessment is due today ({today}): the operator runs the two pg_cron jobs' "
        "statements as the database owner and waits for the relay and the `reassess` worker",
    )
    period_end = today - dt.timedelta(days=1)
    with psycopg.connect(stack.db_url) as conn:
        queued = conn.execute(ENQUEUE_SQL).fetchone()
        call = conn.execute(REQUEST_SQL).fetchone()
    assert queued is not None
    assert call is not None
    call_id = call[0]
    say(f"    {ENQUEUE_SQL:<48} -> {queued[0]} due program(s) queued")
    if call_id is None:
        say(f"    {REQUEST_SQL:<48} -> null (pg_cron's own run has the job already)")
    else:
        say(
            f"    {REQUEST_SQL:<48} -> function call {call_id}: POST /functions/v1/reassess "
            "(queued for the relay: no pg_net here)"
        )
    started = time.monotonic()
    job, delivered = _wait_for_the_job(stack, program_id, start, call_id)
    waited = time.monotonic() - started
    if delivered is not None:
        status, body = delivered
        say(f"    relay delivered call {call_id}: HTTP {status} {body}")
    say(
        f"    job {job['id']} (program {program_id}, period {start} to {period_end}): "
        f"{job['status']} after {job['attempts']} attempt(s), {waited:.1f} s after the request"
    )


def _wait_for_the_job(
    stack: LocalStack, program_id: uuid.UUID, start: dt.date, call_id: int | None
) -> tuple[dict[str, Any], tuple[int, str] | None]:
    """Poll until the program's job is done; a clear error naming what is stuck otherwise."""
    deadline = time.monotonic() + REASSESS_TIMEOUT_SECONDS
    with psycopg.connect(stack.db_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            delivered = None
            if call_id is not None:
                row = conn.execute(
                    "select delivered_at, response_status, response_body "
                    "from private.function_calls where id = %s",
                    (call_id,),
                ).fetchone()
                if row is not None and row["delivered_at"] is not None:
                    delivered = (int(row["response_status"]), str(row["response_body"]))
                    if delivered[0] != 200:
                        raise DemoError(
                            f"the reassess function answered function call {call_id} with "
                            f"HTTP {delivered[0]}: {delivered[1]} (see {stack.functions_log})"
                        )
            job = conn.execute(
                "select id, status, attempts, last_error, locked_by "
                "from private.reassessment_jobs where program_id = %s and period_start = %s",
                (program_id, start),
            ).fetchone()
            if job is None:
                raise DemoError(
                    f"no reassessment job was queued for program {program_id} and the period "
                    f"from {start}: is its next_reassessment_date today in the user's time zone?"
                )
            if job["status"] == "done" and (call_id is None or delivered is not None):
                return dict(job), delivered
            if job["status"] in ("failed", "dead"):
                raise DemoError(
                    f"reassessment job {job['id']} is {job['status']} after {job['attempts']} "
                    f"attempt(s): {job['last_error']}"
                )
            if time.monotonic() > deadline:
                raise DemoError(_stuck(stack, call_id, delivered, job))
            time.sleep(0.2)


def _stuck(
    stack: LocalStack,
    call_id: int | None,
    delivered: tuple[int, str] | None,
    job: dict[str, Any],
) -> str:
    waited = f"{REASSESS_TIMEOUT_SECONDS:.0f} s"
    if call_id is not None and delivered is None:
        return (
            f"function call {call_id} (reassess) is still undelivered in "
            f"private.function_calls after {waited}: the local stack's relay is not running or "
            f"cannot reach {stack.functions_url} (`sharpened local up` starts it with the "
            f"functions server; see {stack.functions_log})"
        )
    return (
        f"reassessment job {job['id']} is still {job['status']} after {waited} (attempts "
        f"{job['attempts']}, worker {job['locked_by'] or 'none'}): see {stack.functions_log}"
    )


def _show_the_reassessment(
    say: Say,
    database: Database,
    claims: dict[str, Any],
    program_id: uuid.UUID,
    start: dt.date,
    today: dt.date,
) -> None:
    """Steps 21-25: what the user reads afterwards (each GET under RLS, as the user)."""
    _step(say, 21, "the reassessment as the user reads it (GET /reassessments?program_id=eq.<id>)")
    found = _get(
        database,
        claims,
        "/reassessments",
        "select id, period_start, period_end, inputs, outcome, changes from public.reassessments "
        "where program_id = %s and period_start = %s",
        program_id,
        start,
    )
    if not found:
        raise DemoError(f"the user sees no reassessment of program {program_id} from {start}")
    reassessment = found[0]
    for label, value in _outcome_lines(reassessment):
        say(f"    {label:<22} {value}")

    _step(say, 22, "the plan change events (GET /plan_change_events?reassessment_id=eq.<id>)")
    events = _get(
        database,
        claims,
        "/plan_change_events",
        "select entity_type, change_type, old_value, new_value, reason_code, controller_terms "
        "from public.plan_change_events where reassessment_id = %s",
        reassessment["id"],
    )
    order = {"calories": 0, "macros": 1, "volume": 2, "deload": 3}
    events.sort(key=lambda e: (order.get(e["change_type"], 9), str(e["new_value"].get("muscle"))))
    say(f"    {'kind':<9} {'':<11} {'old -> new':<34} {'reason':<26} key terms")
    for event in events:
        what, change = _event_change(event)
        say(
            f"    {event['change_type']:<9} {what:<11} {change:<34} {event['reason_code']:<26} "
            f"{_event_terms(event)}"
        )
    if not events:
        say("    none: the plan stays as it is")

    _step(say, 23, "the targets in force (GET /program_effective_targets?program_id=eq.<id>)")
    _show_the_targets(say, database, claims, program_id)

    _step(say, 24, "the user is told (GET /notifications?kind=eq.reassessment)")
    for note in _get(
        database,
        claims,
        "/notifications",
        "select kind, priority, title, body, read_at from public.notifications "
        "where kind = 'reassessment' and ref_table = 'programs' and ref_id = %s "
        "order by created_at",
        program_id,
    ):
        say(
            f"    {note['kind']} ({note['priority']}, {'read' if note['read_at'] else 'unread'}): "
            f"{note['title']}"
        )
        for paragraph in str(note["body"]).splitlines():
            for line in textwrap.wrap(paragraph, 92):
                say(f"    | {line}")

    tomorrow = today + dt.timedelta(days=1)
    _step(say, 25, f"tomorrow's numbers (GET /nutrition_day?date=eq.{tomorrow})")
    for row in _get(
        database,
        claims,
        "/nutrition_day",
        "select date, target_kcal, kcal_adjustment, target_protein_g, target_carbs_g, "
        "target_fat_g from public.nutrition_day where date = %s",
        tomorrow,
    ):
        say(
            f"    {row['date']}: target {_num(row['target_kcal'])} kcal (kcal_adjustment "
            f"{_signed(row['kcal_adjustment'])}: the reassessment's change, in force from "
            f"{reassessment['period_end'] + dt.timedelta(days=1)}), protein "
            f"{_val(row['target_protein_g'])} g, carbs {_val(row['target_carbs_g'])} g, fat "
            f"{_val(row['target_fat_g'])} g"
        )


def _signed(value: Decimal | float | int | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}"


def _rate(value: object) -> str:
    return "n/a" if value is None else f"{float(str(value)):+.2f} kg/week"


def _outcome_lines(reassessment: dict[str, Any]) -> list[tuple[str, str]]:
    """The reassessment's measurements and controller terms as (label, value) lines."""
    inputs, outcome = reassessment["inputs"], reassessment["outcome"]
    m, cal = outcome["measurements"], outcome["calorie"]
    volume = outcome["volume"].get("multiplier", {})
    start, end = reassessment["period_start"], reassessment["period_end"]
    trend = "no trend"
    if m["trend_start_kg"] is not None:
        trend = (
            f"trend {m['trend_start_kg']:.2f} kg ({m['trend_start_day']}) -> "
            f"{m['trend_end_kg']:.2f} kg ({m['trend_end_day']}), EWMA alpha 0.1"
        )
    e1rm = inputs.get("e1rm_trend_pct") or {}
    lines = [
        ("period", f"{start} to {end} ({(end - start).days + 1} days)"),
        ("weigh-ins", f"{m['weigh_in_days']} days; {trend}"),
        ("observed rate", _rate(m["observed_rate_kg_per_week"])),
        (
            "target rate",
            f"{_rate(cal['target_rate_kg_per_week'])} (error {_rate(cal.get('error'))})",
        ),
        (
            "data confidence",
            f"{m['confidence']:.2f} (min(1, weigh-in days / 6) x min(1, intake days / 10))",
        ),
        (
            "intake",
            f"{m['intake_days']} days logged, mean {_num(_dec(m['mean_intake_kcal']))} kcal/day",
        ),
        (
            "expenditure estimate",
            f"{_num(_dec(m['expenditure_kcal']))} kcal/day (mean intake - trend change x 7700 / "
            f"days; the program's TDEE {inputs.get('tdee_kcal')} kcal)",
        ),
        (
            "adherence",
            f"sessions {_pct(inputs.get('session_adherence'))}, meals "
            f"{_pct(inputs.get('meal_adherence'))} (DOMAIN §6 weights)",
        ),
        (
            "soreness / stress",
            f"{_avg(inputs.get('soreness_avg'))} / {_avg(inputs.get('stress_avg'))} of 10 "
            "(context log averages)",
        ),
        (
            "e1RM trend",
            ", ".join(f"{k} {float(v):+.1f} %" for k, v in sorted(e1rm.items())) or "n/a",
        ),
    ]
    if cal.get("skipped"):
        lines.append(("calorie controller", f"skipped: {cal['skipped']}"))
    else:
        lines.append(
            (
                "calorie controller",
                f"c x (P {cal['p_term']:+.0f} + I {cal['i_term']:+.0f}) = {cal['raw_kcal']:+.0f} "
                f"kcal -> {cal['rounded_kcal']:+d}; lower bound {cal['lower_bound_kcal']} kcal "
                f"({cal['lower_bound_reason']}); limits {', '.join(cal['limits']) or 'none'} "
                f"-> {cal['change_kcal']:+d} kcal/day",
            )
        )
    if "multiplier" in volume:
        lines.append(
            (
                "volume multiplier",
                f"x{volume['multiplier']:.3f} (session adherence "
                f"{_val(volume.get('session_adherence'))} vs setpoint {volume.get('setpoint')})",
            )
        )
    lines.append(("changes", f"{reassessment['changes']} plan change events"))
    return lines


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _pct(value: object) -> str:
    return "n/a" if value is None else f"{100 * float(str(value)):.1f} %"


def _avg(value: object) -> str:
    return "n/a" if value is None else f"{float(str(value)):.1f}"


def _event_change(event: dict[str, Any]) -> tuple[str, str]:
    """(what changed, "old -> new" with units) for a plan change event."""
    old, new = event["old_value"] or {}, event["new_value"] or {}
    kind = event["change_type"]
    if kind == "calories":
        return "program", f"{old.get('kcal')} -> {new.get('kcal')} kcal/day"
    if kind == "macros":
        parts = "/".join(("P", "C", "F"))
        before = "/".join(str(old.get(k)) for k in ("protein_g", "carbs_g", "fat_g"))
        after = "/".join(str(new.get(k)) for k in ("protein_g", "carbs_g", "fat_g"))
        return "program", f"{parts} {before} -> {after} g"
    if kind == "volume":
        return str(new.get("muscle")), f"{old.get('sets')} -> {new.get('sets')} sets/week"
    if kind == "deload":
        return "program", f"deload week from {new.get('week_start')}"
    return str(event["entity_type"]), f"{old} -> {new}"


def _event_terms(event: dict[str, Any]) -> str:
    """The controller terms that explain a change, briefly."""
    terms = event["controller_terms"] or {}
    kind = event["change_type"]
    if kind == "calories":
        return (
            f"e {_rate(terms.get('error'))}, raw {terms.get('raw_kcal', 0):+.0f} kcal, "
            f"limits {', '.join(terms.get('limits') or []) or 'none'}"
        )
    if kind == "macros":
        return f"{terms.get('change_kcal', 0):+d} kcal to carbs (/4); protein, fat kept"
    if kind == "volume":
        performance = (
            "no e1RM data"
            if terms.get("performance") is None
            else f"performance {terms['performance']} (e1RM {_trend(terms.get('e1rm_trend_pct'))})"
            f", table {_signed(terms.get('table_sets'))}"
        )
        return (
            f"soreness {terms.get('soreness')}, {performance}, multiplier "
            f"x{terms.get('multiplier')}, step {terms.get('step'):+d}"
            + (f", limits {', '.join(terms['limits'])}" if terms.get("limits") else "")
        )
    if kind == "deload":
        return (
            f"{terms.get('recoveries')} of {terms.get('muscles')} muscles need recovery, "
            f"{terms.get('weeks_since_deload')} of {terms.get('mesocycle_weeks')} weeks"
        )
    return ""


def _trend(value: object) -> str:
    return "n/a" if value is None else f"{float(str(value)):+.1f} %"


def _show_the_targets(
    say: Say, database: Database, claims: dict[str, Any], program_id: uuid.UUID
) -> None:
    rows = _get(
        database,
        claims,
        "/program_effective_targets",
        "select e.base_kcal, e.kcal, e.protein_g, e.carbs_g, e.fat_g, e.weekly_sets_changes, "
        "e.deload_week_start, e.changed_from, p.macros from public.program_effective_targets "
        "as e join public.programs as p on p.id = e.program_id where e.program_id = %s",
        program_id,
    )
    if not rows:
        raise DemoError(f"the user sees no effective targets for program {program_id}")
    row = rows[0]
    base = row["macros"]
    say(f"    {'target':<12} {'program':>9} {'in force':>9}")
    say(f"    {'kcal/day':<12} {row['base_kcal']:>9} {row['kcal']:>9}")
    for name in ("protein", "carbs", "fat"):
        say(f"    {name + ' g':<12} {base[f'{name}_g']:>9} {row[f'{name}_g']:>9}")
    sets = row["weekly_sets_changes"] or {}
    if sets:
        say(
            "    weekly sets changed: "
            + ", ".join(f"{muscle} {_val(count)}" for muscle, count in sorted(sets.items()))
        )
    say(
        f"    deload week: {row['deload_week_start'] or 'none scheduled'}; "
        f"in force from {row['changed_from'] or '-'}"
    )
