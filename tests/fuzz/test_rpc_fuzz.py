"""Hypothesis against every RPC a client calls (docs/api.md), the way PostgREST runs it.

A call runs as the ``authenticated`` role with the caller's JWT claims (PostgREST's prelude,
``PostgrestSession``) and passes its JSON body through ``json_to_record`` with the function's
argument types, as PostgREST does, so arguments of the wrong type fail in the database exactly
as they would behind the Data API. Callers: a user with data in every domain, a user without
any, a user throttled by failed key redemptions, a token whose user no longer exists and a token
without a user. Arguments: the caller's own ids, another user's ids, random and malformed ids,
nulls, out-of-range and malformed dates and numbers, long, unicode and NUL-carrying text.

Every outcome is checked against the contract:

- a raised error is a documented SQLSTATE for that RPC (a PTnnn / P0001 named in the RPC's own
  section of docs/api.md, 42501, or the 22xxx / 23xxx classes every call may answer with 400),
  maps to a 4xx status, finishes within the role's statement timeout, and its message, detail
  and hint carry no internals (no SQL, no private table names); PostgREST rolls the request
  back, and the database is checked to be unchanged;
- a refusal answered with ``response.status`` (``redeem_consultation_key``) has the documented
  body and status and changes nothing but the documented failed-attempt record;
- a success changes no row of any other user.

Each example runs in a savepoint of one transaction that is rolled back afterwards, so every
example starts from the same world.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import DictRow

from harness import PostgrestSession, connect, create_database, drop_database, install_test_helpers
from sharpened.auth import user_claims
from sharpened.errors import status_for_sqlstate
from sharpened.keys import REFUSAL_STATUS
from sharpened.pgcluster import Cluster
from sharpened.settings import PROJECT_ROOT

from .conftest import FUZZ_SETTINGS, Checksums, changed, checksum, internal_names, leaks

pytestmark = pytest.mark.integration

EXAMPLES_PER_RPC = 30
STATEMENT_TIMEOUT = "8s"  # the authenticated role's (sql/local/00_roles.sql, as on Supabase)

ONBOARDED = """
update public.profiles set sex = 'male', date_of_birth = '1990-03-01', height_cm = 180,
    weight_kg = 82, activity_level = 'moderate', primary_goal = 'fat_loss',
    experience_level = 'intermediate', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 4
where id = %s
"""
# Three plannings: three day overrides per user (one is approved, one rejected, one left pending).
SEEDS: tuple[str, ...] = ("users", "consultation", "coach", "programs")
SEEDS += ("planning", "planning", "planning", "activity", "nutrition")


# ----------------------------------------------------------------------------- the world ---


@dataclass
class World:
    """Who calls, and the ids and codes the arguments are drawn from."""

    url: str
    owner: uuid.UUID  # data in every domain, an active consultation, onboarded
    other: uuid.UUID  # the same, another user: their ids must stay out of reach
    fresh: uuid.UUID  # signed up, nothing else (not onboarded, no consultation)
    throttled: uuid.UUID  # 10 refused redemptions within the hour
    ids: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # kind → whose → ids
    key_codes: list[str] = field(default_factory=list)
    meal_types: list[str] = field(default_factory=list)
    internal: frozenset[str] = frozenset()  # names no message may carry

    def __repr__(self) -> str:
        return f"<fuzz world at {self.url.rsplit('/', 1)[-1]}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _ids(conn: psycopg.Connection[DictRow], query: str, user: uuid.UUID) -> list[str]:
    return [str(row["id"]) for row in conn.execute(query, (user,)).fetchall()]


def _build_world(url: str) -> World:
    install_test_helpers(url)
    with connect(url) as conn:
        owner, other, fresh, throttled = (uuid.uuid4() for _ in range(4))
        for user, name in ((owner, "owner"), (other, "other"), (fresh, "fresh"), (throttled, "t")):
            conn.execute("select tests.create_user(%s, %s)", (user, f"fuzz-{name}@example.test"))
        for user in (owner, other):
            conn.execute(ONBOARDED, (user,))
            for seed in SEEDS:
                conn.execute(
                    sql.SQL("select * from tests.{}(%s)").format(sql.Identifier(f"seed_{seed}")),
                    (user,),
                ).fetchall()
            # A planned item of the program in force on a future day (set_adherence: 22023).
            conn.execute(
                """
                insert into public.calendar_events
                    (user_id, program_id, date, event_type, ref_table, ref_id, title)
                select s.user_id, s.program_id, current_date + 30, 'training',
                       'session_instances', s.id, 'Later'
                from public.session_instances s
                join public.programs p on p.id = s.program_id and p.status = 'active'
                where s.user_id = %s limit 1
                """,
                (user,),
            )
        conn.execute(
            "insert into private.consultation_key_attempts (user_id, attempted_at, outcome)"
            " select %s, now() - interval '5 minutes', 'key_not_found'"
            " from generate_series(1, 10)",
            (throttled,),
        )
        # Keys in every state redemption checks (the seeds assigned one to each user).
        conn.execute("set local role service_role")
        minted = [
            row["key_code"]
            for row in conn.execute(
                "select key_code from public.mint_consultation_keys(5, 1000)"
            ).fetchall()
        ]
        conn.execute("reset role")
        usable, exhausted, expired, inactive, _spare = minted
        conn.execute(
            "update public.consultation_keys set max_uses = 1, current_uses = 1,"
            " first_used_at = now(), last_used_at = now()"
            " where key_code = %s",
            (exhausted,),
        )
        conn.execute(
            "update public.consultation_keys set expires_at = now() - interval '1 day'"
            " where key_code = %s",
            (expired,),
        )
        conn.execute(
            "update public.consultation_keys set is_active = false where key_code = %s",
            (inactive,),
        )
        assigned = [
            row["key_code"]
            for row in conn.execute(
                "select key_code from public.consultation_keys"
                " where assigned_to_user_id is not null order by key_code"
            ).fetchall()
        ]
        world = World(url, owner, other, fresh, throttled)
        world.key_codes = [usable, exhausted, expired, inactive, *assigned]
        world.internal = internal_names(conn)
        world.meal_types = [
            row["id"] for row in conn.execute("select id from public.meal_times order by id")
        ]
        queries = {
            "session": "select id from public.consultation_sessions where user_id = %s",
            "override": "select id from public.day_overrides where user_id = %s",
            "template": "select id from public.activity_templates where user_id = %s",
            "quick_meal": "select id from public.quick_meals where user_id = %s",
            "custom_food": "select id from public.custom_foods where user_id = %s",
            "event": "select id from public.calendar_events where user_id = %s",
            "user": "select id from auth.users where id = %s",
        }
        for kind, query in queries.items():
            world.ids[kind] = {
                "own": _ids(conn, query, owner),
                "other": _ids(conn, query, other),
            }
        # Shared foods: anyone may log them.
        foods = [str(row["id"]) for row in conn.execute("select id from public.foods limit 3")]
        world.ids["food"] = {"own": foods, "other": foods}
        conn.commit()
    # Overrides in every state: approve one and reject another as their owner would.
    with connect(url) as conn:
        session = PostgrestSession(conn)
        for user in (owner, other):
            ids = world.ids["override"]["own" if user == owner else "other"]
            assert len(ids) >= 3, ids
            with session.as_user(user) as acting:
                acting.execute("select public.approve_adjustment(%s)", (ids[0],))
                acting.execute("select public.reject_adjustment(%s)", (ids[1],))
        conn.commit()
    return world


@pytest.fixture(scope="module")
def world(pg_cluster: Cluster, template_db: str) -> Iterator[World]:
    name = create_database(pg_cluster, template=template_db)
    try:
        yield _build_world(pg_cluster.url(name))
    finally:
        drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def session(world: World) -> Iterator[PostgrestSession]:
    """One transaction for the whole module, rolled back at the end (each example: a savepoint)."""
    with connect(world.url) as conn:
        conn.autocommit = False
        try:
            yield PostgrestSession(conn)
        finally:
            conn.rollback()


# ------------------------------------------------------------------------- the contract ---


@dataclass(frozen=True)
class Arg:
    name: str
    sql_type: str
    kind: str  # what to draw: uuid kinds, "date", "timestamptz", "int", "text", …
    required: bool = False


@dataclass(frozen=True)
class Rpc:
    name: str
    args: tuple[Arg, ...]


RPCS: tuple[Rpc, ...] = (
    Rpc("complete_onboarding", ()),
    Rpc(
        "redeem_consultation_key",
        (Arg("key_code", "text", "key_code", required=True),),
    ),
    Rpc(
        "consultation_progress",
        (Arg("session_id", "uuid", "session", required=True),),
    ),
    Rpc(
        "refresh_consultation_progress",
        (
            Arg("session_id", "uuid", "session", required=True),
            Arg("engine", "text", "engine"),
            Arg("model", "text", "text"),
        ),
    ),
    Rpc(
        "approve_adjustment",
        (Arg("override_id", "uuid", "override", required=True),),
    ),
    Rpc(
        "reject_adjustment",
        (Arg("override_id", "uuid", "override", required=True),),
    ),
    Rpc(
        "undo_adjustment",
        (Arg("override_id", "uuid", "override", required=True),),
    ),
    Rpc(
        "day_kcal_adjustment",
        (Arg("user_id", "uuid", "user", required=True), Arg("day", "date", "date", True)),
    ),
    Rpc(
        "day_effective_sets",
        (Arg("user_id", "uuid", "user", required=True), Arg("day", "date", "date", True)),
    ),
    Rpc(
        "log_activity_from_template",
        (
            Arg("template_id", "uuid", "template", required=True),
            Arg("start_time", "timestamptz", "timestamptz"),
            Arg("client_id", "text", "client_id"),
        ),
    ),
    Rpc(
        "log_quick_meal",
        (
            Arg("quick_meal_id", "uuid", "quick_meal", required=True),
            Arg("logged_at", "timestamptz", "timestamptz"),
            Arg("meal_type", "text", "meal_type"),
            Arg("client_id", "text", "client_id"),
        ),
    ),
    Rpc(
        "log_meal",
        (
            Arg("meal_type", "text", "meal_type", required=True),
            Arg("items", "jsonb", "meal_items", required=True),
            Arg("logged_at", "timestamptz", "timestamptz"),
            Arg("notes", "text", "text"),
            Arg("client_id", "text", "client_id"),
        ),
    ),
    Rpc(
        "copy_meals",
        (
            Arg("from_date", "date", "date", required=True),
            Arg("to_date", "date", "date", required=True),
            Arg("time_zone", "text", "time_zone"),
        ),
    ),
    Rpc(
        "set_adherence",
        (
            Arg("event_id", "uuid", "event", required=True),
            Arg("status", "text", "adherence_status", required=True),
        ),
    ),
    Rpc(
        "search_foods",
        (Arg("query", "text", "search", required=True), Arg("max_results", "integer", "int")),
    ),
    Rpc(
        "search_exercises",
        (Arg("query", "text", "search", required=True), Arg("max_results", "integer", "int")),
    ),
)

API_DOC = PROJECT_ROOT / "docs" / "api.md"
# Every call may fail on its input (22xxx), on a constraint (23xxx), or be refused to a caller
# without the right (42501): docs/api.md, "Errors". Other codes must be in the RPC's own section.
GLOBAL_CLASSES = ("22", "23")
GLOBAL_CODES = frozenset({"42501"})
_SQLSTATE = re.compile(r"\b(PT\d{3}|P0001|42501|2[23][0-9A-Z]{3})\b")


def doc_section(name: str) -> str:
    """The docs/api.md section of RPC ``name``: the one whose heading names it, else the one
    whose text introduces it as `` `name(`` (e.g. search_foods under "Searching foods")."""
    sections = re.split(r"^(?=#{2,4} )", API_DOC.read_text(), flags=re.MULTILINE)
    for section in sections:
        heading = section.split("\n", 1)[0]
        if f"{name}(" in heading:
            return section
    for section in sections:
        if f"`{name}(" in section:
            return section
    return ""


def documented_sqlstates(name: str) -> frozenset[str]:
    return frozenset(_SQLSTATE.findall(doc_section(name))) | GLOBAL_CODES


def test_every_client_rpc_is_fuzzed_and_documented(session: PostgrestSession) -> None:
    """The list above is every function `authenticated` may execute (a new RPC needs fuzzing),
    and each has its section in docs/api.md."""
    rows = session.conn.execute(
        """
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and has_function_privilege('authenticated', p.oid, 'execute')
        order by 1
        """
    ).fetchall()
    assert sorted(row["proname"] for row in rows) == sorted(rpc.name for rpc in RPCS)
    assert [rpc.name for rpc in RPCS if not doc_section(rpc.name)] == []


# ------------------------------------------------------------------------- the arguments ---

JSON_JUNK: st.SearchStrategy[Any] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=30),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\u0000",
            "a\u0000b",
            "'; drop table public.profiles; --",
            '") or 1=1 --',
            "%",
            "_",
            "\\",
            "🏋️‍♀️ Ünïcödé ﷽",
            "\u202e\u200b",
        ]
    ),
    st.integers(min_value=1, max_value=60_000).map(lambda n: "x" * n),
)
EDGE_UUIDS = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "not-a-uuid",
    "",
    "00000000-0000-0000-0000-00000000000",
    "00000000-0000-0000-0000-0000000000000",
]
EDGE_DATES = [
    "0001-01-01",
    "4713-01-01 BC",
    "4714-11-24 BC",
    "4714-11-23 BC",
    "5874897-12-31",
    "5874898-01-01",
    "294276-12-31",
    "infinity",
    "-infinity",
    "epoch",
    "today",
    "2026-02-29",
    "2026-13-01",
    "2026-00-10",
    "",
    "31/12/2026",
]
EDGE_TIMESTAMPS = [
    "infinity",
    "-infinity",
    "4714-11-24 00:00:00+00 BC",
    "4714-11-23 00:00:00+00 BC",
    "294276-12-31 23:59:59+00",
    "294277-01-01 00:00:00+00",
    "0001-01-01T00:00:00Z",
    "2026-11-27T25:00:00Z",
    "2026-11-27T10:00:00+99:00",
    "now",
    "",
]
TIME_ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "+05:30",
    "UTC+5",
    "EST5EDT",
    "Mars/Olympus_Mons",
    "",
    "localtime",
    "Factory",
    "posixrules",
]


# The world's data sits around the seeds' day (2026-01-05) and today.
NEAR_DAYS = st.one_of(
    st.dates(min_value=dt.date(2026, 1, 3), max_value=dt.date(2026, 1, 10)),
    st.integers(min_value=-3, max_value=35).map(
        lambda n: dt.datetime.now(dt.UTC).date() + dt.timedelta(days=n)
    ),
)


def _hostile(*values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Malformed or out-of-range values of a kind, a null, or JSON of another type."""
    return st.one_of(*values, st.none(), JSON_JUNK)


def _mostly(
    valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Two draws in three from ``valid`` (the calls get deep), one from ``hostile``."""
    return st.one_of(valid, valid, hostile)


def _dates() -> st.SearchStrategy[Any]:
    return _mostly(
        NEAR_DAYS.map(str),
        _hostile(st.dates().map(str), st.sampled_from(EDGE_DATES)),
    )


def _timestamps() -> st.SearchStrategy[Any]:
    near = st.builds(
        lambda day, minutes: (
            dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=minutes)
        ),
        NEAR_DAYS,
        st.integers(min_value=0, max_value=24 * 60 - 1),
    )
    return _mostly(
        near.map(lambda d: d.isoformat()),
        _hostile(
            st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
            st.sampled_from(EDGE_TIMESTAMPS),
        ),
    )


def _uuids(world: World, kind: str) -> st.SearchStrategy[Any]:
    own, other = world.ids[kind]["own"], world.ids[kind]["other"]
    if kind == "user":
        own, other = [str(world.owner)], [str(world.other), str(world.fresh)]
    return _mostly(
        st.one_of(
            st.sampled_from(own),
            st.sampled_from(own).map(str.upper),
            st.sampled_from(own).map(lambda u: "{" + u + "}"),
            st.sampled_from(other),
        ),
        _hostile(st.uuids().map(str), st.sampled_from(EDGE_UUIDS)),
    )


def _strategy(world: World, arg: Arg) -> st.SearchStrategy[Any]:
    kind = arg.kind
    if kind in world.ids:
        return _uuids(world, kind)
    if kind == "date":
        return _dates()
    if kind == "timestamptz":
        return _timestamps()
    if kind == "int":
        return _mostly(
            st.integers(min_value=-5, max_value=120),
            _hostile(st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 10**30])),
        )
    if kind == "key_code":
        codes = world.key_codes
        return _mostly(
            st.one_of(
                st.sampled_from(codes),
                st.sampled_from(codes).map(str.lower),
                st.sampled_from(codes).map(lambda c: f" \t{c}\n"),
                st.from_regex(r"\ASHARP-[0-9]{4}-[A-Z0-9]{9}\Z"),
            ),
            _hostile(
                st.sampled_from(codes).map(lambda c: c[:-1] + "0"),
                st.sampled_from(["x" * 64, "x" * 65, "SHARP-2026-" + "A" * 60]),
                TEXT,
            ),
        )
    if kind == "engine":
        return _mostly(st.sampled_from(["offline", "openai"]), _hostile(TEXT))
    if kind == "client_id":
        return _mostly(
            st.uuids().map(str),
            _hostile(st.sampled_from(["", "x" * 200, "x" * 201, "seed-meal-owner"]), TEXT),
        )
    if kind == "meal_type":
        return _mostly(st.sampled_from([*world.meal_types, "snack"]), _hostile(TEXT))
    if kind == "time_zone":
        return _mostly(st.sampled_from(TIME_ZONES[:5]), _hostile(st.sampled_from(TIME_ZONES), TEXT))
    if kind == "adherence_status":
        return _mostly(
            st.sampled_from(["completed", "similar", "partial", "skipped"]),
            _hostile(st.sampled_from(["planned", "COMPLETED", " similar"]), TEXT),
        )
    if kind == "search":
        return _mostly(
            st.one_of(
                st.sampled_from(["chiken breast", "barbel squat", "egg", "a", "  "]),
                st.lists(st.sampled_from(["chicken", "rice", "zz", "%", "🍗"]), max_size=400).map(
                    " ".join
                ),
            ),
            _hostile(TEXT),
        )
    if kind == "meal_items":
        grams = _mostly(
            st.decimals(min_value="0.1", max_value=5000, places=1).map(float),
            _hostile(st.sampled_from([0, -1, 5000.1, 1e300, "lots"])),
        )
        item = st.one_of(
            st.fixed_dictionaries({"food_id": _uuids(world, "food"), "grams": grams}),
            st.fixed_dictionaries({"custom_food_id": _uuids(world, "custom_food"), "grams": grams}),
            st.fixed_dictionaries(
                {"food_id": _uuids(world, "food"), "grams": grams},
                optional={
                    "custom_food_id": _uuids(world, "custom_food"),
                    "serving_quantity": _hostile(st.integers(-1, 1001)),
                    "serving_description": _hostile(TEXT),
                    "kcal": _hostile(st.integers()),
                },
            ),
        )
        return _mostly(st.lists(item, min_size=1, max_size=4), _hostile(st.lists(item, max_size=0)))
    if kind == "json":
        return st.one_of(st.just({}), JSON_JUNK)
    assert kind == "text", kind
    return _mostly(st.text(max_size=40), _hostile(TEXT))


@st.composite
def _bodies(draw: st.DrawFn, world: World, rpc: Rpc) -> dict[str, Any]:
    """A request body: every required argument, each optional one present or left out."""
    body: dict[str, Any] = {}
    for arg in rpc.args:
        if arg.required or draw(st.booleans()):
            body[arg.name] = draw(_strategy(world, arg))
    return body


# ---------------------------------------------------------------------------- the calls ---


@dataclass(frozen=True)
class Caller:
    name: str
    claims: dict[str, Any]
    user_id: uuid.UUID | None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<{self.name}: sub={self.claims.get('sub')}>")


def _callers(world: World) -> list[Caller]:
    no_user = {k: v for k, v in user_claims(world.owner).items() if k not in ("sub", "email")}
    return [
        Caller("owner", user_claims(world.owner), world.owner),
        Caller("owner", user_claims(world.owner), world.owner),
        Caller("fresh", user_claims(world.fresh), world.fresh),
        Caller("throttled", user_claims(world.throttled), world.throttled),
        Caller("deleted user", user_claims(uuid.uuid4()), None),
        Caller("no user", no_user, None),
    ]


def _call_sql(rpc: Rpc, body: dict[str, Any]) -> sql.Composed:
    """PostgREST's call: the JSON body → typed arguments (json_to_record) → named arguments."""
    present = [arg for arg in rpc.args if arg.name in body]
    function = sql.Identifier("public", rpc.name)
    if not present:
        return sql.SQL("select coalesce(json_agg(r), '[]')::text from {}() as r").format(function)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(arg.name), sql.SQL(arg.sql_type)) for arg in present
    )
    named = sql.SQL(", ").join(
        sql.SQL("{0} => a.{0}").format(sql.Identifier(arg.name)) for arg in present
    )
    return sql.SQL(
        "select coalesce(json_agg(r), '[]')::text"
        " from json_to_record(%s::json) as a ({columns}), lateral {function}({named}) as r"
    ).format(columns=columns, function=function, named=named)


@dataclass
class Outcome:
    error: psycopg.Error | None = None
    status: int | None = None  # response.status, when the function set one
    result: Any = None


def _run(
    session: PostgrestSession, caller: Caller, query: sql.Composed, body: dict[str, Any]
) -> Outcome:
    """One request as PostgREST runs it: a failed call is rolled back (its savepoint)."""
    outcome = Outcome()
    payload = json.dumps(body)
    try:
        with session._acting("authenticated", caller.claims, {"user-agent": "fuzz"}, "POST") as c:
            # PostgREST applies the role's settings per request: authenticated's statement_timeout.
            c.execute("select set_config('statement_timeout', %s, true)", (STATEMENT_TIMEOUT,))
            row = c.execute(query, (payload,) if body else ()).fetchone()
            status = c.execute("select current_setting('response.status', true) as s").fetchone()
            assert row is not None
            assert status is not None
            outcome.result = json.loads(row["coalesce"])
            outcome.status = int(status["s"]) if status["s"] else None
    except psycopg.Error as exc:
        outcome.error = exc
    return outcome


def _describe(outcome: Outcome) -> str:
    if outcome.error is not None:
        return f"error {outcome.error.sqlstate}"
    if outcome.status is not None:
        return f"refusal {outcome.status}"
    return "success"


def _check_error(world: World, rpc: Rpc, body: dict[str, Any], exc: psycopg.Error) -> None:
    sqlstate = exc.sqlstate or ""
    documented = sqlstate in documented_sqlstates(rpc.name) or sqlstate[:2] in GLOBAL_CLASSES
    assert documented, f"{rpc.name}: undocumented SQLSTATE {sqlstate}: {exc.diag.message_primary}"
    status = status_for_sqlstate(sqlstate, authenticated=True)
    assert 400 <= status < 500, f"{rpc.name}: {sqlstate} answers {status}"
    diag = exc.diag
    text = " | ".join(
        part or "" for part in (diag.message_primary, diag.message_detail, diag.message_hint)
    )
    found = leaks(text, echoed=body, internal=world.internal)
    assert not found, f"{rpc.name}: {sqlstate} leaks {found}: {text}"


def _check_refusal(
    rpc: Rpc, caller: Caller, outcome: Outcome, before: Checksums, after: Checksums
) -> None:
    """A refusal the function answers itself (response.status): body and recorded attempt."""
    assert rpc.name == "redeem_consultation_key", f"{rpc.name} set response.status"
    body = outcome.result[0]
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["details"], dict), error
    assert REFUSAL_STATUS[error["code"]] == outcome.status, error
    assert not leaks(error["message"]), error
    attempts = ("private.consultation_key_attempts", str(caller.user_id))
    expected = set() if error["code"] == "too_many_attempts" else {attempts}
    assert changed(before, after) == expected, (error, changed(before, after))
    if expected:
        assert after[attempts][0] == before.get(attempts, (0, ""))[0] + 1


def _check_success(caller: Caller, before: Checksums, after: Checksums, rpc: Rpc) -> None:
    """A success touches the caller's rows only (a redeemed key counts its use)."""
    mine = str(caller.user_id)
    foreign = {
        key
        for key in changed(before, after)
        if key[1] != mine
        and not (rpc.name == "redeem_consultation_key" and key[0] == "public.consultation_keys")
    }
    assert not foreign, f"{rpc.name} as {caller.name} changed rows of others: {sorted(foreign)}"


@pytest.fixture(scope="module")
def baseline(session: PostgrestSession) -> Checksums:
    """The world every example starts from (each example is rolled back)."""
    return checksum(session.conn)


@pytest.mark.parametrize("rpc", RPCS, ids=[rpc.name for rpc in RPCS])
@settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_RPC)
@given(data=st.data())
def test_rpc_rejections_are_documented_and_change_nothing(
    world: World, session: PostgrestSession, baseline: Checksums, rpc: Rpc, data: st.DataObject
) -> None:
    caller = data.draw(st.sampled_from(_callers(world)), label="caller")
    body = data.draw(_bodies(world, rpc), label="body")
    with session.conn.transaction(force_rollback=True):
        outcome = _run(session, caller, _call_sql(rpc, body), body)
        after = checksum(session.conn)
    event(f"as {caller.name}: {_describe(outcome)}")
    if outcome.error is not None:
        _check_error(world, rpc, body, outcome.error)
        assert changed(baseline, after) == set(), "a rejected call left changes behind"
    elif outcome.status is not None and outcome.status >= 400:
        _check_refusal(rpc, caller, outcome, baseline, after)
    else:
        _check_success(caller, baseline, after, rpc)


def test_the_examples_left_the_world_as_it_was(
    session: PostgrestSession, baseline: Checksums
) -> None:
    assert checksum(session.conn) == baseline


SERVICE_ONLY = (
    Rpc("mint_consultation_keys", (Arg("how_many", "integer", "int", True),)),
    Rpc("store_program_bundle", (Arg("bundle", "jsonb", "json", True),)),
)


@pytest.mark.parametrize("rpc", SERVICE_ONLY, ids=[rpc.name for rpc in SERVICE_ONLY])
def test_service_only_functions_refuse_every_user(
    world: World, session: PostgrestSession, baseline: Checksums, rpc: Rpc
) -> None:
    body: dict[str, Any] = {rpc.args[0].name: 1 if rpc.args[0].sql_type == "integer" else {}}
    for caller in _callers(world):
        with session.conn.transaction(force_rollback=True):
            outcome = _run(session, caller, _call_sql(rpc, body), body)
            after = checksum(session.conn)
        assert outcome.error is not None, (rpc.name, caller.name)
        assert outcome.error.sqlstate == "42501", outcome.error
        assert changed(baseline, after) == set()


@pytest.mark.parametrize(("name", "word"), [("search_foods", "egg"), ("search_exercises", "press")])
def test_search_cost_does_not_grow_with_the_query(
    world: World, session: PostgrestSession, name: str, word: str
) -> None:
    """Only the query's first 200 characters count, so the longest query a request can carry
    (about 1 MB) costs what a short one does, far within the statement timeout. (The fuzzed
    queries above are short: one such call takes the whole timeout when it fails.)"""
    rpc = next(rpc for rpc in RPCS if rpc.name == name)
    caller = _callers(world)[0]
    body = {"query": f"{word} " * (1_000_000 // (len(word) + 1)), "max_results": 100}
    started = time.monotonic()
    with session.conn.transaction(force_rollback=True):
        outcome = _run(session, caller, _call_sql(rpc, body), body)
    seconds = time.monotonic() - started
    assert outcome.error is None, f"{name}: {outcome.error.sqlstate} after {seconds:.1f} s"
    assert seconds < 2, f"{name} took {seconds:.1f} s"
