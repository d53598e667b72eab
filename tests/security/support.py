"""Shared pieces of the attack tests: the victim's world, fingerprints, the leak checks.

The victim is a user with a profile, a program, a consultation and a coach
conversation, each carrying unique marker strings; the attacker is another
signed-in user. ``victim_fingerprint`` hashes every row of the victim in every
table of ``public`` (and their ``auth.users`` row), ``database_fingerprint``
every table (row count and a hash of all rows) plus the catalog of
``public``: comparing them before and after an attack proves nothing was
written, deleted or dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from sharpened.auth import mint_user_token, user_claims
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.users import create_user

ONBOARDING = """
update public.profiles set sex = 'female', date_of_birth = '1990-03-14', height_cm = 171,
    weight_kg = 66, activity_level = 'moderate', primary_goal = 'muscle_gain',
    goal_rate_pct_per_week = 0.25, experience_level = 'advanced', workout_frequency = 4,
    dietary_preference = 'pescatarian', meals_per_day = 4, display_name = %s
where id = %s
"""

# Text that is dangerous as SQL, as JSON or as a C string; every one must end up as data.
SQL_PAYLOADS: dict[str, str] = {
    "drop-table": "x'); drop table public.profiles; --",
    "or-1-1": "' or 1=1 --",
    "or-1-1-dq": '" or ""="',
    "union-select": "' union select id::text, email from auth.users --",
    "stacked-update": "'; update public.profiles set display_name = 'pwned' --",
    "dollar-quote": "$$; drop table public.profiles; $$",
    "tagged-dollar": "$x$ || pg_sleep(5) || $x$",
    "backslash-escape": "\\'; select pg_sleep(5); --",
    "e-string": "E'\\x27'; delete from public.coach_messages; --",
    "comment-block": "/* */ drop /**/ table public.coach_messages --",
    "semicolon-copy": "'; copy (select '') to program 'id' --",
    "nul-byte": "before\x00after",
    "unicode-homoglyph": "\u02bc or 1=1 -- \uff07; drop table profiles; \u2019",
    "rtl-override": "\u202e'; drop table profiles; --",
    "format-specifiers": "%s %I %L %(x)s {0} ${1}",
    "json-breakout": '"}, "role": "service_role", "x": {"',
    "very-long": "'; drop table public.profiles; -- " + "A" * 1900,
}

# The payloads a JSON body cannot carry to SQL unchanged (PostgreSQL text has no NUL).
NUL_PAYLOADS = frozenset({"nul-byte"})


@dataclass
class Victim:
    """The user under attack and every string that must never reach anyone else."""

    user_id: uuid.UUID
    email: str
    token: str
    markers: list[str]
    ids: dict[str, str] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Everything that identifies the victim's data (markers and row ids)."""
        return [*self.markers, self.email, *self.ids.values()]

    def leaked_in(self, text: str) -> list[str]:
        lowered = text.lower()
        return [secret for secret in self.secrets() if secret.lower() in lowered]


@dataclass(frozen=True)
class Attacker:
    """A signed-in user (email ``attacker-…``) who attacks the victim."""

    user_id: uuid.UUID
    token: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str | None]]:
    """Every table of ``public`` with the column naming its owner (None: not per user)."""
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            """
        select c.relname,
            case
                when c.relname = 'profiles' then 'id'
                when c.relname = 'consultation_keys' then 'assigned_to_user_id'
                when exists (
                    select from pg_attribute a
                    where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped
                ) then 'user_id'
            end
        from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        order by c.relname
        """
        )
        .fetchall()
    )
    return [(row[0], row[1]) for row in rows]


ATTACKERS = sql.SQL("(select id from auth.users where email like 'attacker-%%')")


def _fingerprint_query(
    tables: list[tuple[str, str | None]], where: str, user: uuid.UUID | None
) -> sql.Composed:
    """One query: (table, count, md5 of the rows) for every table, rows filtered by owner."""
    parts = []
    for table, owner in tables:
        if owner is None and where == "only":
            continue
        condition: sql.Composable = sql.SQL("true")
        if owner is not None and where == "only":
            condition = sql.SQL("{} = {}").format(sql.Identifier(owner), sql.Literal(user))
        elif owner is not None:
            condition = sql.SQL("{} is null or {} not in {}").format(
                sql.Identifier(owner), sql.Identifier(owner), ATTACKERS
            )
        parts.append(
            sql.SQL(
                "select {name} as name, count(*) as n, "
                "md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as hash "
                "from public.{table} as t where {condition}"
            ).format(name=sql.Literal(table), table=sql.Identifier(table), condition=condition)
        )
    return sql.SQL(" union all ").join(parts)


def victim_fingerprint(conn: psycopg.Connection[Any], victim: uuid.UUID) -> dict[str, Any]:
    """Count and hash of the victim's rows in every table (and their auth.users row)."""
    cur = conn.cursor(row_factory=tuple_row)
    query = _fingerprint_query(user_tables(conn), "only", victim)
    result: dict[str, Any] = {row[0]: (row[1], row[2]) for row in cur.execute(query)}
    row = cur.execute("select md5(u::text) from auth.users as u where u.id = %s", (victim,))
    result["auth.users"] = (row.fetchone() or (None,))[0]
    return result


def _hash_of(expression: str, source: str) -> str:
    """A query hashing ``expression`` over ``source`` (constant SQL of this module only)."""
    select = "select md5(coalesce(string_agg(x, ',' order by x), '')) "
    return select + f"from (select {expression} as x {source}) as s"


SCHEMAS = "('public'::regnamespace, 'auth'::regnamespace, 'private'::regnamespace)"
CATALOG_QUERIES = {
    "catalog.columns": _hash_of(
        "table_schema || '.' || table_name || '.' || column_name || ':' || data_type",
        "from information_schema.columns "
        "where table_schema in ('public', 'auth', 'private', 'extensions')",
    ),
    "catalog.functions": _hash_of(
        "p.oid::regprocedure::text || md5(p.prosrc) || p.prosecdef::text "
        "|| coalesce(p.proacl::text, '') || coalesce(p.proconfig::text, '')",
        f"from pg_proc p where p.pronamespace in {SCHEMAS}",
    ),
    "catalog.policies": _hash_of(
        "schemaname || tablename || policyname || roles::text || cmd || coalesce(qual, '') "
        "|| coalesce(with_check, '')",
        "from pg_policies",
    ),
    "catalog.grants": _hash_of(
        "c.oid::regclass::text || coalesce(c.relacl::text, '') || c.relrowsecurity::text "
        "|| c.relkind::text",
        f"from pg_class c where c.relnamespace in {SCHEMAS}",
    ),
    "catalog.triggers": _hash_of(
        "tgrelid::regclass::text || tgname || tgenabled::text",
        "from pg_trigger where not tgisinternal",
    ),
    "roles": _hash_of(
        "rolname || rolsuper::text || rolbypassrls::text || rolcanlogin::text", "from pg_roles"
    ),
    "role_members": _hash_of(
        "roleid::regrole::text || '>' || member::regrole::text", "from pg_auth_members"
    ),
}


def database_fingerprint(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every table's count and hash, auth.users and the catalog, leaving out the attackers'
    own rows (every user whose email starts with ``attacker-``: see :func:`create_attacker`)."""
    cur = conn.cursor(row_factory=tuple_row)
    query = _fingerprint_query(user_tables(conn), "except", None)
    result: dict[str, Any] = {row[0]: (row[1], row[2]) for row in cur.execute(query)}
    users = cur.execute(
        "select count(*)::text || md5(coalesce(string_agg(u::text, ',' order by u.id), '')) "
        "from auth.users as u where u.email not like 'attacker-%'"
    ).fetchone()
    result["auth.users"] = users[0] if users else None
    for name, catalog_query in CATALOG_QUERIES.items():
        row = cur.execute(catalog_query).fetchone()
        result[name] = row[0] if row else None
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The entries that changed (an empty dict: nothing did)."""
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def assert_error_shape(response: httpx.Response, status: int, code: str | None = None) -> None:
    """The functions' one error shape, with no stack trace or SQL text in it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, response.text
    assert_no_internals(response.text)


INTERNALS = (
    "Traceback",
    'File "',
    "psycopg",
    "sqlstate=",
    "syntax error at or near",
    "LINE 1:",
    "pg_catalog",
    "CONTEXT:",
    "PL/pgSQL function",
    "site-packages",
    "werkzeug",
    "/work/",
    "select ",
    "insert into",
)


def assert_no_internals(text: str) -> None:
    lowered = text.lower()
    found = [needle for needle in INTERNALS if needle.lower() in lowered]
    assert not found, f"internal details {found} in: {text[:500]}"


def create_victim(db_url: str, functions_url: str, tag: str) -> Victim:
    """A victim with a profile, a program, a consultation and a coach conversation.

    Their own requests go through the real functions (the offline engines), so
    their rows are exactly what the product writes.
    """
    unique = uuid.uuid4().hex[:10]
    markers = [
        f"Quillfeather{unique}",  # display name
        f"xylophone-{unique}",  # coach conversation
        f"Zanzibar{unique}",  # consultation challenge
        f"marathon-{unique}",  # consultation event
    ]
    email = f"victim-{tag}-{unique}@example.test"
    with psycopg.connect(db_url) as conn:
        user_id = create_user(conn, email, display_name=markers[0])
        conn.execute(ONBOARDING, (markers[0], user_id))
    token = mint_user_token(user_id, email)
    database = Database(db_url, min_size=1, max_size=1)
    try:
        key = mint_keys_as_service(database, 1, assigned_to=user_id)[0]
        with database.as_user(user_claims(user_id), headers={"user-agent": "pytest"}) as conn:
            session_id = redeem_key(conn, key.key_code).session_id
    finally:
        database.close()
    victim = Victim(user_id, email, token, markers, {"user_id": str(user_id)})
    victim.ids["session_id"] = str(session_id)
    victim.ids["key_code"] = key.key_code
    with httpx.Client(base_url=functions_url, headers=bearer(token), timeout=60) as client:
        coach = client.post(
            "/coach-chat", json={"message": f"My secret training word is {markers[1]}, hello"}
        )
        assert coach.status_code == 200, coach.text
        victim.ids["conversation_id"] = coach.json()["conversation_id"]
        for message in (
            f"My biggest challenge is {markers[2]} at work",
            f"I am running the {markers[3]} race on 2027-05-02",
        ):
            turn = client.post(
                "/consultation-chat", json={"session_id": str(session_id), "message": message}
            )
            assert turn.status_code == 200, turn.text
        program = client.post(
            "/generate-program",
            json={"duration_weeks": 2},
        )
        assert program.status_code == 200, program.text
        victim.ids["program_id"] = program.json()["program_id"]
    return victim


def create_attacker(db_url: str, tag: str) -> tuple[uuid.UUID, str]:
    with psycopg.connect(db_url) as conn:
        user_id = create_user(conn, f"attacker-{tag}-{uuid.uuid4().hex[:8]}@example.test")
    return user_id, mint_user_token(user_id)
