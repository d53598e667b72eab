"""DatabaseLookup as a real signed-in user against the real reference data, and the
scripted consultation through the consultation service with the offline engine."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from harness import PostgrestSession
from sharpened.auth import user_claims
from sharpened.consultation.lookup import (
    EVENT_TYPE_SYNONYMS,
    EXERCISE_ALIASES,
    FOOD_ALIASES,
    MEAL_TIME_SYNONYMS,
    MODALITY_SYNONYMS,
    DatabaseLookup,
    find_exercises_in_text,
    find_foods_in_text,
)
from sharpened.consultation.models import REQUIRED_FACTS, ConsultationState, Section, SectionStatus
from sharpened.consultation.offline import MEAL_CLOCK, OfflineEngine
from sharpened.consultation.script import SCRIPTED_CONSULTATION, expected
from sharpened.consultation.service import ConsultationService
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.users import create_user

pytestmark = pytest.mark.integration


@pytest.fixture
def lookup(pg: PostgrestSession) -> Iterator[DatabaseLookup]:
    user = pg.signup()
    with pg.as_user(user) as conn:
        assert conn.execute("select current_user").fetchone() == {"current_user": "authenticated"}
        yield DatabaseLookup(conn)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("squats", "Barbell Squat"),
        ("Squat", "Barbell Squat"),
        ("sqauts", "Barbell Squat"),  # typo
        ("deadlfts", "Barbell Deadlift"),  # typo
        ("bench press", "Barbell Bench Press - Medium Grip"),
        ("benchpress", "Barbell Bench Press - Medium Grip"),
        ("pull-ups", "Pullups"),
        ("Pull ups", "Pullups"),
        ("romanian deadlifts", "Romanian Deadlift"),
        ("zercher squats", "Zercher Squats"),  # no alias: the search and the ranking
        ("incline dumbbell press", "Incline Dumbbell Press"),
        ("clean and jerk", "Clean and Jerk"),
        ("Barbell Full Squat", "Barbell Full Squat"),  # an exact name wins
    ],
)
def test_exercises(lookup: DatabaseLookup, query: str, first: str) -> None:
    found = lookup.exercises(query)
    assert found, query
    assert found[0].name == first
    assert len(found) <= 5
    assert len({m.id for m in found}) == len(found)


def test_exercise_search_finds_squats_by_name(lookup: DatabaseLookup) -> None:
    found = lookup.exercises("squats", 5)
    assert len(found) == 5
    assert all("squat" in m.name.lower() for m in found)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("chicken breast", "Chicken, broilers or fryers, breast, meat only, cooked, roasted"),
        ("chiken brest", "Chicken, broilers or fryers, breast, meat only, cooked, roasted"),
        ("eggs", "Egg, whole, raw, fresh"),
        ("oats", "Cereals, oats, regular and quick, not fortified, dry"),
        ("bananna", "Bananas, raw"),
        ("brown rice", "Rice, brown, long-grain, cooked"),
        ("greek yoghurt", "Yogurt, Greek, plain, nonfat"),
        ("cheddar cheese", "Cheese, cheddar"),  # no alias: the search and the ranking
        ("blueberries", "Blueberries, raw"),
        ("Broccoli, raw", "Broccoli, raw"),  # an exact name wins
    ],
)
def test_foods(lookup: DatabaseLookup, query: str, first: str) -> None:
    found = lookup.foods(query)
    assert found, query
    assert found[0].name == first


def test_foods_without_an_alias_are_ranked_plainest_first(lookup: DatabaseLookup) -> None:
    found = lookup.foods("turkey breast", 5)
    assert found
    assert all("turkey" in m.name.lower() for m in found)
    assert "Babyfood" not in found[0].name


@pytest.mark.parametrize("query", ["", "   ", "!!!", "x", "qwxzv plorg", "a" * 500])
def test_nonsense_finds_nothing_and_does_not_fail(lookup: DatabaseLookup, query: str) -> None:
    assert lookup.exercises(query) == []
    assert lookup.foods(query) == []


def test_limits(lookup: DatabaseLookup) -> None:
    assert len(lookup.foods("rice", 1)) == 1
    assert len(lookup.foods("rice", 12)) == 12
    assert lookup.foods("rice", 0) == []


def test_every_alias_names_exactly_one_catalogue_row(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        for table, aliases in (("exercises", EXERCISE_ALIASES), ("foods", FOOD_ALIASES)):
            names = sorted(set(aliases.values()))
            rows = conn.execute(
                f"select name, count(*) as n from public.{table} "  # noqa: S608
                "where name = any(%s) group by name",
                (names,),
            ).fetchall()
            assert {r["name"]: r["n"] for r in rows} == dict.fromkeys(names, 1), table


def test_vocabularies_and_their_synonyms(lookup: DatabaseLookup) -> None:
    modalities = {m.id for m in lookup.modalities()}
    meal_times = {m.id for m in lookup.meal_times()}
    event_types = {m.id for m in lookup.event_types()}
    assert len(modalities) >= 15
    assert len(meal_times) >= 8
    assert len(event_types) >= 10
    assert set(MODALITY_SYNONYMS) <= modalities
    assert set(MEAL_TIME_SYNONYMS) <= meal_times
    assert set(MEAL_CLOCK) <= meal_times
    assert set(EVENT_TYPE_SYNONYMS) <= event_types
    # Read once per instance: a second call returns the same rows without a query.
    assert lookup.modalities() == lookup.modalities()


def test_names_inside_sentences(lookup: DatabaseLookup) -> None:
    found = find_exercises_in_text(lookup, "I do squats, bench press and deadlifts")
    assert [f.match.name for f in found] == [
        "Barbell Squat",
        "Barbell Bench Press - Medium Grip",
        "Barbell Deadlift",
    ]
    assert [f.phrase for f in found] == ["squats", "bench press", "deadlifts"]
    text = "Also hip thrusts plus some zercher squats, and the clean and jerk."
    assert [f.match.name for f in find_exercises_in_text(lookup, text)] == [
        "Barbell Hip Thrust",
        "Zercher Squats",
        "Clean and Jerk",
    ]
    foods = find_foods_in_text(lookup, SCRIPTED_CONSULTATION[7])
    assert [f.match.name for f in foods] == [
        row["food"] for row in expected(dt.date.today())["user_typical_meal_foods"]
    ]
    assert find_foods_in_text(lookup, "I sleep badly and my knee hurts") == []


def test_the_lookup_needs_a_signed_in_user(pg: PostgrestSession) -> None:
    with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
        DatabaseLookup(conn).exercises("squat")


def test_a_food_turn_is_quick(pg: PostgrestSession) -> None:
    state = _state_at_section_5()
    with pg.as_user(pg.signup()) as conn:
        OfflineEngine(DatabaseLookup(conn)).next_turn(state, SCRIPTED_CONSULTATION[7])  # warm up
        started = time.perf_counter()
        for _ in range(5):
            turn = OfflineEngine(DatabaseLookup(conn)).next_turn(state, SCRIPTED_CONSULTATION[7])
        elapsed = (time.perf_counter() - started) / 5
    assert len(turn.extraction.typical_foods) == 7
    assert elapsed < 0.25, elapsed  # generous: a loaded CI machine; ~10 ms when idle


def _state_at_section_5() -> ConsultationState:
    return ConsultationState(
        current_section=Section.TYPICAL_FOODS,
        sections=[
            SectionStatus(
                section=s,
                complete=s < Section.TYPICAL_FOODS,
                missing=[] if s < Section.TYPICAL_FOODS else list(REQUIRED_FACTS[s]),
            )
            for s in Section
        ],
        today=dt.date(2026, 11, 26),
    )


# ------------------------------------------- the script, end to end (as the user) ---


_ROWS = {
    "user_training_modalities": "select t.*, t.modality_id as modality "
    "from public.user_training_modalities t",
    "user_familiar_exercises": "select t.*, e.name as exercise "
    "from public.user_familiar_exercises t join public.exercises e on e.id = t.exercise_id",
    "user_training_availability": "select t.* from public.user_training_availability t",
    "user_preferred_meal_times": "select t.*, t.meal_time_id as meal_time "
    "from public.user_preferred_meal_times t",
    "user_typical_meal_foods": "select t.*, f.name as food, t.meal_time_id as meal_time "
    "from public.user_typical_meal_foods t join public.foods f on f.id = t.food_id",
    "user_improvement_goals": "select t.*, e.name as exercise from public.user_improvement_goals t "
    "left join public.exercises e on e.id = t.exercise_id",
    "user_upcoming_events": "select t.*, t.event_type_id as event_type "
    "from public.user_upcoming_events t",
    "user_difficulties": "select t.* from public.user_difficulties t",
    "user_non_negotiables": "select t.* from public.user_non_negotiables t",
}


def _plain(value: Any) -> Any:
    return (
        float(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, int) else value
    )


def test_the_script_fills_the_nine_tables_through_the_service(fresh_db: str) -> None:
    db = Database(fresh_db, min_size=1, max_size=2)
    try:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            user_id = create_user(conn, f"script-{uuid.uuid4().hex[:8]}@example.test")
        claims = user_claims(user_id)
        key = mint_keys_as_service(db, 1)[0]
        with db.as_user(claims) as conn:
            session_id = redeem_key(conn, key.key_code).session_id
        service = ConsultationService(db, OfflineEngine, DatabaseLookup)
        results = [service.chat(claims, {}, session_id, m) for m in SCRIPTED_CONSULTATION]
        assert [r.unresolved for r in results] == [[]] * len(SCRIPTED_CONSULTATION)
        assert results[-1].progress == 100
        assert results[-1].completed_sections == [1, 2, 3, 4, 5, 6, 7]
        assert "consultation is complete" in results[-1].reply

        today = dt.date.today()
        with db.as_user(claims) as conn:
            for table, query in _ROWS.items():
                rows = [{k: _plain(v) for k, v in row.items()} for row in conn.execute(query)]
                wanted = expected(today)[table]
                assert len(rows) == len(wanted), (table, rows)
                for want in wanted:
                    assert any(all(row.get(k) == v for k, v in want.items()) for row in rows), (
                        table,
                        want,
                        rows,
                    )
                assert all(row["session_id"] == session_id for row in rows)
                assert all(row["user_id"] == user_id for row in rows)
    finally:
        db.close()
