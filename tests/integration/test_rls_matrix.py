"""The RLS matrix: roles by commands for every table in `public`, run as PostgREST runs requests.

ACCESS below is the single statement of who may do what (docs/schema.md,
"Access classes"); the catalog decides which tables exist. A table in
`public` that is not classified here fails the build, and so does any
difference between a table's grants or policies and its class.

Rows come from the domain fixtures (`supabase/tests/fixtures/*.sql`): every
`tests.seed_<domain>(owner)` seeds a row of each of its tables for the owner
and returns a valid new row (`sample`) to insert.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from harness import PostgrestSession, seed_every_table

pytestmark = pytest.mark.integration

REFERENCE = "reference"  # every signed-in user reads every row; only the service role writes
SECRET = "secret"  # no client access at all

ACCESS: dict[str, str] = {
    # users
    "profiles": "SU",
    "body_metrics": "SIUD",
    # consultation
    "consultation_keys": SECRET,
    "consultation_key_usage": "S",
    "consultation_sessions": "S",
    "consultation_messages": "SI",
    "user_training_modalities": "SIUD",
    "user_familiar_exercises": "SIUD",
    "user_training_availability": "SIUD",
    "user_preferred_meal_times": "SIUD",
    "user_typical_meal_foods": "SIUD",
    "user_improvement_goals": "SIUD",
    "user_difficulties": "SIUD",
    "user_non_negotiables": "SIUD",
    "user_upcoming_events": "SIUD",
    # coach
    "coach_conversations": "SIUD",
    "coach_messages": "SI",
    # programs (immutable plan data)
    "programs": "S",
    "session_instances": "S",
    "exercise_plan_items": "S",
    "meal_instances": "S",
    "meal_item_plan": "S",
    # planning
    "calendar_events": "S",
    "adherence_records": "S",
    "adherence_daily": "S",
    "plan_change_events": "S",
    "reassessments": "S",
    "day_overrides": "S",
    "day_override_transitions": "S",
    "user_context_log": "SIUD",
    "adjustment_preferences": "SIUD",
    "notifications": "SU",
    # activity
    "activities": "SIUD",
    "exercise_sets": "SIUD",
    "activity_templates": "SIUD",
    # nutrition
    "custom_foods": "SIUD",
    "meals": "SIUD",
    "meal_items": "SIUD",
    "quick_meals": "SIUD",
    # reference
    "exercises": REFERENCE,
    "training_modalities": REFERENCE,
    "meal_times": REFERENCE,
    "event_types": REFERENCE,
    "foods": REFERENCE,
    "met_values": REFERENCE,
    "activity_category_mets": REFERENCE,
}

# Tables whose rows clients never insert and the fixtures cannot sample (signup makes them).
NO_SAMPLE = {"profiles"}

Denied = errors.InsufficientPrivilege


def _table(name: str) -> sql.Composed:
    return sql.SQL("public.{}").format(sql.Identifier(name))


@dataclass
class World:
    owner: uuid.UUID
    other: uuid.UUID
    samples: dict[str, dict[str, Any]]


def _seed(pg: PostgrestSession) -> World:
    """Two users with a row in every table (via every domain's fixture) and the owner's samples."""
    owner, other = pg.signup(), pg.signup()
    samples = seed_every_table(pg.conn, other, owner)  # the owner's samples
    return World(owner, other, samples)


def _insert(conn: psycopg.Connection, table: str, sample: dict[str, Any]) -> Any:
    columns = sql.SQL(", ").join(sql.Identifier(key) for key in sample)
    statement = sql.SQL(
        "insert into {table} ({columns}) select {columns} "
        "from jsonb_populate_record(null::{table}, %s::jsonb) returning id"
    ).format(table=_table(table), columns=columns)
    row = conn.execute(statement, (psycopg.types.json.Jsonb(sample),)).fetchone()
    assert row is not None
    return row["id"]


def _owner_column(conn: psycopg.Connection, table: str) -> str:
    row = conn.execute(
        "select exists (select from information_schema.columns where table_schema = 'public' "
        "and table_name = %s and column_name = 'user_id') as has_user_id",
        (table,),
    ).fetchone()
    return "user_id" if row and row["has_user_id"] else "id"


def _updatable_column(conn: psycopg.Connection, table: str) -> str | None:
    """A column `authenticated` may update (column privileges included), if any."""
    row = conn.execute(
        "select column_name from information_schema.columns c "
        "where table_schema = 'public' and table_name = %s "
        "and has_column_privilege('authenticated', format('public.%%I', table_name), "
        "column_name, 'UPDATE') order by ordinal_position limit 1",
        (table,),
    ).fetchone()
    return row["column_name"] if row else None


def _count(conn: psycopg.Connection, table: str, column: str, value: Any) -> int:
    query = sql.SQL("select count(*) as n from {} where {} = %s").format(
        _table(table), sql.Identifier(column)
    )
    row = conn.execute(query, (value,)).fetchone()
    assert row is not None
    return int(row["n"])


def _touch(conn: psycopg.Connection, table: str, column: str, where: str, value: Any) -> int:
    query = sql.SQL("update {t} set {c} = {c} where {w} = %s").format(
        t=_table(table), c=sql.Identifier(column), w=sql.Identifier(where)
    )
    return conn.execute(query, (value,)).rowcount


def _delete(conn: psycopg.Connection, table: str, column: str, value: Any) -> int:
    query = sql.SQL("delete from {} where {} = %s").format(_table(table), sql.Identifier(column))
    return conn.execute(query, (value,)).rowcount


def _assert_denied_everything(pg: PostgrestSession, table: str, acting: Any) -> None:
    statements = [
        sql.SQL("select 1 from {} limit 1"),
        sql.SQL("insert into {} default values"),
        sql.SQL("update {} set id = id"),
        sql.SQL("delete from {}"),
    ]
    for statement in statements:
        with pytest.raises(Denied), acting() as conn:
            conn.execute(statement.format(_table(table)))


def _assert_service_role_writes(pg: PostgrestSession, table: str, world: World) -> None:
    sample = world.samples.get(table)
    if table in NO_SAMPLE:
        assert sample is None
        return
    assert sample is not None, f"no fixture sample for {table}: add it to its seed function"
    with pg.as_service() as conn:
        new_id = _insert(conn, table, sample)
        assert _touch(conn, table, "id", "id", new_id) == 1
        assert _delete(conn, table, "id", new_id) == 1


def _check_owned(pg: PostgrestSession, table: str, commands: str, world: World) -> None:
    owner_col = _owner_column(pg.conn, table)
    owner, other = world.owner, world.other

    with pg.as_user(owner) as conn:  # S: own rows, and only own rows
        assert _count(conn, table, owner_col, owner) >= 1, f"{table}: owner sees no rows"
        assert _count(conn, table, owner_col, other) == 0, f"{table}: owner sees another's rows"
    with pg.as_user(other) as conn:
        assert _count(conn, table, owner_col, owner) == 0

    if "I" in commands:
        sample = world.samples[table]
        with pytest.raises(Denied), pg.as_user(other) as conn:  # cannot write into owner's data
            _insert(conn, table, sample)
        with pg.as_user(owner) as conn:
            inserted = _insert(conn, table, sample)
    else:
        inserted = None
        with pytest.raises(Denied), pg.as_user(owner) as conn:
            conn.execute(sql.SQL("insert into {} default values").format(_table(table)))

    column = _updatable_column(pg.conn, table)
    if "U" in commands:
        assert column is not None, f"{table}: class allows updates but nothing is updatable"
        with pg.as_user(other) as conn:
            assert _touch(conn, table, column, owner_col, owner) == 0
        with pg.as_user(owner) as conn:
            assert _touch(conn, table, column, owner_col, owner) >= 1
    else:
        assert column is None, f"{table}: read-only for clients but {column} is updatable"
        with pytest.raises(Denied), pg.as_user(owner) as conn:
            _touch(conn, table, "id", owner_col, owner)

    if "D" in commands:
        assert inserted is not None, f"{table}: deletable tables are insertable in this model"
        with pg.as_user(other) as conn:
            assert _delete(conn, table, owner_col, owner) == 0
        with pg.as_user(owner) as conn:
            assert _delete(conn, table, "id", inserted) == 1
    else:
        with pytest.raises(Denied), pg.as_user(owner) as conn:
            _delete(conn, table, owner_col, owner)

    _assert_denied_everything(pg, table, pg.as_anon)
    with pg.as_service() as conn:
        assert _count(conn, table, owner_col, owner) >= 1
    _assert_service_role_writes(pg, table, world)


def _check_reference(pg: PostgrestSession, table: str, world: World) -> None:
    with pg.as_user(world.owner) as conn:
        row = conn.execute(sql.SQL("select count(*) as n from {}").format(_table(table))).fetchone()
        assert row is not None
        assert row["n"] >= 1
    for statement in (
        sql.SQL("insert into {} default values"),
        sql.SQL("update {} set id = id"),
        sql.SQL("delete from {}"),
    ):
        with pytest.raises(Denied), pg.as_user(world.owner) as conn:
            conn.execute(statement.format(_table(table)))
    _assert_denied_everything(pg, table, pg.as_anon)
    _assert_service_role_writes(pg, table, world)


def _check_secret(pg: PostgrestSession, table: str, world: World) -> None:
    _assert_denied_everything(pg, table, lambda: pg.as_user(world.owner))
    _assert_denied_everything(pg, table, pg.as_anon)
    with pg.as_service() as conn:
        row = conn.execute(sql.SQL("select count(*) as n from {}").format(_table(table))).fetchone()
        assert row is not None
        assert row["n"] >= 1
    _assert_service_role_writes(pg, table, world)


def test_every_public_table_is_classified(pg: PostgrestSession) -> None:
    rows = pg.conn.execute(
        "select relname from pg_class where relnamespace = 'public'::regnamespace "
        "and relkind in ('r', 'p')"
    ).fetchall()
    catalog = {row["relname"] for row in rows}
    assert catalog - ACCESS.keys() == set(), "unclassified tables: add them to ACCESS"
    assert ACCESS.keys() - catalog == set(), "classified tables that do not exist"


@pytest.mark.parametrize("table", sorted(ACCESS))
def test_grants_match_the_access_class(pg: PostgrestSession, table: str) -> None:
    spec = ACCESS[table]
    commands = "" if spec == SECRET else "S" if spec == REFERENCE else spec
    row = pg.conn.execute(
        """
        select
            has_table_privilege('authenticated', %(t)s, 'SELECT') as s,
            has_any_column_privilege('authenticated', %(t)s, 'INSERT') as i,
            has_any_column_privilege('authenticated', %(t)s, 'UPDATE') as u,
            has_table_privilege('authenticated', %(t)s, 'DELETE') as d,
            has_table_privilege('authenticated', %(t)s, 'TRUNCATE, REFERENCES, TRIGGER') as other,
            has_table_privilege('service_role', %(t)s, 'SELECT')
                and has_any_column_privilege('service_role', %(t)s, 'INSERT')
                and has_any_column_privilege('service_role', %(t)s, 'UPDATE')
                and has_table_privilege('service_role', %(t)s, 'DELETE') as service
        """,
        {"t": f"public.{table}"},
    ).fetchone()
    assert row is not None
    granted = "".join(letter.upper() for letter in "siud" if row[letter])
    assert granted == commands
    assert row["other"] is False
    assert row["service"] is True


@pytest.mark.parametrize("table", sorted(ACCESS))
def test_rls_matrix(pg: PostgrestSession, table: str) -> None:
    world = _seed(pg)
    spec = ACCESS[table]
    if spec == REFERENCE:
        _check_reference(pg, table, world)
    elif spec == SECRET:
        _check_secret(pg, table, world)
    else:
        _check_owned(pg, table, spec, world)
