"""Logging (issue 6, items 1-3): totals by trigger, MET calories, logging RPCs, idempotency.

Every client-facing write runs as the real ``authenticated`` role with claims (PostgREST's prelude).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from harness import PostgrestSession, connect, wait_event_while_blocked

pytestmark = pytest.mark.integration

EGG = "01123"  # USDA SR28 "Egg, whole, raw, fresh": 143 kcal, 12.56 P, 0.72 C, 9.51 F per 100 g
OATS = "08120"  # USDA SR28 oats, dry: 379 kcal, 13.15 P, 67.70 C, 6.52 F per 100 g
START = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)


def _food(pg: PostgrestSession, source_id: str) -> uuid.UUID:
    row = pg.conn.execute(
        "select id from public.foods where source_id = %s", (source_id,)
    ).fetchone()
    assert row is not None
    food_id: uuid.UUID = row["id"]
    return food_id


def _meal(conn: psycopg.Connection[Any], user: uuid.UUID, **fields: object) -> dict[str, Any]:
    values = {"user_id": user, "meal_type": "breakfast", "logged_at": START, **fields}
    names = ", ".join(values)
    params = ", ".join(f"%({name})s" for name in values)
    row = conn.execute(
        f"insert into public.meals ({names}) values ({params}) returning *",  # noqa: S608
        values,
    ).fetchone()
    assert row is not None
    return dict(row)


def _item(conn: psycopg.Connection[Any], **fields: object) -> dict[str, Any]:
    names = ", ".join(fields)
    params = ", ".join(f"%({name})s" for name in fields)
    row = conn.execute(
        f"insert into public.meal_items ({names}) values ({params}) returning *",  # noqa: S608
        fields,
    ).fetchone()
    assert row is not None
    return dict(row)


def _totals(pg: PostgrestSession, meal_id: uuid.UUID) -> tuple[Decimal, ...]:
    row = pg.conn.execute(
        "select total_kcal, total_protein_g, total_carbs_g, total_fat_g from public.meals"
        " where id = %s",
        (meal_id,),
    ).fetchone()
    assert row is not None
    return tuple(row.values())


def _dec(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


def _custom_food(
    pg: PostgrestSession,
    owner: uuid.UUID,
    name: str = "Protein bar",
    per_100g: tuple[float, float, float, float] = (400, 20, 50, 10),
) -> uuid.UUID:
    """A custom food of ``owner``'s with (kcal, protein, carbs, fat) per 100 g."""
    with pg.as_user(owner) as conn:
        row = conn.execute(
            "insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g,"
            " carbs_g_per_100g, fat_g_per_100g) values (%s, %s, %s, %s, %s, %s) returning id",
            (owner, name, *per_100g),
        ).fetchone()
    assert row is not None
    food_id: uuid.UUID = row["id"]
    return food_id


# ---------------------------------------------------------------- totals


def test_item_nutrients_come_from_the_food(pg: PostgrestSession) -> None:
    user = pg.signup()
    egg = _food(pg, EGG)
    with pg.as_user(user) as conn:
        meal = _meal(conn, user)
        item = _item(conn, meal_id=meal["id"], user_id=user, food_id=egg, grams=150)
    assert meal["total_kcal"] == 0
    assert (item["kcal"], item["protein_g"], item["carbs_g"], item["fat_g"]) == _dec(
        "214.5", "18.8", "1.1", "14.3"
    )
    assert _totals(pg, meal["id"]) == _dec("214.5", "18.8", "1.1", "14.3")


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("meals", "total_kcal"),
        ("meals", "total_fat_g"),
        ("meal_items", "kcal"),
        ("meal_items", "protein_g"),
    ],
)
def test_clients_cannot_write_computed_nutrients(
    pg: PostgrestSession, table: str, column: str
) -> None:
    """Totals and nutrients come from the foods tables: a client that sends them is refused (403),
    on insert and on update, rather than silently corrected."""
    user = pg.signup()
    egg = _food(pg, EGG)
    with pg.as_user(user) as conn:
        meal = _meal(conn, user)
        item = _item(conn, meal_id=meal["id"], user_id=user, food_id=egg, grams=150)
    row = {
        "meals": {"user_id": user, "meal_type": "lunch", column: 1},
        "meal_items": {
            "meal_id": meal["id"],
            "user_id": user,
            "food_id": egg,
            "grams": 10,
            column: 1,
        },
    }[table]
    columns, params = ", ".join(row), ", ".join(["%s"] * len(row))
    insert = f"insert into public.{table} ({columns}) values ({params})"  # noqa: S608
    target = {"meals": meal["id"], "meal_items": item["id"]}[table]
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute(insert, tuple(row.values()))
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute(f"update public.{table} set {column} = 1 where id = %s", (target,))  # noqa: S608
    assert _totals(pg, meal["id"]) == _dec("214.5", "18.8", "1.1", "14.3")


def test_meal_totals_follow_inserts_updates_deletes_and_moves(pg: PostgrestSession) -> None:
    user = pg.signup()
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    with pg.as_user(user) as conn:
        meal = _meal(conn, user)
        other = _meal(conn, user, meal_type="lunch")
        egg_item = _item(conn, meal_id=meal["id"], user_id=user, food_id=egg, grams=150)
        oats_item = _item(conn, meal_id=meal["id"], user_id=user, food_id=oats, grams=50)
    # 150 g egg + 50 g oats (189.5 kcal, 6.6 P, 33.9 C, 3.3 F)
    assert _totals(pg, meal["id"]) == _dec("404.0", "25.4", "35.0", "17.6")
    with pg.as_user(user) as conn:
        conn.execute("update public.meal_items set grams = 100 where id = %s", (oats_item["id"],))
    assert _totals(pg, meal["id"]) == _dec("593.5", "32.0", "68.8", "20.8")
    with pg.as_user(user) as conn:
        conn.execute(
            "update public.meal_items set meal_id = %s where id = %s",
            (other["id"], egg_item["id"]),
        )
    assert _totals(pg, meal["id"]) == _dec("379.0", "13.2", "67.7", "6.5")
    assert _totals(pg, other["id"]) == _dec("214.5", "18.8", "1.1", "14.3")
    with pg.as_user(user) as conn:
        conn.execute("delete from public.meal_items where id = %s", (oats_item["id"],))
    assert _totals(pg, meal["id"]) == _dec("0", "0", "0", "0")


def test_items_added_to_one_meal_at_once_are_all_counted(fresh_db: str) -> None:
    # Committed data on a database of its own: two clients add an item each to the same meal at
    # the same time. The second totals refresh waits for the first to commit, then sums both.
    with connect(fresh_db) as setup:
        pg = PostgrestSession(setup)
        user = pg.signup()
        egg, oats = _food(pg, EGG), _food(pg, OATS)
        with pg.as_user(user) as conn:
            meal = _meal(conn, user)
        setup.commit()
    with connect(fresh_db) as first, connect(fresh_db) as second, connect(fresh_db) as monitor:
        monitor.autocommit = True
        first.execute("select 1")  # an open transaction, so the egg stays uncommitted
        with PostgrestSession(first).as_user(user) as conn:
            _item(conn, meal_id=meal["id"], user_id=user, food_id=egg, grams=150)

        def add_oats() -> None:
            with PostgrestSession(second).as_user(user) as conn:
                _item(conn, meal_id=meal["id"], user_id=user, food_id=oats, grams=50)

        waiting = wait_event_while_blocked(second, add_oats, first.commit, monitor)
        second.commit()
        assert waiting == "transactionid"
    with connect(fresh_db) as check:
        # 150 g egg + 50 g oats, as in test_meal_totals_follow_inserts_updates_deletes_and_moves.
        assert _totals(PostgrestSession(check), meal["id"]) == _dec("404.0", "25.4", "35.0", "17.6")


def test_editing_a_meal_keeps_its_totals(pg: PostgrestSession) -> None:
    user = pg.signup()
    egg = _food(pg, EGG)
    with pg.as_user(user) as conn:
        meal = _meal(conn, user)
        _item(conn, meal_id=meal["id"], user_id=user, food_id=egg, grams=150)
        conn.execute(
            "update public.meals set notes = 'x', meal_type = 'lunch' where id = %s", (meal["id"],)
        )
    assert _totals(pg, meal["id"]) == _dec("214.5", "18.8", "1.1", "14.3")


def test_custom_food_totals_and_another_users_custom_food_refused(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    bobs_food = _custom_food(pg, bob)
    food = _custom_food(pg, alice, "Shake", (120, 24, 3, 1.5))
    with pg.as_user(alice) as conn:
        meal = _meal(conn, alice)
        _item(conn, meal_id=meal["id"], user_id=alice, custom_food_id=food, grams=250)
    assert _totals(pg, meal["id"]) == _dec("300.0", "60.0", "7.5", "3.8")
    with pytest.raises(errors.ForeignKeyViolation), pg.as_user(alice) as conn:
        _item(conn, meal_id=meal["id"], user_id=alice, custom_food_id=bobs_food, grams=10)


# ---------------------------------------------------------------- MET calories


def _activity(conn: psycopg.Connection[Any], user: uuid.UUID, **fields: object) -> dict[str, Any]:
    values = {
        "user_id": user,
        "category": "cardio_steady",
        "name": "Run",
        "start_time": START,
        "duration_minutes": 30,
        **fields,
    }
    names = ", ".join(values)
    params = ", ".join(f"%({name})s" for name in values)
    row = conn.execute(
        f"insert into public.activities ({names}) values ({params}) returning *",  # noqa: S608
        values,
    ).fetchone()
    assert row is not None
    return dict(row)


def _weigh(conn: psycopg.Connection[Any], user: uuid.UUID, kg: float, at: dt.datetime) -> None:
    conn.execute(
        "insert into public.body_metrics (user_id, measured_at, weight_kg) values (%s, %s, %s)",
        (user, at, kg),
    )


def test_met_calories_running_8_met_70_kg_30_min_is_280(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        _weigh(conn, user, 70, START - dt.timedelta(days=1))
        run = _activity(conn, user, intensity_mets=8.0)
        given = _activity(conn, user, intensity_mets=8.0, calories_burned=123, name="Given")
    assert run["calories_burned"] == Decimal("280.0")
    assert given["calories_burned"] == Decimal("123.0")


def test_met_calories_category_default_and_latest_weight_before_start(
    pg: PostgrestSession,
) -> None:
    user = pg.signup()
    default_met = pg.conn.execute(
        "select v.met from public.activity_category_mets as c"
        " join public.met_values as v on v.id = c.met_value_id"
        " where c.category = 'strength' and c.is_default"
    ).fetchone()
    assert default_met is not None
    with pg.as_user(user) as conn:
        conn.execute("update public.profiles set weight_kg = 90 where id = %s", (user,))
        no_log = _activity(conn, user, category="strength", duration_minutes=60)
        _weigh(conn, user, 80, START - dt.timedelta(days=10))
        _weigh(conn, user, 75, START - dt.timedelta(days=2))
        _weigh(conn, user, 60, START + dt.timedelta(days=1))  # after the activity: not used
        lift = _activity(conn, user, category="strength", duration_minutes=60, name="Lift")
    met = default_met["met"]
    assert no_log["calories_burned"] == round(met * 90, 1)
    assert lift["calories_burned"] == round(met * 75, 1)


def test_met_calories_stay_null_without_weight_and_recompute_on_null(
    pg: PostgrestSession,
) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        run = _activity(conn, user, intensity_mets=8.0)
        assert run["calories_burned"] is None
        _weigh(conn, user, 70, START - dt.timedelta(hours=1))
        row = conn.execute(
            "update public.activities set duration_minutes = 60, calories_burned = null"
            " where id = %s returning calories_burned",
            (run["id"],),
        ).fetchone()
    assert row is not None
    assert row["calories_burned"] == Decimal("560.0")


# ---------------------------------------------------------------- RPCs


def _template(pg: PostgrestSession, user: uuid.UUID) -> uuid.UUID:
    data = {
        "name": "Push day",
        "duration_minutes": 45,
        "intensity_mets": 5.0,
        "metrics": {"exercises": 2},
        "sets": [
            {"exercise_name": "Bench press", "reps": 8, "weight_kg": 60},
            {"exercise_name": "Bench press", "reps": 8, "weight_kg": 60},
            {"exercise_name": "Dips", "reps": 12},
        ],
    }
    with pg.as_user(user) as conn:
        row = conn.execute(
            "insert into public.activity_templates"
            " (user_id, template_name, category, template_data)"
            " values (%s, 'Push', 'strength', %s) returning id",
            (user, Jsonb(data)),
        ).fetchone()
    assert row is not None
    template_id: uuid.UUID = row["id"]
    return template_id


def test_log_activity_from_template_copies_fields_and_sets_idempotently(
    pg: PostgrestSession,
) -> None:
    user = pg.signup()
    template = _template(pg, user)
    call = "select * from public.log_activity_from_template(%s, %s, %s)"
    with pg.as_user(user) as conn:
        _weigh(conn, user, 80, START - dt.timedelta(days=1))
        first = conn.execute(call, (template, START, "tpl-1")).fetchone()
        retry = conn.execute(call, (template, START, "tpl-1")).fetchone()
        sets = conn.execute(
            "select exercise_name, set_number, reps, weight_kg from public.exercise_sets"
            " order by exercise_name, set_number"
        ).fetchall()
        count = conn.execute("select count(*) as n from public.activities").fetchone()
    assert first is not None
    assert retry is not None
    assert retry["id"] == first["id"]
    assert count == {"n": 1}
    assert (first["name"], first["category"], first["source"]) == (
        "Push day",
        "strength",
        "template",
    )
    assert (first["duration_minutes"], first["metrics"]) == (45, {"exercises": 2})
    assert first["calories_burned"] == Decimal("300.0")  # 5.0 MET x 80 kg x 0.75 h
    assert [(s["exercise_name"], s["set_number"], s["reps"]) for s in sets] == [
        ("Bench press", 1, 8),
        ("Bench press", 2, 8),
        ("Dips", 1, 12),
    ]


def test_another_users_template_is_not_found(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    template = _template(pg, bob)
    with pytest.raises(psycopg.DatabaseError) as refused, pg.as_user(alice) as conn:
        conn.execute("select public.log_activity_from_template(%s)", (template,))
    assert refused.value.sqlstate == "PT404"


def _quick_meal(pg: PostgrestSession, user: uuid.UUID, components: list[dict[str, Any]]) -> Any:
    with pg.as_user(user) as conn:
        row = conn.execute(
            "insert into public.quick_meals (user_id, meal_name, components, total_kcal)"
            " values (%s, 'Egg oats', %s, 1) returning id",
            (user, Jsonb(components)),
        ).fetchone()
    assert row is not None
    return row["id"]


def test_log_quick_meal_builds_items_and_totals_idempotently(pg: PostgrestSession) -> None:
    user = pg.signup()
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    quick = _quick_meal(
        pg,
        user,
        [
            {"food_id": str(egg), "grams": 150},
            {
                "food_id": str(oats),
                "grams": 50,
                "serving_quantity": 1,
                "serving_description": "bowl",
            },
        ],
    )
    call = "select * from public.log_quick_meal(%s, %s, %s, %s)"
    with pg.as_user(user) as conn:
        meal = conn.execute(call, (quick, START, "breakfast", "qm-1")).fetchone()
        again = conn.execute(call, (quick, START, "breakfast", "qm-1")).fetchone()
        items = conn.execute("select count(*) as n from public.meal_items").fetchone()
        meals = conn.execute("select count(*) as n from public.meals").fetchone()
    assert meal is not None
    assert again is not None
    assert again["id"] == meal["id"]
    assert (meals, items) == ({"n": 1}, {"n": 2})
    assert (meal["meal_type"], meal["logged_at"]) == ("breakfast", START)
    assert (meal["total_kcal"], meal["total_protein_g"]) == _dec("404.0", "25.4")


def test_another_users_quick_meal_or_custom_food_is_refused(pg: PostgrestSession) -> None:
    alice, bob = pg.signup(), pg.signup()
    food = _custom_food(pg, bob)
    bobs_quick = _quick_meal(pg, bob, [{"food_id": str(_food(pg, EGG)), "grams": 100}])
    sneaky = _quick_meal(pg, alice, [{"custom_food_id": str(food), "grams": 100}])
    for quick in (bobs_quick, sneaky):
        with pytest.raises(psycopg.DatabaseError) as refused, pg.as_user(alice) as conn:
            conn.execute("select public.log_quick_meal(%s)", (quick,))
        assert refused.value.sqlstate == "PT404"


LOG_MEAL = "select * from public.log_meal(%s, %s, %s, %s, %s)"


def test_log_meal_logs_a_meal_with_its_items_in_one_call_idempotently(
    pg: PostgrestSession,
) -> None:
    user = pg.signup()
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    items = [
        {"food_id": str(egg), "grams": 150, "kcal": 9999},  # client nutrients are ignored
        {"food_id": str(oats), "grams": 50, "serving_quantity": 1, "serving_description": "bowl"},
    ]
    args = ("breakfast", Jsonb(items), START, "after the run", "lm-1")
    with pg.as_user(user) as conn:
        meal = conn.execute(LOG_MEAL, args).fetchone()
        again = conn.execute(LOG_MEAL, ("lunch", Jsonb(items[:1]), None, None, "lm-1")).fetchone()
        rows = conn.execute(
            "select food_id, grams, serving_description, kcal from public.meal_items"
            " order by grams desc"
        ).fetchall()
        meals = conn.execute("select count(*) as n from public.meals").fetchone()
    assert meal is not None
    assert again == meal  # the retry returns the meal as first logged
    assert meals == {"n": 1}
    assert (meal["user_id"], meal["meal_type"], meal["logged_at"], meal["notes"]) == (
        user,
        "breakfast",
        START,
        "after the run",
    )
    # 150 g egg + 50 g oats, as through POST /meals + POST /meal_items.
    assert tuple(meal[k] for k in ("total_kcal", "total_protein_g", "total_carbs_g")) == _dec(
        "404.0", "25.4", "35.0"
    )
    assert [(r["food_id"], r["grams"], r["serving_description"]) for r in rows] == [
        (egg, Decimal("150.00"), None),
        (oats, Decimal("50.00"), "bowl"),
    ]
    assert rows[0]["kcal"] == Decimal("214.5")


@pytest.mark.parametrize(
    ("items", "sqlstate"),
    [
        ([], "22023"),  # nothing to log
        ({"food_id": "x"}, "22023"),  # not an array
        (None, "22023"),
        ([1, 2], "22023"),  # not objects
        ([{"grams": 100}], "23514"),  # no food
        ([{"food_id": "EGG", "grams": 0}], "23514"),  # grams out of range
        ([{"food_id": "EGG", "grams": "lots"}], "22P02"),
        ([{"food_id": str(uuid.UUID(int=1)), "grams": 100}], "23503"),  # unknown food
        ([{"food_id": "EGG", "grams": 100}, {"custom_food_id": "BOB", "grams": 10}], "23503"),
    ],
    ids=[
        "empty",
        "object",
        "null",
        "not-objects",
        "no-food",
        "zero-grams",
        "grams-text",
        "unknown-food",
        "another-users-custom-food",
    ],
)
def test_log_meal_logs_nothing_when_an_item_is_refused(
    pg: PostgrestSession, items: Any, sqlstate: str
) -> None:
    alice, bob = pg.signup(), pg.signup()
    ids = {"EGG": str(_food(pg, EGG)), "BOB": str(_custom_food(pg, bob))}
    if isinstance(items, list):
        items = [
            {k: ids.get(v, v) for k, v in item.items()} if isinstance(item, dict) else item
            for item in items
        ]
    with pytest.raises(psycopg.DatabaseError) as refused, pg.as_user(alice) as conn:
        conn.execute(LOG_MEAL, ("lunch", Jsonb(items), START, None, "lm-2"))
    assert refused.value.sqlstate == sqlstate
    with pg.as_user(alice) as conn:
        assert conn.execute("select count(*) as n from public.meals").fetchone() == {"n": 0}


def test_copy_meals_copies_items_and_times_once(pg: PostgrestSession) -> None:
    user = pg.signup()
    egg, oats = _food(pg, EGG), _food(pg, OATS)
    # 07:30 and 23:30 in Berlin on 2026-11-20 (23:30 Berlin is 22:30 UTC, same local day).
    tz = "Europe/Berlin"
    breakfast_at = dt.datetime(2026, 11, 20, 6, 30, tzinfo=dt.UTC)
    late_at = dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC)
    with pg.as_user(user) as conn:
        breakfast = _meal(conn, user, logged_at=breakfast_at)
        _item(conn, meal_id=breakfast["id"], user_id=user, food_id=egg, grams=150)
        _item(conn, meal_id=breakfast["id"], user_id=user, food_id=oats, grams=50)
        _meal(conn, user, logged_at=late_at, meal_type="evening_snack")
        _meal(conn, user, logged_at=late_at + dt.timedelta(hours=2))  # next local day
        call = "select * from public.copy_meals(%s, %s, %s) order by logged_at"
        copies = conn.execute(call, (dt.date(2026, 11, 20), dt.date(2026, 11, 22), tz)).fetchall()
        again = conn.execute(call, (dt.date(2026, 11, 20), dt.date(2026, 11, 22), tz)).fetchall()
        meals = conn.execute("select count(*) as n from public.meals").fetchone()
    assert [c["id"] for c in again] == [c["id"] for c in copies]
    assert meals == {"n": 5}
    assert [c["logged_at"] for c in copies] == [
        breakfast_at + dt.timedelta(days=2),
        late_at + dt.timedelta(days=2),
    ]
    assert copies[0]["client_id"] == f"copy:{breakfast['id']}:2026-11-22"
    assert (copies[0]["total_kcal"], copies[0]["total_fat_g"]) == _dec("404.0", "17.6")
    assert copies[1]["meal_type"] == "evening_snack"


def test_direct_insert_with_duplicate_client_id_conflicts(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pg.as_user(user) as conn:
        _meal(conn, user, client_id="m-1")
        ignored = conn.execute(
            "insert into public.meals (user_id, meal_type, client_id) values (%s, 'lunch', 'm-1')"
            " on conflict (user_id, client_id) do nothing returning id",
            (user,),
        ).fetchall()
    assert ignored == []
    with pytest.raises(errors.UniqueViolation), pg.as_user(user) as conn:
        _meal(conn, user, client_id="m-1")


def test_anon_cannot_call_the_logging_rpcs(pg: PostgrestSession) -> None:
    calls = [
        ("select public.log_activity_from_template(%s)", (uuid.uuid4(),)),
        ("select public.log_quick_meal(%s)", (uuid.uuid4(),)),
        ("select public.log_meal(%s, %s)", ("lunch", Jsonb([]))),
        ("select * from public.copy_meals(%s, %s)", (dt.date(2026, 1, 1), dt.date(2026, 1, 2))),
    ]
    for sql, params in calls:
        with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
            conn.execute(sql, params)


@pytest.mark.parametrize(
    ("to_date", "time_zone"),
    [(dt.date(2026, 11, 20), "UTC"), (dt.date(2026, 11, 21), "Mars/Olympus")],
)
def test_copy_meals_rejects_same_day_and_unknown_time_zone(
    pg: PostgrestSession, to_date: dt.date, time_zone: str
) -> None:
    user = pg.signup()
    with pytest.raises(errors.InvalidParameterValue), pg.as_user(user) as conn:
        conn.execute(
            "select * from public.copy_meals(%s, %s, %s)",
            (dt.date(2026, 11, 20), to_date, time_zone),
        )
