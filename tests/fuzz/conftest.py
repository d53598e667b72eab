"""Shared pieces of the fuzz tests: database checksums, leak checks and Hypothesis settings.

Both fuzz files check one invariant the same way: a rejected request leaves the database as it
was. :func:`checksum` fingerprints the tables anyone but a migration writes (``public``,
``private`` and ``auth``, the read-only reference catalogues aside), per table and row owner, so
a test can also tell *whose* rows a successful request changed. The fingerprint of a group is
its row count and the sum of its rows' ``xmin`` (the transaction that wrote each row version):
every committed insert, update (even one that rewrites a row with the same values) and delete
changes it, and a rolled-back write leaves it alone, which is exactly "the database unchanged".
It costs a scan without formatting any row, a tenth of hashing the rows' text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from psycopg import sql
from psycopg.rows import tuple_row

# Deterministic, bounded, quiet: the same examples on every run (no example database), no
# deadline (a request may take a while on a loaded 2-core machine); each test sets its own
# max_examples. Shrinking stays on: a finding is reported with its smallest example.
FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)

# The read-only catalogues (reference data: written by migrations only, never by a request).
REFERENCE_TABLES = frozenset(
    {
        "public.activity_category_mets",
        "public.event_types",
        "public.exercises",
        "public.foods",
        "public.meal_times",
        "public.met_values",
        "public.training_modalities",
    }
)

# The column that names a row's owner, where it is not ``user_id``.
OWNER_COLUMNS = {
    "auth.users": "id",
    "public.profiles": "id",
    "public.consultation_keys": "assigned_to_user_id",
}

# Text that must never reach a client: stack traces, SQL, driver and server internals.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "psycopg",
    "SELECT ",
    "ERROR:",
    "pg_catalog",
    "PL/pgSQL",
    "private.",
    "CONTEXT:",
    "sqlalchemy",
    "werkzeug",
)


class Checksums(dict[tuple[str, str | None], tuple[int, str]]):
    """(table, owner) → (row count, sum of xmin); a short repr for failure reports."""

    def __repr__(self) -> str:
        return f"<checksums of {len(self)} (table, owner) groups>"


def _checksum_query(conn: psycopg.Connection[Any]) -> sql.Composed:
    tables = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            """
        select n.nspname, c.relname,
               exists (select from pg_attribute a where a.attrelid = c.oid
                       and a.attname = 'user_id' and not a.attisdropped) as has_user_id
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth')
        order by 1, 2
        """
        )
        .fetchall()
    )
    parts: list[sql.Composed] = []
    for row in tables:
        schema, table, has_user_id = row[0], row[1], row[2]
        name = f"{schema}.{table}"
        if name in REFERENCE_TABLES:
            continue
        owner_column = OWNER_COLUMNS.get(name, "user_id" if has_user_id else None)
        owner = (
            sql.SQL("t.{}::text").format(sql.Identifier(owner_column))
            if owner_column
            else sql.SQL("null::text")
        )
        parts.append(
            sql.SQL(
                "select {name} as tbl, {owner} as owner, count(*) as n,"
                " coalesce(sum(t.xmin::text::bigint), 0)::text as h"
                " from {table} as t group by 2"
            ).format(
                name=sql.Literal(name),
                owner=owner,
                table=sql.Identifier(schema, table),
            )
        )
    return sql.SQL(" union all ").join(parts)


_QUERIES: dict[str, sql.Composed] = {}


def checksum(conn: psycopg.Connection[Any]) -> Checksums:
    """Row count and row-version fingerprint of every writable table, per (table, owner).

    Runs as the connection's current role: call it as ``postgres`` (outside any acting block).
    """
    info = conn.info
    key = f"{info.host}:{info.port}/{info.dbname}"
    if key not in _QUERIES:
        _QUERIES[key] = _checksum_query(conn)
    cursor = conn.cursor(row_factory=tuple_row)
    rows = cursor.execute(_QUERIES[key], prepare=True).fetchall()
    return Checksums({(row[0], row[1]): (int(row[2]), str(row[3])) for row in rows})


def next_xid(conn: psycopg.Connection[Any]) -> int:
    """The next transaction id the cluster will assign (reading it assigns none)."""
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute("select pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        .fetchone()
    )
    assert row is not None
    return int(row[0])


class DatabaseWatch:
    """Tells whether the database changed across one request of another process (the server).

    A write needs a transaction id: when none was assigned during the request (anywhere in the
    cluster) nothing can have changed, and no scan is needed. Otherwise the checksums before
    and after are compared; the one before is kept from the last look while no id was assigned
    since, so a run of rejected requests costs two tiny queries each.
    """

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.sums = Checksums()
        self.xid = -1

    def close(self) -> None:
        self.conn.close()

    def before(self) -> None:
        xid = next_xid(self.conn)
        if xid != self.xid:
            self.sums = checksum(self.conn)
            self.xid = xid

    def changes(self) -> set[tuple[str, str | None]]:
        """The (table, owner) groups the request changed (call :meth:`before` first)."""
        if next_xid(self.conn) == self.xid:
            return set()
        before, self.sums = self.sums, checksum(self.conn)
        self.xid = next_xid(self.conn)
        return changed(before, self.sums)


def changed(before: Checksums, after: Checksums) -> set[tuple[str, str | None]]:
    """The (table, owner) groups whose rows differ."""
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def internal_names(conn: psycopg.Connection[Any]) -> frozenset[str]:
    """Quoted names of the objects clients never see (the ``private`` schema's tables)."""
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'private' and c.relkind in ('r', 'p', 'v')"
        )
        .fetchall()
    )
    return frozenset(f'"{row[0]}"' for row in rows)


def leaks(
    text: str,
    *,
    echoed: Mapping[str, Any] | None = None,
    internal: frozenset[str] = frozenset(),
) -> list[str]:
    """The leak markers and internal names found in ``text`` once the caller's own input
    (echoed back in a message) is removed."""
    for value in (echoed or {}).values():
        if isinstance(value, str) and value:
            text = text.replace(value, "")
    return [marker for marker in (*LEAK_MARKERS, *sorted(internal)) if marker in text]


_STACK_FRAME = re.compile(r'File "[^"]+", line \d+')


def has_stack_trace(text: str) -> bool:
    return "Traceback (most recent call last)" in text or bool(_STACK_FRAME.search(text))
