"""Catalog-driven rules every table in `public` must follow (docs/schema.md).

They read the schema as deployed, so a new table that forgets RLS, a comment,
the updated_at trigger, the owner's foreign key or an explicit `on delete`
fails the build without anyone having to remember to add a test.
"""

from __future__ import annotations

import psycopg
import pytest

from harness import PostgrestSession
from sharpened.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration


def _public_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        """
        select c.relname from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        order by 1
        """
    ).fetchall()
    return [row["relname"] for row in rows]


def _violations(pg: PostgrestSession, query: str) -> list[dict[str, object]]:
    return pg.conn.execute(query).fetchall()


def test_the_immutability_trigger_of_programs_watches_every_column_but_the_mutable_ones(
    pg: PostgrestSession,
) -> None:
    """It fires on updates of the columns it lists: a column added later must be listed."""
    rows = _violations(
        pg,
        """
        select a.attname from pg_attribute as a
        where a.attrelid = 'public.programs'::regclass and a.attnum > 0 and not a.attisdropped
          and a.attname not in ('status', 'next_reassessment_date', 'updated_at')
          and not exists (
              select from pg_trigger as t
              where t.tgrelid = 'public.programs'::regclass and t.tgname = 'programs_immutable'
                and a.attnum = any(t.tgattr::int2[])
          )
        """,
    )
    assert rows == []


def test_every_table_has_rls_enabled(pg: PostgrestSession) -> None:
    assert _public_tables(pg.conn)
    assert (
        _violations(
            pg,
            """
        select relname from pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
          and not relrowsecurity
        """,
        )
        == []
    )


def test_every_table_has_a_comment(pg: PostgrestSession) -> None:
    assert (
        _violations(
            pg,
            """
        select relname from pg_class c
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
          and coalesce(obj_description(c.oid, 'pg_class'), '') = ''
        """,
        )
        == []
    )


def test_updated_at_is_maintained_by_the_shared_trigger(pg: PostgrestSession) -> None:
    assert (
        _violations(
            pg,
            """
        select c.relname from pg_class c
        join pg_attribute a
            on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and not exists (
              select from pg_trigger t
              where t.tgrelid = c.oid and not t.tgisinternal
                and t.tgfoid = 'private.set_updated_at()'::regprocedure
          )
        """,
        )
        == []
    )


# The functions a log goes through that look rows up by key (migrations 1900, 3400 and 3800).
INDEX_ONLY_FUNCTIONS = (
    "log_meal",
    "meal_items_refresh_meal_totals",
    "exercise_sets_rematch",
    "rematch_day",
    "session_pairs",
    "meal_pairs",
    "refresh_adherence_rollups",
)


def test_the_functions_a_log_goes_through_keep_to_their_indexes(pg: PostgrestSession) -> None:
    """Each carries enable_seqscan = off. Their plans are made once per connection, from the
    statistics of that moment: without the setting, a connection that planned while meals or
    activities were small keeps scanning the whole table as it grows. A later CREATE OR REPLACE
    without the SET clause would drop it silently."""
    rows = pg.conn.execute(
        """
        select p.proname, 'enable_seqscan=off' = any(coalesce(p.proconfig, '{}')) as index_only
        from pg_proc p
        where p.pronamespace in ('private'::regnamespace, 'public'::regnamespace)
            and p.proname = any(%s)
        order by 1
        """,
        (list(INDEX_ONLY_FUNCTIONS),),
    ).fetchall()
    assert {row["proname"]: row["index_only"] for row in rows} == dict.fromkeys(
        INDEX_ONLY_FUNCTIONS, True
    )


def test_every_table_has_created_at_and_updated_at(pg: PostgrestSession) -> None:
    missing = _violations(
        pg,
        """
        select c.relname, col from pg_class c
        cross join (values ('created_at'), ('updated_at')) as needed(col)
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and not exists (
              select from pg_attribute a
              where a.attrelid = c.oid and a.attname = needed.col and not a.attisdropped
          )
        """,
    )
    assert missing == []


def test_user_id_is_owned_by_auth_users_with_cascade_and_indexed(pg: PostgrestSession) -> None:
    rows = _violations(
        pg,
        """
        select c.relname,
            a.attnotnull as not_null,
            exists (
                select from pg_constraint k
                where k.conrelid = c.oid and k.contype = 'f'
                  and k.confrelid = 'auth.users'::regclass
                  and k.conkey = array[a.attnum] and k.confdeltype = 'c'
            ) as owned,
            exists (
                select from pg_index i
                where i.indrelid = c.oid and i.indkey[0] = a.attnum
            ) as indexed
        from pg_class c
        join pg_attribute a
            on a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        """,
    )
    bad = [row for row in rows if not (row["not_null"] and row["owned"] and row["indexed"])]
    assert bad == []


def test_every_foreign_key_says_what_happens_on_delete(pg: PostgrestSession) -> None:
    # confdeltype 'a' is NO ACTION, the default when `on delete` is left out.
    assert (
        _violations(
            pg,
            """
        select conrelid::regclass::text as table_name, conname from pg_constraint
        where contype = 'f' and connamespace = 'public'::regnamespace and confdeltype = 'a'
        """,
        )
        == []
    )


def test_policies_are_for_authenticated_and_wrap_auth_calls(pg: PostgrestSession) -> None:
    policies = pg.conn.execute(
        """
        select tablename, policyname, roles::text[] as roles,
            coalesce(qual, '') || ' ' || coalesce(with_check, '') as expressions
        from pg_policies where schemaname = 'public'
        """
    ).fetchall()
    assert policies
    for policy in policies:
        assert policy["roles"] == ["authenticated"], policy
        bare_calls = policy["expressions"].count("auth.uid()") - policy["expressions"].count(
            "SELECT auth.uid()"
        )
        assert bare_calls == 0, f"wrap auth.uid() as (select auth.uid()): {policy}"


def test_nothing_is_granted_to_public_or_anon(pg: PostgrestSession) -> None:
    grants = _violations(
        pg,
        """
        select table_name, grantee, privilege_type from information_schema.role_table_grants
        where table_schema = 'public' and grantee in ('PUBLIC', 'anon')
        union all
        select table_name, grantee, privilege_type from information_schema.column_privileges
        where table_schema = 'public' and grantee in ('PUBLIC', 'anon')
        """,
    )
    assert grants == []


def test_api_contract_names_every_exposed_object(pg: PostgrestSession) -> None:
    """docs/api.md documents every table, view and client-callable function in `public`."""
    contract = (PROJECT_ROOT / "docs" / "api.md").read_text()
    exposed = pg.conn.execute(
        """
        select relname as name from pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'v', 'm')
        union
        select proname from pg_proc
        where pronamespace = 'public'::regnamespace
          and has_function_privilege('authenticated', oid, 'EXECUTE')
        """
    ).fetchall()
    assert exposed
    undocumented = sorted(row["name"] for row in exposed if f"`{row['name']}" not in contract)
    assert undocumented == []
