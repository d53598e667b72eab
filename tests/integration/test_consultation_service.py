"""A consultation turn against the real database, with a scripted engine.

The engine is a stand-in that returns a fixed Turn, so these tests pin what
the service does around it: ownership, limits, writing the extraction under
the user's RLS, progress, and that a failed engine call writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from sharpened.auth import user_claims
from sharpened.consultation.engine import EngineError, ReferenceLookup
from sharpened.consultation.lookup import DatabaseLookup
from sharpened.consultation.models import (
    EXTRACTION_TABLES,
    AvailabilityFact,
    ConsultationState,
    DifficultyFact,
    EventFact,
    ExerciseFact,
    Extraction,
    GoalFact,
    MealTimeFact,
    ModalityFact,
    NonNegotiableFact,
    Turn,
    TypicalFoodFact,
)
from sharpened.consultation.service import ConsultationService
from sharpened.db import Database
from sharpened.errors import ApiError
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.settings import get_settings
from sharpened.users import create_user

pytestmark = pytest.mark.integration


EVERYTHING = Extraction(
    training_modalities=[
        ModalityFact(
            modality="strength_training",
            is_primary=True,
            proficiency_level="intermediate",
            years_experience=3,
        )
    ],
    familiar_exercises=[
        ExerciseFact(exercise="barbell squat", comfort_level=4),
        ExerciseFact(exercise="barbell bench press", comfort_level=5),
        ExerciseFact(exercise="barbell deadlift", comfort_level=3),
    ],
    availability=[
        AvailabilityFact(
            day_of_week=day, time_of_day="evening", typical_duration_minutes=60, location_type="gym"
        )
        for day in (1, 3, 5)
    ],
    meal_times=[
        MealTimeFact(meal_time="breakfast", typical_time=dt.time(7, 30)),
        MealTimeFact(meal_time="dinner", typical_time=dt.time(19, 0)),
    ],
    typical_foods=[
        TypicalFoodFact(food="oats", meal_time="breakfast"),
        TypicalFoodFact(food="egg whole raw", meal_time="breakfast"),
        TypicalFoodFact(food="chicken breast", meal_time="dinner"),
    ],
    goals=[
        GoalFact(
            goal_type="strength",
            target_description="squat 140 kg",
            target_value=140,
            exercise="barbell squat",
        )
    ],
    events=[
        EventFact(
            event_type="powerlifting_meet",
            event_name="Club meet",
            event_date=dt.date.today() + dt.timedelta(days=90),
        )
    ],
    difficulties=[DifficultyFact(category="time", description="long work days", severity=3)],
    non_negotiables=[
        NonNegotiableFact(
            constraint_type="rest_day", description="Sundays off", rule={"day_of_week": 7}
        )
    ],
)


@dataclass
class ScriptedEngine:
    """Returns the queued turns in order; raises a queued EngineError."""

    turns: list[Turn | EngineError] = field(default_factory=list)
    seen: list[ConsultationState] = field(default_factory=list)
    name: str = "offline"
    model: str | None = None

    def opening(self, state: ConsultationState) -> Turn:
        return Turn(reply="Hello")

    def next_turn(self, state: ConsultationState, user_message: str) -> Turn:
        self.seen.append(state)
        turn = self.turns.pop(0)
        if isinstance(turn, EngineError):
            raise turn
        return turn


@pytest.fixture
def db(fresh_db: str) -> Iterator[Database]:
    database = Database(fresh_db, min_size=1, max_size=4)
    try:
        yield database
    finally:
        database.close()


@dataclass
class Consultant:
    user_id: uuid.UUID
    claims: dict[str, Any]
    session_id: uuid.UUID


def _consultant(db: Database, url: str) -> Consultant:
    with psycopg.connect(url) as conn:
        user_id = create_user(conn, f"c-{uuid.uuid4().hex[:8]}@example.test")
    claims = user_claims(user_id)
    key = mint_keys_as_service(db, 1)[0]
    with db.as_user(claims) as conn:
        session_id = redeem_key(conn, key.key_code).session_id
    return Consultant(user_id, claims, session_id)


def _service(db: Database, engine: ScriptedEngine) -> ConsultationService:
    def lookup(conn: Any) -> ReferenceLookup:
        return DatabaseLookup(conn)

    return ConsultationService(db, lambda _lookup: engine, lookup)


def _count(url: str, table: str, user_id: uuid.UUID) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"select count(*) from public.{table} where user_id = %s",  # noqa: S608
            (user_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_turn_writes_all_nine_tables_and_completes_every_section(
    db: Database, fresh_db: str
) -> None:
    me = _consultant(db, fresh_db)
    engine = ScriptedEngine([Turn(reply="Thanks!", extraction=EVERYTHING)])
    result = _service(db, engine).chat(me.claims, {}, me.session_id, "Here is everything.")

    assert result.unresolved == []
    assert result.completed_sections == [1, 2, 3, 4, 5, 6, 7]
    assert result.progress == 100
    assert result.reply == "Thanks!"
    for table in EXTRACTION_TABLES:
        assert _count(fresh_db, table, me.user_id) >= 1, table
    assert _count(fresh_db, "user_familiar_exercises", me.user_id) == 3
    assert _count(fresh_db, "consultation_messages", me.user_id) == 2
    with psycopg.connect(fresh_db) as conn:
        recorded = conn.execute(
            "select engine, model from public.consultation_sessions where id = %s", (me.session_id,)
        ).fetchone()
    assert recorded == ("offline", None)  # the column's default is 'openai'
    state = engine.seen[0]
    assert state.current_section == 1
    assert state.status(state.current_section).missing == [
        "modality", "primary_modality", "proficiency", "years_experience",
    ]  # fmt: skip


def test_facts_are_refined_not_duplicated(db: Database, fresh_db: str) -> None:
    me = _consultant(db, fresh_db)
    first = Extraction(familiar_exercises=[ExerciseFact(exercise="barbell squat")])
    second = Extraction(
        familiar_exercises=[ExerciseFact(exercise="barbell squat", comfort_level=2)]
    )
    engine = ScriptedEngine([Turn(reply="a", extraction=first), Turn(reply="b", extraction=second)])
    service = _service(db, engine)
    service.chat(me.claims, {}, me.session_id, "I squat")
    service.chat(me.claims, {}, me.session_id, "not very comfortable though")
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "select comfort_level from public.user_familiar_exercises where user_id = %s",
            (me.user_id,),
        ).fetchall()
    assert rows == [(2,)]


def test_unknown_names_are_reported_not_written(db: Database, fresh_db: str) -> None:
    me = _consultant(db, fresh_db)
    extraction = Extraction(
        training_modalities=[ModalityFact(modality="underwater basket weaving")],
        familiar_exercises=[ExerciseFact(exercise="qzxv wrplk")],
    )
    result = _service(db, ScriptedEngine([Turn(reply="ok", extraction=extraction)])).chat(
        me.claims, {}, me.session_id, "..."
    )
    assert result.unresolved == ["modality: underwater basket weaving", "exercise: qzxv wrplk"]
    assert _count(fresh_db, "user_training_modalities", me.user_id) == 0
    assert _count(fresh_db, "user_familiar_exercises", me.user_id) == 0


def test_engine_failure_writes_nothing(db: Database, fresh_db: str) -> None:
    me = _consultant(db, fresh_db)
    engine = ScriptedEngine([EngineError("llm_timeout", "the model did not answer in time")])
    with pytest.raises(ApiError) as raised:
        _service(db, engine).chat(me.claims, {}, me.session_id, "hello")
    assert (raised.value.status, raised.value.code) == (504, "llm_timeout")
    assert _count(fresh_db, "consultation_messages", me.user_id) == 0


def test_another_users_session_is_not_found(db: Database, fresh_db: str) -> None:
    me, other = _consultant(db, fresh_db), _consultant(db, fresh_db)
    engine = ScriptedEngine([Turn(reply="never", extraction=EVERYTHING)])
    with pytest.raises(ApiError) as raised:
        _service(db, engine).chat(other.claims, {}, me.session_id, "let me in")
    assert (raised.value.status, raised.value.code) == (404, "session_not_found")
    assert engine.seen == []
    for table in EXTRACTION_TABLES:
        assert _count(fresh_db, table, me.user_id) == 0
        assert _count(fresh_db, table, other.user_id) == 0


def test_closed_session_takes_no_messages(db: Database, fresh_db: str) -> None:
    me = _consultant(db, fresh_db)
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "update public.consultation_sessions set status = 'abandoned' where id = %s",
            (me.session_id,),
        )
    with pytest.raises(ApiError) as raised:
        _service(db, ScriptedEngine()).chat(me.claims, {}, me.session_id, "hello?")
    assert (raised.value.status, raised.value.code) == (409, "session_closed")


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [("x" * 2001, 413, "message_too_long"), ("   ", 422, "empty_message")],
)
def test_message_size_limits(
    db: Database, fresh_db: str, message: str, status: int, code: str
) -> None:
    me = _consultant(db, fresh_db)
    with pytest.raises(ApiError) as raised:
        _service(db, ScriptedEngine()).chat(me.claims, {}, me.session_id, message)
    assert (raised.value.status, raised.value.code) == (status, code)


MESSAGES_PER_MINUTE = 10  # the documented default


def test_ten_messages_a_minute(db: Database, fresh_db: str) -> None:
    assert get_settings().chat_messages_per_minute == MESSAGES_PER_MINUTE
    me = _consultant(db, fresh_db)
    turns: list[Turn | EngineError] = [Turn(reply=f"r{i}") for i in range(MESSAGES_PER_MINUTE)]
    service = _service(db, ScriptedEngine(turns))
    for i in range(MESSAGES_PER_MINUTE):
        service.chat(me.claims, {}, me.session_id, f"message {i}")
    with pytest.raises(ApiError) as raised:
        service.chat(me.claims, {}, me.session_id, "one too many")
    assert (raised.value.status, raised.value.code) == (429, "rate_limited")
    assert _count(fresh_db, "consultation_messages", me.user_id) == 2 * MESSAGES_PER_MINUTE


def test_two_hundred_messages_a_consultation(db: Database, fresh_db: str) -> None:
    me = _consultant(db, fresh_db)
    with psycopg.connect(fresh_db) as conn:  # 200 earlier user messages, outside the minute
        conn.execute(
            "insert into public.consultation_messages "
            "(session_id, user_id, role, content, section, created_at) "
            "select %s, %s, 'user', 'old', 1, now() - interval '1 day' "
            "from generate_series(1, 200)",
            (me.session_id, me.user_id),
        )
    with pytest.raises(ApiError) as raised:
        _service(db, ScriptedEngine([Turn(reply="no")])).chat(me.claims, {}, me.session_id, "hi")
    assert (raised.value.status, raised.value.code) == (429, "thread_message_limit")
