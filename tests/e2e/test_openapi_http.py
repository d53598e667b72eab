"""The OpenAPI document against the real functions, over HTTP through the gateway.

``GET /functions/v1/openapi.json`` serves docs/openapi.yaml without a token; every
function answers a real request with a body that validates against the document's
schema for that status (200 answers against the answer model, errors against the
error shape with the codes documented for that status).

The functions server here has its own database (a copy of the template), so the
programs made due and the reassessment run do not touch the shared e2e database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import psycopg
import pytest
import yaml

from harness import create_database, drop_database, functions_server
from sharpened.auth import api_key, mint_user_token, user_claims
from sharpened.consultation.script import SCRIPTED_CONSULTATION
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.openapi import SPEC_PATH
from sharpened.pgcluster import Cluster
from sharpened.users import create_user

pytestmark = pytest.mark.e2e

ONBOARDING = """
update public.profiles set sex = 'male', date_of_birth = '1994-02-01', height_cm = 180.5,
    weight_kg = 80.25, body_fat_pct = 18.5, activity_level = 'moderate',
    primary_goal = 'fat_loss', goal_rate_pct_per_week = 0.5, experience_level = 'intermediate',
    workout_frequency = 3, dietary_preference = 'omnivore', meals_per_day = 4,
    allergies = '{peanuts}'
where id = %s
"""


@dataclass
class Stack:
    base: str
    db_url: str


@dataclass
class User:
    id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_user_token(self.id)}"}


@pytest.fixture(scope="module")
def stack(
    pg_cluster: Cluster, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A functions server on a database of its own, roomy enough for a whole consultation."""
    name = create_database(pg_cluster, template=template_db)
    db_url = pg_cluster.url(name)
    log_path = tmp_path_factory.mktemp("openapi") / "functions.log"
    try:
        limits = {"SHARPENED_CHAT_MESSAGES_PER_MINUTE": "100"}
        with functions_server(db_url, log_path, limits) as (_, base):
            yield Stack(base, db_url)
    finally:
        drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def spec(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.base}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def signup(stack: Stack, *, onboarded: bool = True) -> User:
    with psycopg.connect(stack.db_url) as conn:
        user_id = create_user(conn, f"openapi-{uuid.uuid4().hex[:8]}@example.test")
        if onboarded:
            conn.execute(ONBOARDING, (user_id,))
    return User(user_id)


def consultation_session(stack: Stack, user: User) -> uuid.UUID:
    database = Database(stack.db_url, min_size=1, max_size=1)
    try:
        key = mint_keys_as_service(database, 1)[0]
        with database.as_user(user_claims(user.id), headers={"user-agent": "pytest"}) as conn:
            return redeem_key(conn, key.key_code).session_id
    finally:
        database.close()


def conforms(spec: dict[str, Any], name: str, response: httpx.Response) -> Any:
    """The body of ``response`` after checking it is documented and valid for its status."""
    method = response.request.method.lower()
    operation = spec["paths"][f"/{name}"][method]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} /{name} answered {status}, which the document does not list: "
        f"{response.text[:500]}"
    )
    documented = operation["responses"][status]
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    body = response.json()
    schema = {
        **documented["content"]["application/json"]["schema"],
        "components": spec["components"],
    }
    checker = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in checker.iter_errors(body)]
    assert not problems, f"{method.upper()} /{name} {status}: {problems}"
    return body


def error_code(spec: dict[str, Any], name: str, response: httpx.Response) -> str:
    body = conforms(spec, name, response)
    assert response.status_code >= 400
    code: str = body["error"]["code"]
    return code


def test_the_document_is_served_without_a_token(stack: Stack, spec: dict[str, Any]) -> None:
    assert spec == yaml.safe_load(SPEC_PATH.read_text())
    response = httpx.get(f"{stack.base}/openapi.json", timeout=30)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert httpx.options(f"{stack.base}/openapi.json", timeout=30).status_code == 204
    refused = httpx.post(f"{stack.base}/openapi.json", json={}, timeout=30)
    assert refused.status_code == 405
    assert refused.json()["error"]["code"] == "method_not_allowed"


def test_health(stack: Stack, spec: dict[str, Any]) -> None:
    url = f"{stack.base}/health"
    body = conforms(spec, "health", httpx.get(url, timeout=30))
    assert body["status"] == "ok"
    anon = httpx.get(url, headers={"Authorization": f"Bearer {api_key('anon')}"}, timeout=30)
    assert conforms(spec, "health", anon)["database"]["reachable"] is True
    bad = httpx.get(url, headers={"Authorization": "Bearer not-a-jwt"}, timeout=30)
    assert error_code(spec, "health", bad) == "invalid_token"


def test_me(stack: Stack, spec: dict[str, Any]) -> None:
    user = signup(stack)
    url = f"{stack.base}/me"
    profile = conforms(spec, "me", httpx.get(url, headers=user.headers, timeout=30))["profile"]
    assert profile["id"] == str(user.id)
    assert profile["height_cm"] == "180.5"  # numerics travel as decimal strings
    assert profile["allergies"] == ["peanuts"]
    fresh = signup(stack, onboarded=False)  # nulls where nothing was answered yet
    assert (
        conforms(spec, "me", httpx.get(url, headers=fresh.headers, timeout=30))["profile"]["sex"]
        is None
    )

    def code(headers: dict[str, str]) -> str:
        return error_code(spec, "me", httpx.get(url, headers=headers, timeout=30))

    assert code({}) == "missing_token"
    assert code({"Authorization": f"Bearer {api_key('service_role')}"}) == "user_token_required"
    expired = mint_user_token(user.id, expires_in=-60)
    assert code({"Authorization": f"Bearer {expired}"}) == "token_expired"
    assert code(User(uuid.uuid4()).headers) == "not_found"  # a valid token, no profile


def test_generate_program(stack: Stack, spec: dict[str, Any]) -> None:
    user = signup(stack)
    url = f"{stack.base}/generate-program"
    start = dt.date(2026, 12, 7)
    answer = httpx.post(
        url,
        headers=user.headers,
        json={"start_date": start.isoformat(), "duration_weeks": 2},
        timeout=60,
    )
    summary = conforms(spec, "generate-program", answer)
    assert summary["program_start_date"] == start.isoformat()
    assert {event["event_type"] for event in summary["first_week"]} == {"training", "meal"}
    assert summary["weekly_schedule"]

    def post(headers: dict[str, str], **kwargs: Any) -> str:
        return error_code(spec, "generate-program", httpx.post(url, headers=headers, **kwargs))

    assert post(user.headers, json={"duration_weeks": 53}) == "validation_failed"
    assert post(user.headers, json={"duration_weeks": "4"}) == "validation_failed"
    assert post(user.headers, json={"start_date": "20261207"}) == "validation_failed"
    assert post(user.headers, content=b"{not json", timeout=30) == "invalid_json"
    assert post(user.headers, content=b"", timeout=30) == "invalid_json"
    not_onboarded = signup(stack, onboarded=False).headers
    assert post(not_onboarded, json={}, timeout=60) == "profile_incomplete"


def test_consultation_chat_and_complete(stack: Stack, spec: dict[str, Any]) -> None:
    user = signup(stack)
    session_id = str(consultation_session(stack, user))
    chat = f"{stack.base}/consultation-chat"
    complete = f"{stack.base}/consultation-complete"

    def turn(message: str, session: str = session_id) -> httpx.Response:
        return httpx.post(
            chat, headers=user.headers, json={"session_id": session, "message": message}, timeout=60
        )

    early = httpx.post(complete, headers=user.headers, json={"session_id": session_id}, timeout=60)
    assert error_code(spec, "consultation-complete", early) == "consultation_incomplete"
    assert error_code(spec, "consultation-chat", turn("   ")) == "empty_message"
    assert error_code(spec, "consultation-chat", turn("x" * 2001)) == "message_too_long"
    assert error_code(spec, "consultation-chat", turn("hi", str(uuid.uuid4()))) == (
        "session_not_found"
    )
    assert error_code(spec, "consultation-chat", turn("hi", uuid.uuid4().hex)) == (
        "validation_failed"
    )
    huge = httpx.post(
        chat,
        headers={**user.headers, "Content-Type": "application/json"},
        content=b'{"message": "' + b"x" * 1_100_000 + b'"}',
        timeout=60,
    )
    assert error_code(spec, "consultation-chat", huge) == "payload_too_large"

    for message in SCRIPTED_CONSULTATION:
        body = conforms(spec, "consultation-chat", turn(message))
    assert body["progress"] == 100

    done = httpx.post(
        complete,
        headers=user.headers,
        json={"session_id": session_id, "start_date": "2026-12-07"},
        timeout=60,
    )
    summary = conforms(spec, "consultation-complete", done)
    assert summary["source"] == "consultation"
    unknown = httpx.post(
        complete, headers=user.headers, json={"session_id": str(uuid.uuid4())}, timeout=60
    )
    assert error_code(spec, "consultation-complete", unknown) == "session_not_found"
    closed = turn("one more thing")
    assert error_code(spec, "consultation-chat", closed) == "session_closed"


def test_coach_chat(stack: Stack, spec: dict[str, Any]) -> None:
    user = signup(stack)
    url = f"{stack.base}/coach-chat"
    first = conforms(
        spec,
        "coach-chat",
        httpx.post(url, headers=user.headers, json={"message": "How much protein?"}, timeout=60),
    )
    again = httpx.post(
        url,
        headers=user.headers,
        json={"conversation_id": first["conversation_id"], "message": "And carbs?"},
        timeout=60,
    )
    assert conforms(spec, "coach-chat", again)["conversation_id"] == first["conversation_id"]
    unknown = httpx.post(
        url,
        headers=user.headers,
        json={"conversation_id": str(uuid.uuid4()), "message": "hello"},
        timeout=60,
    )
    assert error_code(spec, "coach-chat", unknown) == "conversation_not_found"
    extra = httpx.post(url, headers=user.headers, json={"message": "hi", "x": 1}, timeout=60)
    assert error_code(spec, "coach-chat", extra) == "validation_failed"
    nul = httpx.post(url, headers=user.headers, json={"message": "a\u0000b"}, timeout=60)
    assert error_code(spec, "coach-chat", nul) == "validation_failed"  # not a database 500


def test_reassess(stack: Stack, spec: dict[str, Any]) -> None:
    user = signup(stack)
    today = dt.datetime.now(dt.UTC).date()
    generated = httpx.post(
        f"{stack.base}/generate-program",
        headers=user.headers,
        json={"start_date": (today - dt.timedelta(days=14)).isoformat(), "duration_weeks": 4},
        timeout=60,
    )
    assert generated.status_code == 200, generated.text
    with psycopg.connect(stack.db_url) as conn:
        queued = conn.execute("select private.enqueue_due_reassessments()").fetchone()
    assert queued is not None
    assert queued[0] >= 1
    url = f"{stack.base}/reassess"
    service = {"Authorization": f"Bearer {api_key('service_role')}"}
    totals = conforms(spec, "reassess", httpx.post(url, headers=service, json={}, timeout=120))
    assert totals["claimed"] >= 1
    assert totals["done"] + totals["already_done"] + totals["failed"] >= 1
    empty = httpx.post(url, headers=service, timeout=120)  # no body at all is fine
    assert conforms(spec, "reassess", empty)["claimed"] == 0

    def post(headers: dict[str, str], body: Any) -> str:
        return error_code(spec, "reassess", httpx.post(url, headers=headers, json=body, timeout=30))

    assert post({}, {}) == "missing_token"
    assert post(user.headers, {}) == "permission_denied"
    assert post(service, {"batch_size": 0}) == "validation_failed"
    assert post(service, {"batch_size": True}) == "validation_failed"


def test_refused_methods_answer_the_error_shape(stack: Stack, spec: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/ErrorResponse", "components": spec["components"]}
    for path, item in spec["paths"].items():
        wrong = "PUT" if "put" not in item else "PATCH"
        response = httpx.request(wrong, f"{stack.base}{path}", timeout=30)
        assert response.status_code == 405, path
        jsonschema.validate(response.json(), schema)
        assert response.json()["error"]["code"] == "method_not_allowed"
