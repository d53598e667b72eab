"""Bodies built to hurt: over the size limit (with a Content-Length or streamed in chunks),
deeply nested, huge arrays and numbers, the wrong content type, bytes that are not UTF-8.

The documented answers (docs/api.md, Functions; ``SHARPENED_MAX_BODY_BYTES``, 1,000,000 bytes
by default): over the limit → 413 ``payload_too_large``; not JSON → 400 ``invalid_json``; JSON of
the wrong shape → 422 ``validation_failed``; never a 5xx, never a stack trace, and nothing
written (the whole database, the victim's rows included, per module).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from security.support import Attacker, Victim, assert_error_shape, bearer
from sharpened.auth import api_key
from sharpened.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("world_unchanged")]

LIMIT = get_settings().max_body_bytes

# Each function that reads a body -> a valid body aimed at the attacker's own data.
POST_FUNCTIONS = ["consultation-chat", "coach-chat", "consultation-complete", "generate-program"]


def body_for(function: str, victim: Victim) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "consultation-chat": {"session_id": victim.ids["session_id"], "message": "hi"},
        "coach-chat": {"message": "hi"},
        "consultation-complete": {"session_id": victim.ids["session_id"]},
        "generate-program": {"duration_weeks": 1},
        "reassess": {"batch_size": 1},
    }
    return bodies[function]


def headers_for(function: str, attacker: Attacker) -> dict[str, str]:
    token = api_key("service_role") if function == "reassess" else attacker.token
    return {**bearer(token), "Content-Type": "application/json"}


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` with a filler string so the JSON is ``size`` bytes long."""
    raw = json.dumps({**body, "message": ""}).encode()
    filler = size - len(raw)
    return json.dumps({**body, "message": "x" * filler}).encode()


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def messages_of(db_url: str, attacker: Attacker) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select (select count(*) from public.coach_messages where user_id = %(u)s)"
            " + (select count(*) from public.consultation_messages where user_id = %(u)s)",
            {"u": attacker.user_id},
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("function", [*POST_FUNCTIONS, "reassess"])
def test_a_body_over_the_limit_is_refused_413(
    attack_url: str, victim: Victim, attacker: Attacker, function: str
) -> None:
    data = padded(body_for(function, victim), LIMIT + 1)
    assert len(data) == LIMIT + 1
    response = httpx.post(
        f"{attack_url}/{function}",
        headers=headers_for(function, attacker),
        content=data,
        timeout=60,
    )
    assert_error_shape(response, 413, "payload_too_large")


@pytest.mark.parametrize("function", [*POST_FUNCTIONS, "reassess"])
def test_a_streamed_body_over_the_limit_is_refused_413(
    attack_url: str, e2e_db: str, victim: Victim, attacker: Attacker, function: str
) -> None:
    """Chunked transfer: no Content-Length to check up front; the body is still over 1 MB."""
    before = messages_of(e2e_db, attacker)
    data = padded(body_for(function, victim), 3 * LIMIT)
    response = httpx.post(
        f"{attack_url}/{function}",
        headers=headers_for(function, attacker),
        content=chunks(data),
        timeout=60,
    )
    assert_error_shape(response, 413, "payload_too_large")
    assert messages_of(e2e_db, attacker) == before


def test_a_body_at_the_limit_is_read(attack_url: str, attacker: Attacker) -> None:
    """The limit is the documented one: exactly 1,000,000 bytes is parsed (then validated)."""
    data = padded({}, LIMIT)
    response = httpx.post(
        f"{attack_url}/coach-chat", headers=headers_for("coach-chat", attacker), content=data
    )
    assert_error_shape(response, 413, "message_too_long")


def nested(depth: int) -> bytes:
    return b'{"message": ' + b"[" * depth + b"]" * depth + b"}"


BAD_BODIES: dict[str, tuple[bytes, int, str]] = {
    "nested-arrays": (nested(100_000), 400, "invalid_json"),
    "nested-objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "invalid_json"),
    "nested-within-parser-limits": (nested(100), 422, "validation_failed"),
    "huge-array-unknown-key": (
        json.dumps({"message": "hi", "x": list(range(100_000))}).encode(),
        422,
        "validation_failed",
    ),
    "message-a-huge-array": (
        json.dumps({"message": ["hi"] * 100_000}).encode(),
        422,
        "validation_failed",
    ),
    "many-keys": (
        json.dumps({f"k{i}": i for i in range(50_000)} | {"message": "hi"}).encode(),
        422,
        "validation_failed",
    ),
    "huge-integer": (b'{"duration_weeks": ' + b"9" * 100_000 + b"}", 400, "invalid_json"),
    "huge-float": (b'{"duration_weeks": 1e999999}', 422, "validation_failed"),
    "nan": (b'{"duration_weeks": NaN}', 422, "validation_failed"),
    "not-utf8": (b'{"message": "\xff\xfe\xfa"}', 400, "invalid_json"),
    "utf16": ('{"message": "hi"}'.encode("utf-16"), 400, "invalid_json"),
    "truncated": (b'{"message": "hi', 400, "invalid_json"),
    "a-list": (b"[]", 422, "validation_failed"),
    "a-string": (b'"hi"', 422, "validation_failed"),
    "null": (b"null", 422, "validation_failed"),
    "empty": (b"", 400, "invalid_json"),
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_a_hostile_body_is_a_clean_client_error(
    attack_url: str, e2e_db: str, attacker: Attacker, kind: str
) -> None:
    data, status, code = BAD_BODIES[kind]
    function = "generate-program" if "duration_weeks" in data.decode("latin-1") else "coach-chat"
    before = messages_of(e2e_db, attacker)
    response = httpx.post(
        f"{attack_url}/{function}",
        headers=headers_for(function, attacker),
        content=data,
        timeout=60,
    )
    assert_error_shape(response, status, code)
    assert len(response.content) < 10_000, "the error echoes the hostile body"
    assert messages_of(e2e_db, attacker) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        None,
    ],
)
def test_the_wrong_content_type_is_never_a_server_error(
    attack_url: str, e2e_db: str, attacker: Attacker, content_type: str | None
) -> None:
    headers = bearer(attacker.token) | ({"Content-Type": content_type} if content_type else {})
    message = f"content type {content_type}"
    response = httpx.post(
        f"{attack_url}/coach-chat",
        headers=headers,
        content=json.dumps({"message": message}).encode(),
        timeout=30,
    )
    if response.status_code == 200:
        with psycopg.connect(e2e_db) as conn:
            row = conn.execute(
                "select count(*) from public.coach_messages where user_id = %s and content = %s",
                (attacker.user_id, message),
            ).fetchone()
        assert row == (1,)
    else:
        assert response.status_code in (400, 415, 422), response.text
        assert_error_shape(response, response.status_code)


@pytest.mark.parametrize(
    ("message", "status"),
    [
        pytest.param("\U0001f4aa" * 2000, 200, id="2000-emoji-8000-bytes"),
        pytest.param("\U0001f4aa" * 2001, 413, id="2001-emoji"),
        pytest.param(" " * 100_000 + "hi", 200, id="padding-stripped"),
        pytest.param("\u200b" * 2001, 413, id="2001-zero-width-spaces"),
    ],
)
def test_message_length_counts_characters_after_stripping(
    attack_url: str, attacker: Attacker, message: str, status: int
) -> None:
    response = httpx.post(
        f"{attack_url}/coach-chat",
        headers=bearer(attacker.token),
        json={"message": message},
        timeout=30,
    )
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert_error_shape(response, status, "message_too_long")
