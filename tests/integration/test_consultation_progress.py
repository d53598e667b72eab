"""Consultation progress (public.consultation_progress, public.refresh_consultation_progress),
computed from the user's own rows and called as the real user, as PostgREST would."""

from __future__ import annotations

import math
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from harness import PostgrestSession
from sharpened.consultation.models import REQUIRED_FACTS, Section

pytestmark = pytest.mark.integration

TOTAL_FACTS = sum(len(codes) for codes in REQUIRED_FACTS.values())
Progress = dict[Section, list[str]]


def start_session(pg: PostgrestSession, user: uuid.UUID) -> uuid.UUID:
    row = pg.conn.execute(
        "insert into public.consultation_sessions (user_id, engine) values (%s, 'offline') "
        "returning id",
        (user,),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def progress(conn: psycopg.Connection[Any], session: uuid.UUID) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in conn.execute(
            "select section, slug, complete, missing from public.consultation_progress(%s)",
            (session,),
        )
    ]


def missing_of(pg: PostgrestSession, user: uuid.UUID, session: uuid.UUID) -> Progress:
    with pg.as_user(user) as conn:
        rows = progress(conn, session)
    assert [row["section"] for row in rows] == list(range(1, 8))
    for row in rows:
        assert row["complete"] == (row["missing"] == [])
    return {Section(row["section"]): row["missing"] for row in rows}


def refresh(pg: PostgrestSession, user: uuid.UUID, session: uuid.UUID) -> dict[str, Any]:
    with pg.as_user(user) as conn:
        row = conn.execute(
            "select * from public.refresh_consultation_progress(%s)", (session,)
        ).fetchone()
    assert row is not None
    return dict(row)


def reference_ids(pg: PostgrestSession) -> dict[str, Any]:
    def ids(sql: str) -> list[Any]:
        return [row["id"] for row in pg.conn.execute(sql)]

    return {
        "modalities": ids("select id from public.training_modalities order by id limit 2"),
        "exercises": ids("select id from public.exercises order by id limit 3"),
        "meals": ids("select id from public.meal_times order by sort_order limit 3"),
        "foods": ids("select id from public.foods order by id limit 3"),
        "event_type": ids("select id from public.event_types order by id limit 1")[0],
    }


# Each step, run as the user (%(u)s user, %(s)s session, %(r_…)s reference ids),
# and the codes of its section still missing afterwards.
STEPS: dict[Section, list[tuple[str, list[str]]]] = {
    Section.TRAINING_MODALITIES: [
        (
            "insert into public.user_training_modalities (user_id, session_id, modality_id, "
            "proficiency_level, years_experience) values (%(u)s, %(s)s, %(r_modality2)s, "
            "'advanced', 9)",
            # a modality, but a secondary one: its proficiency and years do not count
            ["primary_modality", "proficiency", "years_experience"],
        ),
        (
            "insert into public.user_training_modalities (user_id, session_id, modality_id, "
            "is_primary) values (%(u)s, %(s)s, %(r_modality1)s, true)",
            ["proficiency", "years_experience"],
        ),
        (
            "update public.user_training_modalities set proficiency_level = 'intermediate' "
            "where is_primary",
            ["years_experience"],
        ),
        (
            "update public.user_training_modalities set years_experience = 2.5 where is_primary",
            [],
        ),
    ],
    Section.EXERCISE_FAMILIARITY: [
        (
            "insert into public.user_familiar_exercises (user_id, session_id, exercise_id, "
            "comfort_level) values (%(u)s, %(s)s, %(r_exercise1)s, 4)",
            ["familiar_exercises"],
        ),
        (
            "insert into public.user_familiar_exercises (user_id, exercise_id) "
            "values (%(u)s, %(r_exercise2)s)",
            ["familiar_exercises", "comfort_levels"],
        ),
        (
            "insert into public.user_familiar_exercises (user_id, exercise_id, comfort_level) "
            "values (%(u)s, %(r_exercise3)s, 2)",
            ["comfort_levels"],
        ),
        (
            "update public.user_familiar_exercises set comfort_level = 3 "
            "where comfort_level is null",
            [],
        ),
    ],
    Section.TRAINING_SCHEDULE: [
        (
            "insert into public.user_training_availability (user_id, session_id, day_of_week, "
            "time_of_day, typical_duration_minutes) values (%(u)s, %(s)s, 1, 'morning', 60)",
            ["training_days", "training_location"],
        ),
        (
            # the same day again: still one distinct day
            "insert into public.user_training_availability (user_id, day_of_week, time_of_day, "
            "typical_duration_minutes, location_type) values (%(u)s, 1, 'evening', 45, 'gym')",
            ["training_days", "training_location"],
        ),
        (
            "update public.user_training_availability set location_type = 'home' "
            "where location_type is null",
            ["training_days"],
        ),
        (
            "insert into public.user_training_availability (user_id, day_of_week, time_of_day, "
            "location_type) values (%(u)s, 3, 'morning', 'gym')",
            ["session_duration"],
        ),
        (
            "update public.user_training_availability set typical_duration_minutes = 50 "
            "where typical_duration_minutes is null",
            [],
        ),
    ],
    Section.MEAL_TIMING: [
        (
            "insert into public.user_preferred_meal_times (user_id, session_id, meal_time_id, "
            "typical_time) values (%(u)s, %(s)s, %(r_meal1)s, '07:30')",
            ["meal_times"],
        ),
        (
            "insert into public.user_preferred_meal_times (user_id, meal_time_id) "
            "values (%(u)s, %(r_meal2)s)",
            ["meal_clock_times"],
        ),
        (
            "update public.user_preferred_meal_times set typical_time = '12:30' "
            "where typical_time is null",
            [],
        ),
    ],
    Section.TYPICAL_FOODS: [
        (
            "insert into public.user_typical_meal_foods (user_id, session_id, food_id, "
            "meal_time_id) values (%(u)s, %(s)s, %(r_food1)s, %(r_meal1)s)",
            ["typical_foods"],
        ),
        (
            # the same food at another meal: still one food
            "insert into public.user_typical_meal_foods (user_id, food_id, meal_time_id) "
            "values (%(u)s, %(r_food1)s, %(r_meal2)s)",
            ["typical_foods"],
        ),
        (
            "insert into public.user_typical_meal_foods (user_id, food_id) "
            "values (%(u)s, %(r_food2)s)",
            ["typical_foods", "food_meal_times"],
        ),
        (
            "insert into public.user_typical_meal_foods (user_id, food_id, meal_time_id) "
            "values (%(u)s, %(r_food3)s, %(r_meal3)s)",
            ["food_meal_times"],
        ),
        (
            "update public.user_typical_meal_foods set meal_time_id = %(r_meal3)s "
            "where meal_time_id is null",
            [],
        ),
    ],
    Section.GOALS_EVENTS: [
        (
            # an event alone completes nothing (events are optional)
            "insert into public.user_upcoming_events (user_id, event_type_id, event_name, "
            "event_date) values (%(u)s, %(r_event_type)s, 'City 10K', current_date + 60)",
            ["goal", "goal_target"],
        ),
        (
            "insert into public.user_improvement_goals (user_id, session_id, goal_type, "
            "target_description) values (%(u)s, %(s)s, 'strength', 'Get stronger')",
            ["goal_target"],
        ),
        (
            "insert into public.user_improvement_goals (user_id, goal_type, target_description, "
            "target_date) values (%(u)s, 'endurance', 'Run the 10K', current_date + 60)",
            [],
        ),
    ],
    Section.CHALLENGES: [
        (
            # non-negotiables are optional and do not count
            "insert into public.user_non_negotiables (user_id, constraint_type, description) "
            "values (%(u)s, 'rest_day', 'No training on Sundays')",
            ["difficulty"],
        ),
        (
            "insert into public.user_difficulties (user_id, session_id, category, description) "
            "values (%(u)s, %(s)s, 'time', 'Long working days')",
            [],
        ),
    ],
}


def step_params(user: uuid.UUID, session: uuid.UUID, refs: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"u": user, "s": session, "r_event_type": refs["event_type"]}
    for kind, singular in [
        ("modalities", "modality"),
        ("exercises", "exercise"),
        ("meals", "meal"),
        ("foods", "food"),
    ]:
        for n, value in enumerate(refs[kind], start=1):
            params[f"r_{singular}{n}"] = value
    return params


def expected_percentage(known: int) -> int:
    """round() as PostgreSQL rounds numeric: half away from zero."""
    return math.floor(100 * known / TOTAL_FACTS + 0.5)


# ------------------------------------------------------------------ codes ---


def test_a_new_session_misses_exactly_the_required_facts(pg: PostgrestSession) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    with pg.as_user(user) as conn:
        rows = progress(conn, session)
    assert rows == [
        {
            "section": int(section),
            "slug": section.slug,
            "complete": False,
            "missing": list(codes),
        }
        for section, codes in REQUIRED_FACTS.items()
    ]
    assert [row["section"] for row in rows] == [int(section) for section in Section]


def test_the_steps_cover_every_required_fact() -> None:
    """Guard for the next test: every section's facts get known, one after another."""
    assert set(STEPS) == set(Section)
    for section, steps in STEPS.items():
        assert steps[-1][1] == []
        seen = {code for _, missing in steps for code in missing}
        assert seen <= set(REQUIRED_FACTS[section])


@pytest.mark.parametrize("section", list(Section), ids=lambda section: section.slug)
def test_each_fact_flips_exactly_its_code(pg: PostgrestSession, section: Section) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    params = step_params(user, session, reference_ids(pg))
    before = missing_of(pg, user, session)
    assert before[section] == list(REQUIRED_FACTS[section])

    for sql, expected in STEPS[section]:
        with pg.as_user(user) as conn:
            assert conn.execute(sql, params).rowcount >= 1
        now = missing_of(pg, user, session)
        assert now[section] == expected, sql
        # No other section moved.
        assert {s: m for s, m in now.items() if s != section} == {
            s: m for s, m in before.items() if s != section
        }


def test_facts_of_other_users_do_not_count(pg: PostgrestSession) -> None:
    user, other = pg.signup(), pg.signup()
    session = start_session(pg, user)
    other_session = start_session(pg, other)
    params = step_params(other, other_session, reference_ids(pg))
    for steps in STEPS.values():
        for sql, _ in steps:
            with pg.as_user(other) as conn:
                conn.execute(sql, params)
    assert all(missing == [] for missing in missing_of(pg, other, other_session).values())
    assert missing_of(pg, user, session) == {
        section: list(codes) for section, codes in REQUIRED_FACTS.items()
    }


def test_facts_from_before_the_session_count(pg: PostgrestSession) -> None:
    """Facts are the user's rows, whichever session (or none) wrote them."""
    user = pg.signup()
    old = start_session(pg, user)
    params = step_params(user, old, reference_ids(pg))
    for sql, _ in STEPS[Section.CHALLENGES]:
        with pg.as_user(user) as conn:
            conn.execute(sql, params)
    pg.conn.execute(
        "update public.consultation_sessions set status = 'abandoned' where id = %s", (old,)
    )
    session = start_session(pg, user)
    assert missing_of(pg, user, session)[Section.CHALLENGES] == []


# ------------------------------------------------------------- isolation ---


def test_another_users_session_is_not_found(pg: PostgrestSession) -> None:
    owner, intruder = pg.signup(), pg.signup()
    session = start_session(pg, owner)
    with pytest.raises(psycopg.Error) as raised, pg.as_user(intruder) as conn:
        progress(conn, session)
    assert raised.value.sqlstate == "PT404"
    with pytest.raises(psycopg.Error) as raised, pg.as_user(intruder) as conn:
        conn.execute("select public.refresh_consultation_progress(%s)", (session,))
    assert raised.value.sqlstate == "PT404"
    row = pg.conn.execute(
        "select updated_at = created_at as untouched from public.consultation_sessions "
        "where id = %s",
        (session,),
    ).fetchone()
    assert row == {"untouched": True}


def test_an_unknown_session_is_not_found(pg: PostgrestSession) -> None:
    user = pg.signup()
    for call in [
        "select * from public.consultation_progress(%s)",
        "select public.refresh_consultation_progress(%s)",
    ]:
        with pytest.raises(psycopg.Error) as raised, pg.as_user(user) as conn:
            conn.execute(call, (uuid.uuid4(),))
        assert raised.value.sqlstate == "PT404"


@pytest.mark.parametrize(
    "call",
    [
        "select * from public.consultation_progress(%s)",
        "select public.refresh_consultation_progress(%s)",
    ],
)
def test_anon_may_not_call(pg: PostgrestSession, call: str) -> None:
    session = start_session(pg, pg.signup())
    with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
        conn.execute(call, (session,))


def test_the_service_role_reads_any_progress_but_cannot_refresh(pg: PostgrestSession) -> None:
    session = start_session(pg, pg.signup())
    with pg.as_service() as conn:
        assert len(progress(conn, session)) == 7
    with pytest.raises(errors.InsufficientPrivilege), pg.as_service() as conn:
        conn.execute("select public.refresh_consultation_progress(%s)", (session,))


@pytest.mark.parametrize("status", ["completed", "abandoned"])
def test_only_an_active_session_is_refreshed(pg: PostgrestSession, status: str) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    pg.conn.execute(
        "update public.consultation_sessions set status = %s, progress_percentage = 100, "
        "completed_at = case when %s = 'completed' then now() end where id = %s",
        (status, status, session),
    )
    with pytest.raises(psycopg.Error) as raised, pg.as_user(user) as conn:
        conn.execute("select public.refresh_consultation_progress(%s)", (session,))
    assert raised.value.sqlstate == "PT409"
    # Progress of a finished session still reads.
    assert len(missing_of(pg, user, session)) == 7


def test_clients_cannot_update_the_session_themselves(pg: PostgrestSession) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute(
            "update public.consultation_sessions set progress_percentage = 100 where id = %s",
            (session,),
        )


# -------------------------------------------------------------- progress ---


def test_refresh_tracks_sections_current_section_and_percentage(pg: PostgrestSession) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    params = step_params(user, session, reference_ids(pg))

    fresh = refresh(pg, user, session)
    assert (fresh["completed_sections"], fresh["current_section"]) == ([], 1)
    assert fresh["progress_percentage"] == 0

    # Fill the sections out of order: 2 first, then 1, then the rest.
    order = [Section.EXERCISE_FAMILIARITY, Section.TRAINING_MODALITIES]
    order += [section for section in Section if section not in order]
    for section in order:
        for sql, _ in STEPS[section]:
            with pg.as_user(user) as conn:
                conn.execute(sql, params)
            missing = missing_of(pg, user, session)
            known = TOTAL_FACTS - sum(len(codes) for codes in missing.values())
            complete = sorted(int(s) for s, codes in missing.items() if not codes)
            incomplete = [int(s) for s, codes in missing.items() if codes]
            row = refresh(pg, user, session)
            assert row["id"] == session
            assert row["progress_percentage"] == expected_percentage(known), sql
            assert row["completed_sections"] == complete
            assert row["current_section"] == (incomplete[0] if incomplete else 7)
            assert row["status"] == "active"

    final = refresh(pg, user, session)
    assert final["completed_sections"] == [1, 2, 3, 4, 5, 6, 7]
    assert (final["current_section"], final["progress_percentage"]) == (7, 100)
    # Refreshing never completes the session.
    assert (final["status"], final["completed_at"]) == ("active", None)


def test_progress_numbers(pg: PostgrestSession) -> None:
    user = pg.signup()
    session = start_session(pg, user)
    params = step_params(user, session, reference_ids(pg))
    # Section 1 complete (4 of 16 facts) and one fact of section 2.
    for sql, _ in STEPS[Section.TRAINING_MODALITIES]:
        with pg.as_user(user) as conn:
            conn.execute(sql, params)
    row = refresh(pg, user, session)
    assert (row["progress_percentage"], row["current_section"]) == (25, 2)
    assert row["completed_sections"] == [1]
    with pg.as_user(user) as conn:
        conn.execute(STEPS[Section.EXERCISE_FAMILIARITY][0][0], params)
    row = refresh(pg, user, session)
    assert row["progress_percentage"] == 31  # 5/16 = 31.25 %
    # A removed fact moves the session back.
    with pg.as_user(user) as conn:
        conn.execute("delete from public.user_training_modalities where is_primary")
    row = refresh(pg, user, session)
    assert (row["completed_sections"], row["current_section"]) == ([], 1)
    assert row["progress_percentage"] == 13  # modality + comfort_levels: 2/16 = 12.5 % → 13
    stored = pg.conn.execute(
        "select progress_percentage, current_section, completed_sections "
        "from public.consultation_sessions where id = %s",
        (session,),
    ).fetchone()
    assert stored == {"progress_percentage": 13, "current_section": 1, "completed_sections": []}
