"""The functions over real HTTP, through the local gateway (`sharpened functions serve`)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest

from harness import functions_server
from sharpened.auth import api_key, mint_token, mint_user_token, user_claims
from sharpened.pgcluster import free_port
from sharpened.settings import SUPABASE_DEV_JWT_SECRET
from sharpened.users import create_user

pytestmark = pytest.mark.e2e


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def user(e2e_db: str) -> uuid.UUID:
    with psycopg.connect(e2e_db) as conn:
        return create_user(conn, f"e2e-{uuid.uuid4().hex[:8]}@example.test", display_name="E2E")


def assert_error_shape(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in response.text
    if code:
        assert error["code"] == code


def test_health_answers_200_with_the_database_reachable(functions_url: str) -> None:
    response = httpx.get(f"{functions_url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["version"].startswith("15.")


def test_health_answers_503_when_the_database_is_down(tmp_path: Path) -> None:
    closed_port = free_port()
    log_path = tmp_path / "functions.log"
    with functions_server(
        f"postgresql://postgres:postgres@127.0.0.1:{closed_port}/postgres", log_path
    ) as (_, base):
        response = httpx.get(f"{base}/health", timeout=15)
        assert_error_shape(response, 503, "database_unavailable")


def test_valid_user_token_reads_own_profile(functions_url: str, user: uuid.UUID) -> None:
    token = mint_user_token(user, "e2e@example.test")
    response = httpx.get(f"{functions_url}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    profile = response.json()["profile"]
    assert profile["id"] == str(user)
    assert profile["display_name"] == "E2E"


def test_the_official_supabase_client_reaches_the_functions(
    functions_url: str, user: uuid.UUID
) -> None:
    from supabase import create_client

    client = create_client(functions_url.removesuffix("/functions/v1"), api_key("anon"))
    token = mint_user_token(user)
    answer = client.functions.invoke(
        "me",
        {"method": "GET", "headers": {"Authorization": f"Bearer {token}"}, "responseType": "json"},
    )
    assert isinstance(answer, dict)
    assert answer["profile"]["id"] == str(user)


def _forged_tokens(user: uuid.UUID) -> dict[str, str]:
    live = user_claims(user) | {"exp": int(time.time()) + 600}
    return {
        "expired": mint_user_token(user, expires_in=-120),
        "wrong_signature": jwt.encode(live, "x" * 48, algorithm="HS256"),
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(live)}.",
        "wrong_audience": mint_token(user_claims(user) | {"aud": "storage"}),
        "anon_key": api_key("anon"),
        "malformed": "not-a-jwt",
        "hs512": jwt.encode(
            live, SUPABASE_DEV_JWT_SECRET + "-padding-to-64-bytes!", algorithm="HS512"
        ),
    }


@pytest.mark.parametrize(
    "kind",
    ["expired", "wrong_signature", "alg_none", "wrong_audience", "anon_key", "malformed", "hs512"],
)
def test_bad_tokens_get_401(functions_url: str, user: uuid.UUID, kind: str) -> None:
    token = _forged_tokens(user)[kind]
    response = httpx.get(f"{functions_url}/me", headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_public_function_accepts_the_anon_key(functions_url: str) -> None:
    headers = {"Authorization": f"Bearer {api_key('anon')}"}
    assert httpx.get(f"{functions_url}/health", headers=headers).status_code == 200


def test_public_function_still_refuses_a_forged_token(functions_url: str, user: uuid.UUID) -> None:
    headers = {"Authorization": f"Bearer {_forged_tokens(user)['wrong_signature']}"}
    assert_error_shape(httpx.get(f"{functions_url}/health", headers=headers), 401, "invalid_token")


def test_missing_token_gets_401(functions_url: str) -> None:
    assert_error_shape(httpx.get(f"{functions_url}/me"), 401, "missing_token")


def test_non_bearer_authorization_gets_401(functions_url: str) -> None:
    response = httpx.get(f"{functions_url}/me", headers={"Authorization": "Basic dTpw"})
    assert_error_shape(response, 401, "invalid_token")


def test_unknown_function_gets_json_404(functions_url: str) -> None:
    assert_error_shape(httpx.get(f"{functions_url}/no-such-function"), 404, "not_found")


def test_wrong_method_gets_405(functions_url: str) -> None:
    assert_error_shape(httpx.post(f"{functions_url}/health", json={}), 405, "method_not_allowed")


def test_oversized_body_gets_413(functions_url: str, user: uuid.UUID) -> None:
    token = mint_user_token(user)
    response = httpx.request(
        "GET",
        f"{functions_url}/me",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        content=b"x" * 2_000_000,
    )
    assert_error_shape(response, 413, "payload_too_large")


def test_cors_preflight(functions_url: str) -> None:
    response = httpx.options(f"{functions_url}/me")
    assert response.status_code == 204
    assert "authorization" in response.headers["access-control-allow-headers"]
