"""JWT verification: what the gateway accepts and refuses (no database)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from harness import serve_jwks
from sharpened.auth import (
    AuthError,
    api_key,
    bearer_token,
    mint_token,
    mint_user_token,
    user_claims,
    verify_token,
)
from sharpened.settings import SUPABASE_DEV_JWT_SECRET, Settings

SETTINGS = Settings()
USER = uuid.UUID("11111111-2222-4333-8444-555555555555")

# The Supabase CLI's published local anon key (signed with its dev secret).
SUPABASE_CLI_ANON_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9."
    "CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_user_token_is_accepted_with_its_claims() -> None:
    caller = verify_token(mint_user_token(USER, "a@example.test"), settings=SETTINGS)
    assert caller.role == "authenticated"
    assert caller.user_id == USER
    assert caller.claims["email"] == "a@example.test"
    assert caller.claims["aud"] == "authenticated"


def test_default_secret_is_the_supabase_cli_dev_secret() -> None:
    assert SETTINGS.jwt_secret == SUPABASE_DEV_JWT_SECRET
    assert api_key("anon", settings=SETTINGS) == SUPABASE_CLI_ANON_KEY


def test_service_role_key_is_accepted_without_audience() -> None:
    caller = verify_token(api_key("service_role", settings=SETTINGS), settings=SETTINGS)
    assert caller.role == "service_role"
    assert caller.user_id is None


def test_anon_key_is_an_anonymous_caller() -> None:
    caller = verify_token(api_key("anon", settings=SETTINGS), settings=SETTINGS)
    assert caller.role == "anon"
    assert caller.user_id is None


def test_expired_token_is_refused() -> None:
    token = mint_user_token(USER, settings=SETTINGS, expires_in=-60)
    with pytest.raises(AuthError) as raised:
        verify_token(token, settings=SETTINGS)
    assert raised.value.code == "token_expired"


def test_wrong_signature_is_refused() -> None:
    claims = user_claims(USER, settings=SETTINGS) | {"exp": int(time.time()) + 60}
    token = jwt.encode(claims, "another-secret-that-is-at-least-32-bytes-long", algorithm="HS256")
    with pytest.raises(AuthError) as raised:
        verify_token(token, settings=SETTINGS)
    assert raised.value.code == "invalid_token"


def test_alg_none_is_refused() -> None:
    claims = user_claims(USER, settings=SETTINGS) | {"exp": int(time.time()) + 60}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(AuthError, match="alg=none"):
        verify_token(token, settings=SETTINGS)


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_unknown_algorithm_is_refused() -> None:
    claims = user_claims(USER, settings=SETTINGS) | {"exp": int(time.time()) + 60}
    token = jwt.encode(claims, SUPABASE_DEV_JWT_SECRET, algorithm="HS512")
    with pytest.raises(AuthError, match="HS512"):
        verify_token(token, settings=SETTINGS)


def test_wrong_audience_is_refused() -> None:
    token = mint_token(user_claims(USER) | {"aud": "someone-else"}, settings=SETTINGS)
    with pytest.raises(AuthError) as raised:
        verify_token(token, settings=SETTINGS)
    assert raised.value.code == "invalid_audience"


def test_token_without_exp_is_refused() -> None:
    token = jwt.encode(user_claims(USER), SUPABASE_DEV_JWT_SECRET, algorithm="HS256")
    with pytest.raises(AuthError):
        verify_token(token, settings=SETTINGS)


def test_subject_must_be_a_user_id() -> None:
    token = mint_token(user_claims(USER) | {"sub": "not-a-uuid"}, settings=SETTINGS)
    with pytest.raises(AuthError, match="subject"):
        verify_token(token, settings=SETTINGS)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30.", "ey.ey.ey"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthError):
        verify_token(token, settings=SETTINGS)


def test_bearer_header_parsing() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    with pytest.raises(AuthError):
        bearer_token("Basic dXNlcjpwdw==")
    with pytest.raises(AuthError):
        bearer_token("Bearer ")


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[tuple[str, Any]]:
    """A JWKS endpoint serving one RSA public key, as Supabase's asymmetric signing keys do."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    with serve_jwks(public_jwk | {"kid": "key-1", "alg": "RS256", "use": "sig"}) as url:
        yield url, private_key


def test_asymmetric_token_verified_against_jwks(jwks_server: tuple[str, Any]) -> None:
    url, private_key = jwks_server
    settings = Settings(SUPABASE_JWKS_URL=url)
    claims = user_claims(USER, settings=settings) | {"exp": int(time.time()) + 60}
    token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "key-1"})
    assert verify_token(token, settings=settings).user_id == USER

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(AuthError):
        verify_token(forged, settings=settings)


def test_asymmetric_token_refused_without_jwks(jwks_server: tuple[str, Any]) -> None:
    _, private_key = jwks_server
    claims = user_claims(USER) | {"exp": int(time.time()) + 60}
    token = jwt.encode(claims, private_key, algorithm="RS256")
    with pytest.raises(AuthError, match="RS256"):
        verify_token(token, settings=SETTINGS)
