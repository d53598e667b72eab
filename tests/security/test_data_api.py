"""The Data API path (PostgREST, emulated by the harness as the real ``authenticated`` role with
the request's JWT claims): SQL injection in every text column a client may insert and in every
text argument of every RPC a client may call; what the client roles cannot reach; another
user's rows through every RPC that takes an id.

Two users are seeded by every domain's fixture (``tests.seed_<domain>``) in one transaction;
each case runs in a savepoint that is rolled back. Every case ends with the victim's rows
hashed exactly as before; the catalog (tables, columns, functions, policies, grants, roles)
is compared once for the module.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import DictRow

from harness import PostgrestSession, connect, seed_every_table
from security.support import (
    CATALOG_QUERIES,
    NUL_PAYLOADS,
    SQL_PAYLOADS,
    diff,
    victim_fingerprint,
)

pytestmark = pytest.mark.integration

# What a refusal may be: data exceptions (22), constraint violations (23), a plain or an
# HTTP-coded raise (P0001, PTnnn), 42501 (RLS / privileges). Never a syntax error (42601),
# an unknown object (42P01, 42883, 42703) or an internal error: those mean the text was
# executed as SQL, or the function broke on it.
ACCEPTABLE_SQLSTATE_PREFIXES = ("22", "23", "P0001", "PT4", "42501")

# The RPCs with text arguments a signed-in user may call, by (function, argument). A new one
# fails test_every_client_rpc_text_argument_is_covered until it is listed here.
RPC_TEXT_ARGUMENTS: dict[str, list[str]] = {
    "copy_meals": ["time_zone"],
    "log_activity_from_template": ["client_id"],
    "log_meal": ["client_id", "meal_type", "notes"],
    "log_quick_meal": ["meal_type", "client_id"],
    "redeem_consultation_key": ["key_code"],
    "refresh_consultation_progress": ["engine", "model"],
    "search_exercises": ["query"],
    "search_foods": ["query"],
    "set_adherence": ["status"],
}

# A few payloads per table column keep the matrix fast; every payload runs on the RPCs.
COLUMN_PAYLOADS = ["drop-table", "dollar-quote", "nul-byte", "unicode-homoglyph"]


@dataclass
class World:
    pg: PostgrestSession
    attacker: uuid.UUID
    victim: uuid.UUID
    samples: dict[str, dict[str, Any]]
    baseline: dict[str, Any]
    catalog: dict[str, Any]


def _catalog(conn: psycopg.Connection[DictRow]) -> dict[str, Any]:
    return {name: conn.execute(query).fetchone() for name, query in CATALOG_QUERIES.items()}


@pytest.fixture(scope="module")
def world(shared_db: str) -> Iterator[World]:
    with connect(shared_db) as conn:
        conn.autocommit = False
        try:
            pg = PostgrestSession(conn)
            attacker, victim = pg.signup(), pg.signup()
            samples = seed_every_table(conn, victim, attacker)  # the attacker's samples
            world = World(
                pg, attacker, victim, samples, victim_fingerprint(conn, victim), _catalog(conn)
            )
            yield world
            assert _catalog(conn) == world.catalog
        finally:
            conn.rollback()


@pytest.fixture
def case(world: World, request: pytest.FixtureRequest) -> Iterator[World]:
    """One attack in a savepoint; afterwards the victim's rows are unchanged, and so is the
    catalog (checked on every RPC case and on the DDL-shaped payloads of the column cases)."""
    with world.pg.conn.transaction(force_rollback=True):
        yield world
        assert diff(world.baseline, victim_fingerprint(world.pg.conn, world.victim)) == {}
        name = request.node.name
        if "rpc_text_argument" in name or "drop" in name or "dollar" in name:
            assert _catalog(world.pg.conn) == world.catalog


def attempt(
    case: World, action: Callable[[psycopg.Connection[DictRow]], Any]
) -> tuple[Any, psycopg.Error | None]:
    """``action`` as the attacker: (its result, None), or (None, the database error)."""
    try:
        with case.pg.as_user(case.attacker) as conn:
            return action(conn), None
    except psycopg.Error as exc:
        return None, exc


def _outcome(exc: psycopg.Error) -> None:
    sqlstate = exc.sqlstate or ""
    assert sqlstate.startswith(ACCEPTABLE_SQLSTATE_PREFIXES), (sqlstate, str(exc))


# -- text columns ---------------------------------------------------------------------------


def _insertable_text_columns(shared_db: str) -> list[tuple[str, str]]:
    with connect(shared_db) as conn:
        rows = conn.execute(
            """
            select c.table_name, c.column_name
            from information_schema.columns c
            join pg_class t on t.relname = c.table_name
                and t.relnamespace = 'public'::regnamespace and t.relkind = 'r'
            where c.table_schema = 'public' and c.data_type in ('text', 'character varying')
              and has_column_privilege('authenticated', t.oid, c.column_name, 'INSERT')
            order by 1, 2
            """
        ).fetchall()
    return [(row["table_name"], row["column_name"]) for row in rows]


# The text columns a client may insert (checked against the catalog by
# test_every_insertable_text_column_is_covered, so the matrix cannot go stale).
KNOWN_TEXT_COLUMNS = [
    "activities.category",
    "activities.client_id",
    "activities.name",
    "activities.notes",
    "activities.source",
    "activity_templates.category",
    "activity_templates.template_name",
    "adjustment_preferences.domain",
    "adjustment_preferences.mode",
    "adjustment_preferences.trigger",
    "body_metrics.notes",
    "body_metrics.source",
    "coach_conversations.title",
    "coach_messages.content",
    "coach_messages.role",
    "consultation_messages.content",
    "consultation_messages.role",
    "custom_foods.brand",
    "custom_foods.name",
    "exercise_sets.exercise_id",
    "exercise_sets.exercise_name",
    "meal_items.serving_description",
    "meals.client_id",
    "meals.meal_type",
    "meals.notes",
    "quick_meals.meal_name",
    "user_context_log.injury_notes",
    "user_difficulties.category",
    "user_difficulties.description",
    "user_familiar_exercises.exercise_id",
    "user_familiar_exercises.frequency",
    "user_improvement_goals.exercise_id",
    "user_improvement_goals.goal_type",
    "user_improvement_goals.metric",
    "user_improvement_goals.target_description",
    "user_non_negotiables.constraint_type",
    "user_non_negotiables.description",
    "user_preferred_meal_times.meal_time_id",
    "user_preferred_meal_times.portion_size",
    "user_training_availability.location_type",
    "user_training_availability.time_of_day",
    "user_training_modalities.modality_id",
    "user_training_modalities.proficiency_level",
    "user_typical_meal_foods.frequency",
    "user_typical_meal_foods.meal_time_id",
    "user_upcoming_events.event_name",
    "user_upcoming_events.event_type_id",
]


def test_every_insertable_text_column_is_covered(shared_db: str) -> None:
    found = [f"{table}.{column}" for table, column in _insertable_text_columns(shared_db)]
    assert found == KNOWN_TEXT_COLUMNS


COLUMN_CASES = [(column, payload) for column in KNOWN_TEXT_COLUMNS for payload in COLUMN_PAYLOADS]


@pytest.mark.parametrize(
    ("text_column", "payload"), COLUMN_CASES, ids=[f"{c}-{p}" for c, p in COLUMN_CASES]
)
def test_sql_in_a_text_column_is_stored_as_data_or_refused(
    case: World, text_column: str, payload: str
) -> None:
    table, column = text_column.split(".")
    text = SQL_PAYLOADS[payload]
    sample = dict(case.samples[table])
    sample[column] = text
    # PostgREST's insert: the JSON body becomes a record of the table's type.
    columns = sql.SQL(", ").join(sql.Identifier(key) for key in sample)
    statement = sql.SQL(
        "insert into public.{table} ({columns}) select {columns} "
        "from json_populate_record(null::public.{table}, %s::json) returning {column}"
    ).format(table=sql.Identifier(table), columns=columns, column=sql.Identifier(column))
    body = json.dumps(sample)
    row, error = attempt(case, lambda conn: conn.execute(statement, (body,)).fetchone())
    if error is not None:
        _outcome(error)
        assert payload in NUL_PAYLOADS or error.sqlstate != "22P05"
        return
    assert payload not in NUL_PAYLOADS, "PostgreSQL text cannot hold NUL: it must be refused"
    assert row is not None
    assert row[column] == text


# -- RPC text arguments ---------------------------------------------------------------------


def test_every_client_rpc_text_argument_is_covered(shared_db: str) -> None:
    with connect(shared_db) as conn:
        rows = conn.execute(
            """
            select p.proname, a.name
            from pg_proc p
            cross join lateral unnest(p.proargnames, p.proargtypes::oid[]) as a(name, type)
            where p.pronamespace = 'public'::regnamespace
              and has_function_privilege('authenticated', p.oid, 'EXECUTE')
              and a.type in ('text'::regtype, 'varchar'::regtype)
            order by 1, 2
            """
        ).fetchall()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["proname"], []).append(row["name"])
    assert found == {name: sorted(args) for name, args in RPC_TEXT_ARGUMENTS.items()}


def _rpc_arguments(case: World, function: str) -> dict[str, Any]:
    """Valid arguments of the attacker's own for ``function`` (the payload replaces one)."""

    def first(query: str) -> Any:
        with case.pg.as_user(case.attacker) as acting:
            row = acting.execute(query).fetchone()
        assert row is not None, query
        return str(next(iter(row.values())))

    today = dt.date.today()
    arguments: dict[str, dict[str, Any]] = {
        "copy_meals": {
            "from_date": str(today - dt.timedelta(days=1)),
            "to_date": str(today),
            "time_zone": "UTC",
        },
        "log_activity_from_template": {"client_id": "c1"},
        "log_meal": {"meal_type": "snack", "notes": "n", "client_id": "c3"},
        "log_quick_meal": {"meal_type": "snack", "client_id": "c2"},
        "redeem_consultation_key": {"key_code": "SHARP-2026-AAAAAAAAA"},
        "refresh_consultation_progress": {"engine": "offline", "model": "none"},
        "search_exercises": {"query": "squat", "max_results": 5},
        "search_foods": {"query": "chicken", "max_results": 5},
        "set_adherence": {"status": "completed"},
    }
    args = dict(arguments[function])
    if function == "log_activity_from_template":
        args["template_id"] = first("select id from public.activity_templates limit 1")
    if function == "log_quick_meal":
        args["quick_meal_id"] = first("select id from public.quick_meals limit 1")
    if function == "log_meal":
        args["items"] = [
            {"food_id": first("select id from public.foods limit 1"), "grams": 100},
            {"custom_food_id": first("select id from public.custom_foods limit 1"), "grams": 50},
        ]
    if function == "refresh_consultation_progress":
        args["session_id"] = first("select id from public.consultation_sessions limit 1")
    if function == "set_adherence":
        args["event_id"] = first("select id from public.calendar_events order by id limit 1")
    return args


def call_rpc(conn: psycopg.Connection[DictRow], function: str, args: dict[str, Any]) -> Any:
    """POST /rest/v1/rpc/<function> as PostgREST runs it: named arguments from the JSON body."""
    types = {
        row["name"]: row["type"]
        for row in conn.execute(
            "select a.name, format_type(a.type, null) as type from pg_proc p "
            "cross join lateral unnest(p.proargnames, p.proargtypes::oid[]) as a(name, type) "
            "where p.oid = %s::regproc",
            (f"public.{function}",),
        )
    }
    names = list(args)
    statement = sql.SQL(
        "select to_jsonb(r) as result from (select public.{fn}({named}) as r "
        "from json_to_record(%s::json) as b({columns})) as q"
    ).format(
        fn=sql.Identifier(function),
        named=sql.SQL(", ").join(
            sql.SQL("{} := b.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in names
        ),
        columns=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(types[n])) for n in names
        ),
    )
    return conn.execute(statement, (json.dumps(args),)).fetchall()


RPC_CASES = [
    (function, argument, payload)
    for function, arguments in RPC_TEXT_ARGUMENTS.items()
    for argument in arguments
    for payload in SQL_PAYLOADS
]


@pytest.mark.parametrize(
    ("function", "argument", "payload"),
    RPC_CASES,
    ids=[f"{f}.{a}-{p}" for f, a, p in RPC_CASES],
)
def test_sql_in_an_rpc_text_argument_is_data_or_a_clean_refusal(
    case: World, function: str, argument: str, payload: str
) -> None:
    args = _rpc_arguments(case, function)
    args[argument] = SQL_PAYLOADS[payload]
    rows, error = attempt(case, lambda conn: call_rpc(conn, function, args))
    if error is not None:
        _outcome(error)
        return
    assert payload not in NUL_PAYLOADS, "PostgreSQL text cannot hold NUL: it must be refused"
    text = json.dumps(rows, default=str)
    assert str(case.victim) not in text


# -- roles and claims -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("select * from public.consultation_keys", id="read-secret-table"),
        pytest.param("select * from auth.users", id="read-auth-users"),
        pytest.param("select * from private.consultation_key_attempts", id="read-private"),
        pytest.param("select public.mint_consultation_keys(1)", id="service-only-rpc-mint-keys"),
        pytest.param("select public.store_program_bundle('{}'::jsonb)", id="service-only-rpc"),
        pytest.param("update public.profiles set onboarding_completed = true", id="ro-column"),
        pytest.param("alter table public.profiles disable row level security", id="disable-rls"),
        pytest.param("create table public.pwned (id int)", id="create-table"),
    ],
)
def test_a_user_cannot_reach_what_is_not_theirs(case: World, statement: str) -> None:
    """(``set role`` is not among these: PostgREST's session user, ``authenticator``, is a
    member of service_role, so the only guard against it is that no client-callable function
    runs client text as SQL, which the injection cases above check.)"""
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        case.pg.as_user(case.attacker) as conn,
    ):
        conn.execute(statement)


def test_claims_without_a_subject_see_and_write_nothing(case: World) -> None:
    claims = {"aud": "authenticated", "role": "authenticated", "exp": 1983812996}
    with case.pg._acting("authenticated", claims, None, "POST") as conn:
        for table in ("profiles", "body_metrics", "coach_messages", "consultation_sessions"):
            count = conn.execute(
                sql.SQL("select count(*) as n from public.{}").format(sql.Identifier(table))
            ).fetchone()
            assert count is not None
            assert count["n"] == 0, table
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        case.pg._acting("authenticated", claims, None, "POST") as conn,
    ):
        conn.execute(
            "insert into public.body_metrics (user_id, measured_at, weight_kg) "
            "values (%s, now(), 70)",
            (case.victim,),
        )


def test_the_role_in_the_claims_never_outranks_the_database_role(case: World) -> None:
    """A token's claims say service_role, but PostgREST set role authenticated: RLS holds."""
    claims = {"sub": str(case.attacker), "role": "service_role", "aud": "authenticated"}
    with case.pg._acting("authenticated", claims, None, "POST") as conn:
        row = conn.execute(
            "select auth.role() as role, auth.uid() as uid, "
            "(select count(*) from public.profiles) as profiles"
        ).fetchone()
    assert row is not None
    assert (row["role"], row["uid"], row["profiles"]) == ("authenticated", case.attacker, 1)


# -- another user's rows through the RPCs ---------------------------------------------------


def _victim_id(case: World, query: str) -> str:
    row = case.pg.conn.execute(query, (case.victim,)).fetchone()
    assert row is not None, query
    return str(next(iter(row.values())))


CROSS_USER = {
    "approve_adjustment": ("select id from public.day_overrides where user_id = %s", "override_id"),
    "reject_adjustment": ("select id from public.day_overrides where user_id = %s", "override_id"),
    "undo_adjustment": ("select id from public.day_overrides where user_id = %s", "override_id"),
    "set_adherence": ("select id from public.calendar_events where user_id = %s", "event_id"),
    "consultation_progress": (
        "select id from public.consultation_sessions where user_id = %s",
        "session_id",
    ),
    "refresh_consultation_progress": (
        "select id from public.consultation_sessions where user_id = %s",
        "session_id",
    ),
    "log_quick_meal": ("select id from public.quick_meals where user_id = %s", "quick_meal_id"),
    "log_activity_from_template": (
        "select id from public.activity_templates where user_id = %s",
        "template_id",
    ),
    "day_kcal_adjustment": ("select %s::uuid", "user_id"),
}


@pytest.mark.parametrize("function", list(CROSS_USER))
def test_another_users_ids_reach_nothing_through_the_rpcs(case: World, function: str) -> None:
    query, argument = CROSS_USER[function]
    args: dict[str, Any] = {argument: _victim_id(case, query)}
    if function == "set_adherence":
        args["status"] = "skipped"
    if function == "day_kcal_adjustment":
        args["day"] = str(dt.date.today())
    rows, error = attempt(case, lambda conn: call_rpc(conn, function, args))
    if error is not None:
        assert error.sqlstate in ("PT404", "42501", "P0002"), (error.sqlstate, str(error))
        return
    text = json.dumps(rows, default=str)
    assert str(case.victim) not in text
    for value in args.values():
        assert function == "day_kcal_adjustment" or str(value) not in text, text
    if function == "day_kcal_adjustment":
        ghost = {"user_id": str(uuid.uuid4()), "day": args["day"]}
        with case.pg.as_user(case.attacker) as conn:
            assert rows == call_rpc(conn, function, ghost)
