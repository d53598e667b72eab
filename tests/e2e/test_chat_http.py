"""The consultation and coach chats over real HTTP, through the local functions gateway.

The offline engine runs the scripted consultation to the end; the OpenAI
engine runs against a local fake OpenAI-compatible server (the real `openai`
client over real HTTP), including its failures.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from fakes.openai_server import FakeOpenAIServer, completion, error, stall
from harness import functions_server
from sharpened.auth import mint_user_token, user_claims
from sharpened.consultation.models import EXTRACTION_TABLES
from sharpened.consultation.script import EXPECTED, SCRIPTED_CONSULTATION
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.users import create_user

pytestmark = pytest.mark.e2e


@dataclass
class Client:
    user_id: uuid.UUID
    token: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_client(db_url: str) -> Client:
    """A signed-up user who redeemed a fresh key, as the app would (RPC under the user's JWT)."""
    with psycopg.connect(db_url) as conn:
        user_id = create_user(conn, f"chat-{uuid.uuid4().hex[:8]}@example.test")
    database = Database(db_url, min_size=1, max_size=1)
    try:
        key = mint_keys_as_service(database, 1)[0]
        with database.as_user(user_claims(user_id), headers={"user-agent": "pytest"}) as conn:
            session_id = redeem_key(conn, key.key_code).session_id
    finally:
        database.close()
    return Client(user_id, mint_user_token(user_id), session_id)


def count(db_url: str, table: str, user_id: uuid.UUID) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            f"select count(*) from public.{table} where user_id = %s",  # noqa: S608
            (user_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def post_turn(base: str, client: Client, message: str) -> httpx.Response:
    return httpx.post(
        f"{base}/consultation-chat",
        headers=client.headers,
        json={"session_id": str(client.session_id), "message": message},
        timeout=30,
    )


@pytest.fixture(scope="module")
def roomy_functions_url(e2e_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A functions server whose per-minute limit lets a whole consultation run in seconds."""
    log_path = tmp_path_factory.mktemp("roomy") / "functions.log"
    limits = {"SHARPENED_CHAT_MESSAGES_PER_MINUTE": "100"}
    with functions_server(e2e_db, log_path, limits) as (_, base):
        yield base


def test_scripted_consultation_fills_all_nine_tables(roomy_functions_url: str, e2e_db: str) -> None:
    client = new_client(e2e_db)
    answers = []
    for message in SCRIPTED_CONSULTATION:
        response = post_turn(roomy_functions_url, client, message)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    last = answers[-1]
    assert last["completed_sections"] == [1, 2, 3, 4, 5, 6, 7]
    assert last["progress"] == 100
    for table in EXTRACTION_TABLES:
        assert count(e2e_db, table, client.user_id) >= 1, table
    for table, expected_rows in EXPECTED.items():
        assert count(e2e_db, table, client.user_id) == len(expected_rows), table
    assert count(e2e_db, "consultation_messages", client.user_id) == 2 * len(SCRIPTED_CONSULTATION)


def test_the_session_is_only_its_owners(functions_url: str, e2e_db: str) -> None:
    owner, intruder = new_client(e2e_db), new_client(e2e_db)
    response = httpx.post(
        f"{functions_url}/consultation-chat",
        headers=intruder.headers,
        json={"session_id": str(owner.session_id), "message": "I bench press on Mondays"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"
    assert count(e2e_db, "consultation_messages", owner.user_id) == 0
    assert count(e2e_db, "consultation_messages", intruder.user_id) == 0


def test_limits_answer_413_422_429(functions_url: str, e2e_db: str) -> None:
    client = new_client(e2e_db)
    too_long = post_turn(functions_url, client, "x" * 2001)
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (413, "message_too_long")
    missing = httpx.post(
        f"{functions_url}/consultation-chat",
        headers=client.headers,
        json={"session_id": str(client.session_id)},
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "validation_failed")
    for i in range(10):
        assert post_turn(functions_url, client, f"hello {i}").status_code == 200
    limited = post_turn(functions_url, client, "one too many")
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
    assert count(e2e_db, "consultation_messages", client.user_id) == 20


def test_coach_chat_starts_and_continues_a_conversation(functions_url: str, e2e_db: str) -> None:
    client = new_client(e2e_db)
    first = httpx.post(
        f"{functions_url}/coach-chat", headers=client.headers, json={"message": "How much protein?"}
    )
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    assert first.json()["reply"]
    second = httpx.post(
        f"{functions_url}/coach-chat",
        headers=client.headers,
        json={"conversation_id": conversation, "message": "And how should I train?"},
    )
    assert second.status_code == 200, second.text
    assert second.json()["conversation_id"] == conversation
    assert count(e2e_db, "coach_messages", client.user_id) == 4
    other = new_client(e2e_db)
    stolen = httpx.post(
        f"{functions_url}/coach-chat",
        headers=other.headers,
        json={"conversation_id": conversation, "message": "show me their chat"},
    )
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (404, "conversation_not_found")


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def openai_functions_url(
    e2e_db: str, fake_openai: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log_path: Path = tmp_path_factory.mktemp("openai") / "functions.log"
    with functions_server(
        e2e_db,
        log_path,
        {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": fake_openai.base_url,
            "SHARPENED_OPENAI_TIMEOUT": "1",
            "SHARPENED_OPENAI_MAX_RETRIES": "1",
        },
    ) as (_, base):
        yield base


def _turn_json(**extraction: object) -> str:
    return json.dumps({"reply": "Noted, thanks!", "extraction": extraction})


def test_openai_turn_writes_the_validated_extraction(
    openai_functions_url: str, fake_openai: FakeOpenAIServer, e2e_db: str
) -> None:
    client = new_client(e2e_db)
    fake_openai.enqueue(
        completion(
            _turn_json(familiar_exercises=[{"exercise": "barbell squat", "comfort_level": 4}])
        )
    )
    response = post_turn(openai_functions_url, client, "I squat with a barbell, quite comfortable")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"] == "Noted, thanks!"
    assert body["extracted"]["user_familiar_exercises"][0]["comfort_level"] == 4
    assert count(e2e_db, "user_familiar_exercises", client.user_id) == 1
    request = fake_openai.requests[-1]
    assert request.body["messages"][-1] == {
        "role": "user",
        "content": "I squat with a barbell, quite comfortable",
    }
    with psycopg.connect(e2e_db) as conn:
        engine = conn.execute(
            "select engine from public.consultation_sessions where id = %s", (client.session_id,)
        ).fetchone()
    assert engine == ("openai",)


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        ("rate_limited", 503, "llm_rate_limited"),
        ("timeout", 504, "llm_timeout"),
    ],
)
def test_openai_failures_answer_clearly_and_write_nothing(
    openai_functions_url: str,
    fake_openai: FakeOpenAIServer,
    e2e_db: str,
    failure: str,
    status: int,
    code: str,
) -> None:
    client = new_client(e2e_db)
    for _ in range(2):  # the first attempt and its one retry
        if failure == "rate_limited":
            fake_openai.enqueue(error(429, retry_after_ms=10))
        else:
            fake_openai.enqueue(stall(3))
    response = post_turn(openai_functions_url, client, "I do yoga twice a week")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert count(e2e_db, "consultation_messages", client.user_id) == 0
    for table in EXTRACTION_TABLES:
        assert count(e2e_db, table, client.user_id) == 0


def test_consultation_complete_generates_exactly_one_program(
    roomy_functions_url: str, e2e_db: str
) -> None:
    client = new_client(e2e_db)
    incomplete = httpx.post(
        f"{roomy_functions_url}/consultation-complete",
        headers=client.headers,
        json={"session_id": str(client.session_id)},
        timeout=60,
    )
    assert incomplete.status_code == 422
    assert incomplete.json()["error"]["code"] == "consultation_incomplete"

    with psycopg.connect(e2e_db) as conn:  # the onboarding answers the program needs
        conn.execute(
            "update public.profiles set sex = 'female', date_of_birth = '2001-05-01', "
            "height_cm = 165, weight_kg = 60, activity_level = 'light', "
            "primary_goal = 'muscle_gain', experience_level = 'intermediate', "
            "workout_frequency = 4 where id = %s",
            (client.user_id,),
        )
    for message in SCRIPTED_CONSULTATION:
        assert post_turn(roomy_functions_url, client, message).status_code == 200

    def complete() -> httpx.Response:
        return httpx.post(
            f"{roomy_functions_url}/consultation-complete",
            headers=client.headers,
            json={"session_id": str(client.session_id)},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:  # a double tap: two concurrent calls
        first, second = pool.map(lambda _: complete(), range(2))
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["program_id"] == second.json()["program_id"]
    retry = complete()
    assert retry.status_code == 200
    assert retry.json()["program_id"] == first.json()["program_id"]
    assert count(e2e_db, "programs", client.user_id) == 1
    with psycopg.connect(e2e_db) as conn:
        session = conn.execute(
            "select status from public.consultation_sessions where id = %s", (client.session_id,)
        ).fetchone()
        flags = conn.execute(
            "select consultation_completed from public.profiles where id = %s", (client.user_id,)
        ).fetchone()
    assert session == ("completed",)
    assert flags == (True,)
    summary = first.json()
    schedule_days = {entry["day_index"] for entry in summary["weekly_schedule"]}
    assert len(schedule_days) <= 4


def test_consultation_complete_starts_the_program_on_the_given_date(
    roomy_functions_url: str, e2e_db: str
) -> None:
    client = new_client(e2e_db)
    with psycopg.connect(e2e_db) as conn:
        conn.execute(
            "update public.profiles set sex = 'male', date_of_birth = '1990-03-01', "
            "height_cm = 180, weight_kg = 85, activity_level = 'moderate', "
            "primary_goal = 'fat_loss', experience_level = 'intermediate', "
            "workout_frequency = 3 where id = %s",
            (client.user_id,),
        )
        today_row = conn.execute(
            "select (now() at time zone coalesce((select timezone from public.profiles "
            "where id = %s), 'UTC'))::date",
            (client.user_id,),
        ).fetchone()
    assert today_row is not None
    start = today_row[0] - dt.timedelta(days=14)  # two weeks into the program
    for message in SCRIPTED_CONSULTATION:
        assert post_turn(roomy_functions_url, client, message).status_code == 200

    def complete(start_date: dt.date) -> httpx.Response:
        return httpx.post(
            f"{roomy_functions_url}/consultation-complete",
            headers=client.headers,
            json={"session_id": str(client.session_id), "start_date": start_date.isoformat()},
            timeout=60,
        )

    response = complete(start)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["program_start_date"] == start.isoformat()
    assert summary["next_reassessment_date"] == (start + dt.timedelta(days=14)).isoformat()
    assert summary["first_week"][0]["date"] == start.isoformat()
    with psycopg.connect(e2e_db) as conn:
        stored = conn.execute(
            "select program_start_date, next_reassessment_date from public.programs where id = %s",
            (summary["program_id"],),
        ).fetchone()
    assert stored == (start, start + dt.timedelta(days=14))
    # A retry with another date answers with the stored program: the date does not move.
    retry = complete(start + dt.timedelta(days=3))
    assert retry.status_code == 200, retry.text
    assert retry.json()["program_id"] == summary["program_id"]
    assert retry.json()["program_start_date"] == start.isoformat()
    assert count(e2e_db, "programs", client.user_id) == 1

    bad = httpx.post(
        f"{roomy_functions_url}/consultation-complete",
        headers=client.headers,
        json={"session_id": str(client.session_id), "start_date": "not-a-date"},
        timeout=60,
    )
    assert bad.status_code == 422
