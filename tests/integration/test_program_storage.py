"""store_program_bundle and the program views, on a committed database per test.

The bundle is built with the ProgramBundle models and stored as service code
does (Database.as_service, committed); clients act through Database.as_user
with real claims, as PostgREST would.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from sharpened.auth import user_claims
from sharpened.db import Database
from sharpened.programs.bundle import (
    Macros,
    PlannedExercise,
    PlannedMeal,
    PlannedMealItem,
    PlannedSession,
    ProgramBundle,
)
from sharpened.users import create_user

pytestmark = pytest.mark.integration

START = dt.date(2026, 12, 7)  # a Monday
PLAN_TABLES = (
    "programs",
    "session_instances",
    "exercise_plan_items",
    "meal_instances",
    "meal_item_plan",
    "calendar_events",
)
MEAL_TYPES = ("breakfast", "lunch", "dinner")


@pytest.fixture
def db(fresh_db: str) -> Iterator[Database]:
    database = Database(fresh_db, min_size=1, max_size=6)
    try:
        yield database
    finally:
        database.close()


def new_user(url: str) -> uuid.UUID:
    with psycopg.connect(url, autocommit=True) as conn:
        return create_user(conn, f"storage-{uuid.uuid4().hex[:8]}@example.test")


def reference_ids(db: Database) -> tuple[list[str], list[uuid.UUID]]:
    """Three catalogue exercise ids and three food ids."""
    with db.as_service() as conn:
        exercises = [
            str(r["id"])
            for r in conn.execute("select id from public.exercises order by id limit 3")
        ]
        foods = [r["id"] for r in conn.execute("select id from public.foods order by id limit 3")]
    return exercises, foods


def make_bundle(
    db: Database,
    user_id: uuid.UUID,
    *,
    weeks: int = 2,
    training_days: tuple[int, ...] = (0, 2, 4),
    exercises_per_session: int = 2,
    items_per_meal: int = 2,
    source_session_id: uuid.UUID | None = None,
) -> ProgramBundle:
    exercise_ids, food_ids = reference_ids(db)
    sessions = [
        PlannedSession(
            week_index=w,
            day_index=d,
            session_kind="strength",
            title=f"Full body W{w + 1}D{d}",
            planned_duration_minutes=60,
            time_of_day="evening",
            parameters={"split": "full_body", "target_rir": 3 - min(w, 3)},
            exercises=[
                PlannedExercise(
                    order_index=i,
                    exercise_id=exercise_ids[i % len(exercise_ids)] if i % 2 == 0 else None,
                    name=f"Exercise {i}",
                    sets=3,
                    reps_min=6,
                    reps_max=12,
                    target_rir=2,
                    target_pct_1rm=72.5,
                    rest_seconds=120,
                )
                for i in range(exercises_per_session)
            ],
        )
        for w in range(weeks)
        for d in training_days
    ]
    target = Macros(kcal=700, protein_g=50, carbs_g=70, fat_g=20)
    meals = [
        PlannedMeal(
            week_index=w,
            day_index=d,
            meal_type=meal_type,
            targets=target,
            totals=Macros(kcal=690, protein_g=49, carbs_g=71, fat_g=19.5),
            items=[
                PlannedMealItem(
                    food_id=food_ids[i % len(food_ids)],
                    food_name=f"Food {i}",
                    grams=150,
                    kcal=345,
                    protein_g=24.5,
                    carbs_g=35.5,
                    fat_g=9.8,
                )
                for i in range(items_per_meal)
            ],
        )
        for w in range(weeks)
        for d in range(7)
        for meal_type in MEAL_TYPES
    ]
    return ProgramBundle(
        user_id=user_id,
        source="consultation" if source_session_id else "onboarding",
        source_session_id=source_session_id,
        primary_goal="fat_loss",
        program_start_date=START,
        program_duration_weeks=weeks,
        next_reassessment_date=START + dt.timedelta(days=14),
        tdee={"bmr_kcal": 1780, "tdee_kcal": 2759, "multiplier": 1.55},
        macros={"kcal": 2140, "protein_g": 160, "carbs_g": 220, "fat_g": 70},
        safety={"findings": []},
        feasibility={"score": 1.0, "issues": []},
        provenance={"generator_version": "test"},
        sessions=sessions,
        meals=meals,
    )


def store(db: Database, bundle: ProgramBundle | dict[str, Any]) -> uuid.UUID:
    document = bundle.model_dump(mode="json") if isinstance(bundle, ProgramBundle) else bundle
    with db.as_service() as conn:
        row = conn.execute(
            "select public.store_program_bundle(%s) as id", (Jsonb(document),)
        ).fetchone()
    assert row is not None
    program_id: uuid.UUID = row["id"]
    return program_id


def counts(db: Database, user_id: uuid.UUID) -> dict[str, int]:
    with db.as_service() as conn:
        return {
            table: conn.execute(
                f"select count(*) as n from public.{table} where user_id = %s",  # noqa: S608
                (user_id,),
            ).fetchone()["n"]  # type: ignore[index]
            for table in PLAN_TABLES
        }


def test_a_bundle_is_stored_with_its_calendar(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    bundle = make_bundle(db, user_id)
    program_id = store(db, bundle)

    assert counts(db, user_id) == {
        "programs": 1,
        "session_instances": 6,
        "exercise_plan_items": 12,
        "meal_instances": 42,
        "meal_item_plan": 84,
        "calendar_events": 6 + 42,
    }
    with db.as_service() as conn:
        program = conn.execute(
            "select * from public.programs where id = %s", (program_id,)
        ).fetchone()
        assert program is not None
        assert (program["version"], program["status"], program["supersedes_program_id"]) == (
            1,
            "active",
            None,
        )
        assert program["full_bundle"] == bundle.model_dump(mode="json")
        assert program["macros"]["kcal"] == 2140
        events = conn.execute(
            """
            select ce.date, ce.event_type, ce.title, ce.time_of_day, ce.status,
                coalesce(s.week_index, m.week_index) as week_index,
                coalesce(s.day_index, m.day_index) as day_index
            from public.calendar_events as ce
            left join public.session_instances as s on s.id = ce.ref_id
            left join public.meal_instances as m on m.id = ce.ref_id
            where ce.program_id = %s
            """,
            (program_id,),
        ).fetchall()
        first_exercise = conn.execute(
            """
            select e.* from public.exercise_plan_items as e
            join public.session_instances as s on s.id = e.session_instance_id
            where s.program_id = %s and s.week_index = 1 and s.day_index = 4
            order by e.order_index
            """,
            (program_id,),
        ).fetchall()
    for event in events:
        assert event["date"] == START + dt.timedelta(
            days=7 * event["week_index"] + event["day_index"]
        )
        assert event["status"] == "planned"
    training = sorted(e["date"] for e in events if e["event_type"] == "training")
    assert training[0] == START
    assert training[-1] == dt.date(2026, 12, 18)
    assert {e["title"] for e in events if e["event_type"] == "meal"} == {
        "Breakfast",
        "Lunch",
        "Dinner",
    }
    slots = {e["title"]: e["time_of_day"] for e in events if e["event_type"] == "meal"}
    assert slots == {"Breakfast": "morning", "Lunch": "midday", "Dinner": "evening"}
    assert [e["order_index"] for e in first_exercise] == [0, 1]
    assert first_exercise[0]["target_pct_1rm"] == pytest.approx(72.5)
    assert first_exercise[1]["exercise_id"] is None


def test_an_invalid_item_midway_leaves_no_row_behind(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    document = make_bundle(db, user_id).model_dump(mode="json")

    zero_grams = copy.deepcopy(document)
    zero_grams["meals"][-1]["items"][-1]["grams"] = 0
    with pytest.raises(errors.CheckViolation):
        store(db, zero_grams)
    assert set(counts(db, user_id).values()) == {0}

    unknown_food = copy.deepcopy(document)
    unknown_food["meals"][20]["items"][1]["food_id"] = str(uuid.uuid4())
    with pytest.raises(errors.ForeignKeyViolation):
        store(db, unknown_food)
    assert set(counts(db, user_id).values()) == {0}

    week_outside = copy.deepcopy(document)
    week_outside["sessions"][-1]["week_index"] = 2  # a 2-week program has weeks 0 and 1
    with pytest.raises(errors.CheckViolation):
        store(db, week_outside)
    assert set(counts(db, user_id).values()) == {0}

    # The untouched bundle still stores: the refusals above were the items.
    store(db, document)
    assert counts(db, user_id)["calendar_events"] == 48


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("meals", 3, "items", 1, "grams"), "bundle.meals[3].items[1].grams must be a JSON number"),
        (("sessions", 2, "exercises"), "bundle.sessions[2].exercises must be a JSON array"),
        (("meals", 0, "targets", "kcal"), "bundle.meals[0].targets.kcal must be a JSON number"),
        (("tdee",), "bundle.tdee must be a JSON object"),
    ],
)
def test_a_malformed_bundle_is_refused_naming_the_path(
    db: Database, fresh_db: str, path: tuple[str | int, ...], expected: str
) -> None:
    user_id = new_user(fresh_db)
    document = make_bundle(db, user_id, weeks=1).model_dump(mode="json")
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    with pytest.raises(errors.InvalidParameterValue) as refused:
        store(db, document)
    assert expected in str(refused.value)
    assert set(counts(db, user_id).values()) == {0}


def test_a_second_bundle_supersedes_the_first(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    other_user = new_user(fresh_db)
    first = store(db, make_bundle(db, user_id))
    other = store(db, make_bundle(db, other_user, weeks=1))
    second = store(db, make_bundle(db, user_id, weeks=1))

    with db.as_service() as conn:
        rows = conn.execute(
            "select id, version, status, supersedes_program_id from public.programs "
            "where user_id = %s order by version",
            (user_id,),
        ).fetchall()
        other_status = conn.execute(
            "select status, version from public.programs where id = %s", (other,)
        ).fetchone()
    assert [(r["id"], r["version"], r["status"], r["supersedes_program_id"]) for r in rows] == [
        (first, 1, "superseded", None),
        (second, 2, "active", first),
    ]
    assert other_status == {"status": "active", "version": 1}


def test_a_consultation_stores_one_program(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        row = conn.execute(
            "insert into public.consultation_sessions (user_id) values (%s) returning id",
            (user_id,),
        ).fetchone()
        assert row is not None
        session_id: uuid.UUID = row[0]
    bundle = make_bundle(db, user_id, weeks=1, source_session_id=session_id)
    first = store(db, bundle)
    again = store(db, bundle)
    assert again == first
    assert counts(db, user_id)["programs"] == 1
    assert counts(db, user_id)["calendar_events"] == 3 + 21


def test_clients_cannot_store_nor_write_plans(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    program_id = store(db, make_bundle(db, user_id, weeks=1))
    document = make_bundle(db, user_id, weeks=1).model_dump(mode="json")
    claims = user_claims(user_id)

    with pytest.raises(errors.InsufficientPrivilege), db.as_user(claims) as conn:
        conn.execute("select public.store_program_bundle(%s)", (Jsonb(document),))
    with pytest.raises(errors.InsufficientPrivilege), db.as_anon() as conn:
        conn.execute("select public.store_program_bundle(%s)", (Jsonb(document),))
    writes = [
        ("update public.programs set status = 'archived' where id = %s", (program_id,)),
        ("delete from public.session_instances where program_id = %s", (program_id,)),
        (
            "insert into public.meal_instances (program_id, user_id, week_index, day_index, "
            "meal_type, targets) values (%s, %s, 0, 0, 'lunch', '{}')",
            (program_id, user_id),
        ),
        ("update public.exercise_plan_items set sets = 20 where user_id = %s", (user_id,)),
        ("delete from public.meal_item_plan where user_id = %s", (user_id,)),
        ("update public.calendar_events set status = 'completed' where user_id = %s", (user_id,)),
    ]
    for sql, params in writes:
        with pytest.raises(errors.InsufficientPrivilege), db.as_user(claims) as conn:
            conn.execute(sql, params)
    assert counts(db, user_id) == {
        "programs": 1,
        "session_instances": 3,
        "exercise_plan_items": 6,
        "meal_instances": 21,
        "meal_item_plan": 42,
        "calendar_events": 24,
    }


def test_service_updates_only_the_lifecycle_columns(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    program_id = store(db, make_bundle(db, user_id, weeks=1))
    for assignment in (
        "primary_goal = 'muscle_gain'",
        "macros = '{}'",
        "full_bundle = '{}'",
        "program_start_date = program_start_date + 1",
    ):
        with pytest.raises(errors.CheckViolation), db.as_service() as conn:
            conn.execute(
                f"update public.programs set {assignment} where id = %s",  # noqa: S608
                (program_id,),
            )
    with db.as_service() as conn:
        conn.execute(
            "update public.programs set status = 'archived', "
            "next_reassessment_date = next_reassessment_date + 7 where id = %s",
            (program_id,),
        )
        row = conn.execute(
            "select status, next_reassessment_date, primary_goal from public.programs "
            "where id = %s",
            (program_id,),
        ).fetchone()
    assert row == {
        "status": "archived",
        "next_reassessment_date": START + dt.timedelta(days=21),
        "primary_goal": "fat_loss",
    }


def test_a_user_reads_only_their_own_program_through_the_views(db: Database, fresh_db: str) -> None:
    ann = new_user(fresh_db)
    bob = new_user(fresh_db)
    ann_program = store(db, make_bundle(db, ann))
    bob_program = store(db, make_bundle(db, bob, training_days=(1, 3)))

    day = START + dt.timedelta(days=7 + 2)  # week 1, day 2: ann trains, bob does not
    with db.as_user(user_claims(ann)) as conn:
        ann_day = conn.execute(
            "select * from public.calendar_day where date = %s order by event_type, meal_time",
            (day,),
        ).fetchall()
        ann_summary = conn.execute("select * from public.program_summary").fetchall()
        ann_all = conn.execute("select distinct program_id from public.calendar_day").fetchall()
    with db.as_user(user_claims(bob)) as conn:
        bob_day = conn.execute(
            "select * from public.calendar_day where date = %s", (day,)
        ).fetchall()
        bob_summary = conn.execute("select * from public.program_summary").fetchall()
    with db.as_anon() as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select * from public.calendar_day")

    assert [r["program_id"] for r in ann_all] == [ann_program]
    assert [(r["event_type"], r["title"]) for r in ann_day] == [
        ("meal", "Breakfast"),
        ("meal", "Lunch"),
        ("meal", "Dinner"),
        ("training", "Full body W2D2"),
    ]
    training = ann_day[-1]
    assert training["items"] is None
    assert training["session_kind"] == "strength"
    assert [e["order_index"] for e in training["exercises"]] == [0, 1]
    assert training["exercises"][0]["reps_max"] == 12
    breakfast = ann_day[0]
    assert breakfast["exercises"] is None
    assert breakfast["targets"] == {"kcal": 700, "protein_g": 50, "carbs_g": 70, "fat_g": 20}
    assert breakfast["totals"]["kcal"] == 690
    assert breakfast["meal_time"] == dt.time(7, 30)
    assert len(breakfast["items"]) == 2
    assert breakfast["items"][0]["grams"] == 150

    assert len(ann_summary) == 1
    summary = ann_summary[0]
    assert summary["program_id"] == ann_program
    assert summary["version"] == 1
    assert summary["program_end_date"] == START + dt.timedelta(days=13)
    assert summary["macros"]["kcal"] == 2140
    assert [(s["day_index"], s["weekday"]) for s in summary["weekly_schedule"]] == [
        (0, "Monday"),
        (2, "Wednesday"),
        (4, "Friday"),
    ]
    assert [m["meal_type"] for m in summary["daily_meals"]] == list(MEAL_TYPES)

    assert [r["user_id"] for r in bob_day] == [bob, bob, bob]
    assert [r["event_type"] for r in bob_day] == ["meal"] * 3
    assert [(r["program_id"], r["user_id"]) for r in bob_summary] == [(bob_program, bob)]


def test_the_views_show_only_the_active_program(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    store(db, make_bundle(db, user_id))
    second = store(db, make_bundle(db, user_id, weeks=1, training_days=(5,)))
    with db.as_user(user_claims(user_id)) as conn:
        programs = conn.execute("select distinct program_id from public.calendar_day").fetchall()
        training = conn.execute(
            "select date from public.calendar_day where event_type = 'training'"
        ).fetchall()
        summary = conn.execute("select program_id, version from public.program_summary").fetchall()
    assert [r["program_id"] for r in programs] == [second]
    assert [r["date"] for r in training] == [START + dt.timedelta(days=5)]
    assert summary == [{"program_id": second, "version": 2}]


def test_concurrent_stores_serialize_per_user(db: Database, fresh_db: str) -> None:
    user_id = new_user(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        row = conn.execute(
            "insert into public.consultation_sessions (user_id) values (%s) returning id",
            (user_id,),
        ).fetchone()
        assert row is not None
        session_id: uuid.UUID = row[0]
    plain = make_bundle(db, user_id, weeks=1)
    consultation = make_bundle(db, user_id, weeks=1, source_session_id=session_id)
    jobs = [plain, plain, consultation, consultation]
    barrier = threading.Barrier(len(jobs), timeout=30)
    results: list[uuid.UUID] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(bundle: ProgramBundle) -> None:
        try:
            barrier.wait()
            program_id = store(db, bundle)
            with lock:
                results.append(program_id)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(results) == 4
    assert len(set(results)) == 3  # the two consultation calls share one program
    with db.as_service() as service:
        rows = service.execute(
            "select version, status from public.programs where user_id = %s order by version",
            (user_id,),
        ).fetchall()
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert [r["status"] for r in rows].count("active") == 1
    assert rows[-1]["status"] == "active"
