"""Fuzzing the functions over real HTTP, from their OpenAPI spec (docs/openapi.yaml).

A functions server of its own (``sharpened functions serve``) runs against a database of its
own, so that nothing but the fuzzed requests writes to it. Two generators:

- **schemathesis**, from the spec the server itself serves (``GET /functions/v1/openapi.json``):
  for each operation, bodies that match its request schema and bodies that violate it (wrong
  types, missing and extra fields, out-of-range numbers, malformed uuids and dates, long and
  unicode strings), sent with a valid token for the operation (a user's; the service role's for
  ``reassess``). The caller's real session and conversation ids, another user's and a closed
  session's are swapped in, so that valid-shaped requests get past the lookups. schemathesis
  checks every answer against the spec (documented status and error code, response schema,
  content type, headers; schema-violating input refused with a 4xx).
- **hypothesis over raw requests**, for what a spec cannot describe: bodies that are not JSON or
  not UTF-8, empty and oversized bodies, deeply nested JSON, NUL and lone surrogates, other
  content types, wrong methods and malformed ``Authorization`` headers.

Every answer: status < 500; JSON; a 4xx is exactly ``{"error": {"code", "message",
"details"}}``; no stack trace, SQL or driver text anywhere in it (headers included); and a 4xx
left the database unchanged (a checksum of every writable table before and after).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from harness import (
    create_database,
    drop_database,
    functions_server,
)
from sharpened.auth import api_key, mint_user_token, user_claims
from sharpened.db import Database
from sharpened.gateway import function_names
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.pgcluster import Cluster
from sharpened.settings import PROJECT_ROOT
from sharpened.users import create_user

from .conftest import FUZZ_SETTINGS, DatabaseWatch, has_stack_trace, leaks

pytestmark = pytest.mark.e2e

SPEC = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text())
OPERATIONS = [
    (method.upper(), path, operation.get("x-auth", "user"))
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
]
# Examples per operation. generate-program's valid requests each store a program (the slowest
# call); the others mostly answer from their checks.
MAX_EXAMPLES = {"/generate-program": 10, "/reassess": 20}
DEFAULT_EXAMPLES = 30
RAW_EXAMPLES = 70

ONBOARDED = """
update public.profiles set sex = 'female', date_of_birth = '1992-04-01', height_cm = 168,
    weight_kg = 66, activity_level = 'light', primary_goal = 'maintenance',
    experience_level = 'beginner', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 3
where id = %s
"""

# The checks of schemathesis that judge one answer. Left out: positive_data_acceptance (a
# schema-valid body may break a business rule: 404 session_not_found, 422 empty_message, …) and
# the checks that send requests of their own (ignored_auth, use_after_free, …): the auth attacks
# have their own tests, and every request here must be one the database checksum accounts for.
SCHEMA_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
]


@dataclass
class Stack:
    """The functions server, its database and the callers' tokens and ids."""

    base: str
    db_url: str
    user_token: str
    service_token: str
    anon_key: str
    watch: DatabaseWatch
    ids: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<functions at {self.base}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def auth_headers(self, auth: str) -> dict[str, str]:
        token = {"user": self.user_token, "service": self.service_token}.get(auth, self.anon_key)
        return {"Authorization": f"Bearer {token}", "apikey": self.anon_key}


def _redeem(database: Database, user: uuid.UUID) -> uuid.UUID:
    key = mint_keys_as_service(database, 1)[0]
    with database.as_user(user_claims(user), headers={"user-agent": "fuzz"}) as conn:
        return redeem_key(conn, key.key_code).session_id


def _prepare(db_url: str, base: str) -> Stack:
    with psycopg.connect(db_url) as conn:
        owner = create_user(conn, "fuzz-owner@example.test")
        other = create_user(conn, "fuzz-other@example.test")
        for user in (owner, other):
            conn.execute(ONBOARDED, (user,))
    database = Database(db_url, min_size=1, max_size=1)
    try:
        closed = _redeem(database, owner)
        with psycopg.connect(db_url) as conn:
            conn.execute(
                "update public.consultation_sessions set status = 'abandoned' where id = %s",
                (closed,),
            )
        own_session = _redeem(database, owner)
        other_session = _redeem(database, other)
    finally:
        database.close()
    with psycopg.connect(db_url) as conn:
        conversations = {
            name: str(
                conn.execute(
                    "insert into public.coach_conversations (user_id, title, archived_at)"
                    " values (%s, %s, %s) returning id",
                    (user, name, archived),
                ).fetchone()[0]  # type: ignore[index]
            )
            for name, user, archived in (
                ("own", owner, None),
                ("archived", owner, "2026-01-01T00:00:00Z"),
                ("other", other, None),
            )
        }
    stack = Stack(
        base=base,
        db_url=db_url,
        user_token=mint_user_token(owner),
        service_token=api_key("service_role"),
        anon_key=api_key("anon"),
        watch=DatabaseWatch(db_url),
    )
    stack.ids = {
        "session:own": str(own_session),
        "session:closed": str(closed),
        "session:other": str(other_session),
        **{f"conversation:{name}": value for name, value in conversations.items()},
    }
    return stack


@pytest.fixture(scope="module")
def stack(
    pg_cluster: Cluster, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    name = create_database(pg_cluster, template=template_db)
    db_url = pg_cluster.url(name)
    log_path = tmp_path_factory.mktemp("fuzz-functions") / "functions.log"
    # Chat limits out of the way: the fuzzer sends hundreds of messages in a minute.
    limits = {
        "SHARPENED_CHAT_MESSAGES_PER_MINUTE": "1000000",
        "SHARPENED_CHAT_MESSAGES_PER_THREAD": "1000000",
    }
    try:
        with functions_server(db_url, log_path, limits) as (_, base):
            prepared = _prepare(db_url, base)
            try:
                yield prepared
            finally:
                prepared.watch.close()
    finally:
        drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def served_schema(stack: Stack) -> Any:
    """The spec as the server serves it, aimed at this server."""
    answer = httpx.get(f"{stack.base}/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    return schemathesis.openapi.from_dict(answer.json())


# ----------------------------------------------------------------------- the invariants ---


def check_answer(
    stack: Stack, status: int, headers: dict[str, str], text: str, *, what: str
) -> None:
    """The answer's contract, and the database after it (a 4xx must have changed nothing).

    Call ``stack.watch.before()`` right before sending the request."""
    changes = stack.watch.changes()
    event(f"{what}: {status}")
    assert status < 500, f"{what}: {status} {text[:500]}"
    everything = text + "\n" + "\n".join(f"{k}: {v}" for k, v in headers.items())
    assert not has_stack_trace(everything), f"{what}: a stack trace in the answer: {text[:500]}"
    assert not leaks(everything), (
        f"{what}: internals in the answer {leaks(everything)}: {text[:500]}"
    )
    if status == 204:
        return
    assert headers.get("content-type", "").startswith("application/json"), headers
    body = json.loads(text)
    if status >= 400:
        assert isinstance(body, dict), body
        assert set(body) == {"error"}, body
        error = body["error"]
        assert isinstance(error, dict), body
        assert set(error) == {"code", "message", "details"}, body
        assert isinstance(error["code"], str), body
        assert isinstance(error["message"], str), body
        assert error["code"], body
        assert error["message"], body
        assert changes == set(), f"{what}: {status} changed {sorted(changes)}"


# --------------------------------------------------------------- schemathesis, from the spec ---


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _with_known_ids(case: Any, choice: str | None, stack: Stack) -> Any:
    """Swap a generated session / conversation id for a real one (own, closed, another user's).

    Only a well-formed id is swapped: a malformed one is what a schema-violating case is about.
    """
    if choice is None or not isinstance(case.body, dict):
        return case
    for key, kind in (("session_id", "session"), ("conversation_id", "conversation")):
        value = stack.ids.get(f"{kind}:{choice}")
        if value is not None and _is_uuid(case.body.get(key)):
            case.body[key] = value
    return case


@pytest.mark.parametrize(
    ("method", "path", "auth"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_spec_driven_requests_get_documented_answers(
    stack: Stack, served_schema: Any, method: str, path: str, auth: str
) -> None:
    operation = served_schema.find_operation_by_path(method, path)
    headers = stack.auth_headers(auth)
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
    )
    choices = st.sampled_from([None, None, "own", "own", "closed", "other", "archived"])

    @settings(FUZZ_SETTINGS, max_examples=MAX_EXAMPLES.get(path, DEFAULT_EXAMPLES))
    @given(case=cases, choice=choices)
    def run(case: Any, choice: str | None) -> None:
        case = _with_known_ids(case, choice, stack)
        stack.watch.before()
        response = case.call(base_url=stack.base, headers=headers, timeout=120)
        check_answer(
            stack,
            response.status_code,
            {k.lower(): ", ".join(v) for k, v in response.headers.items()},
            response.text,
            what=f"{method} {path}",
        )
        case.validate_response(response, checks=SCHEMA_CHECKS, headers=headers)

    run()


# ------------------------------------------------------------- hypothesis, raw requests ---

NESTING = st.integers(min_value=1, max_value=200_000)
RAW_BODIES: st.SearchStrategy[bytes] = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"null",
            b"[]",
            b"{}",
            b'"x"',
            b"1e999",
            b"{",
            b"\xef\xbb\xbf{}",
            b"\xff\xfe{\x00}\x00",
            b'{"message": "\\ud800"}',
            b'{"message": "\\u0000"}',
            b'{"message": "a", "message": "b"}',
            b'{"batch_size": NaN}',
            b'{"batch_size": 1e999}',
            b'{"start_date": "2026-02-30"}',
            b'{"duration_weeks": 9223372036854775808}',
            b"message=hello",
        ]
    ),
    NESTING.map(lambda n: b"[" * n + b"]" * n),
    NESTING.map(lambda n: b'{"message": ' + b"[" * n + b"]" * n + b"}"),
    st.sampled_from([999_999, 1_000_000, 1_000_001, 1_500_000]).map(
        lambda n: b'{"message": "' + b"x" * (n - 15) + b'"}'
    ),
    st.dictionaries(
        st.sampled_from(
            [
                "message",
                "session_id",
                "conversation_id",
                "start_date",
                "duration_weeks",
                "batch_size",
                "extra",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=50),
            st.uuids().map(str),
            st.dates().map(str),
        ),
        max_size=4,
    ).map(lambda d: json.dumps(d).encode()),
)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ]
)
METHODS = st.sampled_from(["GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])


def _authorizations(stack: Stack, auth: str) -> st.SearchStrategy[str | None]:
    good = stack.auth_headers(auth)["Authorization"]
    return st.one_of(
        st.just(good),
        st.just(good),
        st.sampled_from(
            [
                None,
                "Bearer",
                "bearer " + "y" * 20,
                "Basic Zm9vOmJhcg==",
                "Bearer a.b.c",
                "Bearer " + "x" * 10_000,
                good + "x",
                good.lower(),
            ]
        ),
    )


@pytest.mark.parametrize(
    ("method", "path", "auth"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_raw_requests_get_the_error_shape(stack: Stack, method: str, path: str, auth: str) -> None:
    url = f"{stack.base}{path}"

    @settings(FUZZ_SETTINGS, max_examples=RAW_EXAMPLES // len(OPERATIONS) + 1)
    @given(
        verb=st.one_of(st.just(method), METHODS),
        body=RAW_BODIES,
        content_type=CONTENT_TYPES,
        authorization=_authorizations(stack, auth),
    )
    def run(verb: str, body: bytes, content_type: str | None, authorization: str | None) -> None:
        headers = {"apikey": stack.anon_key}
        if content_type:
            headers["Content-Type"] = content_type
        if authorization is not None:
            headers["Authorization"] = authorization
        stack.watch.before()
        response = httpx.request(verb, url, content=body, headers=headers, timeout=120)
        if verb == "HEAD":
            assert response.status_code < 500
            return
        check_answer(
            stack,
            response.status_code,
            dict(response.headers),
            response.text,
            what=f"{verb} {path}",
        )

    run()


def test_every_function_is_fuzzed() -> None:
    """The fuzzing covers every function the gateway serves (a new one must be in the spec)."""
    assert {path.lstrip("/") for _, path, _ in OPERATIONS} == set(function_names())
