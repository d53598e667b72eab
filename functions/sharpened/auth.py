"""JWTs as Supabase issues them: local minting (development only) and verification.

Verification accepts HS256 tokens signed with the project's JWT secret, or,
when ``SUPABASE_JWKS_URL`` is set, asymmetric tokens (RS256/ES256) signed by a
key of that JWKS. Every token must carry ``exp``; user tokens need
``aud = authenticated`` and a UUID ``sub``; role-only tokens are the project's
API keys (``anon``, ``service_role``). ``alg=none`` and any other algorithm are
refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt

from sharpened.settings import Settings, get_settings

SYMMETRIC_ALGORITHMS = ("HS256",)
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")

# Supabase's API keys are long-lived JWTs carrying only a role; the values
# below reproduce the Supabase CLI's local keys when signed with its dev secret.
API_KEY_ISSUER = "supabase-demo"
API_KEY_EXPIRY = 1983812996


class AuthError(Exception):
    """A token was missing or not acceptable; the gateway answers 401."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Caller:
    """The verified identity behind a request."""

    role: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> uuid.UUID | None:
        sub = self.claims.get("sub")
        return uuid.UUID(sub) if self.role == "authenticated" and sub else None


def mint_token(
    claims: dict[str, Any], *, settings: Settings | None = None, expires_in: int = 3600
) -> str:
    """Sign ``claims`` with the project's HS256 secret (local development and tests)."""
    settings = settings or get_settings()
    now = int(time.time())
    payload = {"iat": now, "exp": now + expires_in, **claims}
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")


def user_claims(
    user_id: uuid.UUID | str,
    email: str | None = None,
    *,
    settings: Settings | None = None,
    app_metadata: dict[str, Any] | None = None,
    user_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims Supabase Auth puts into a signed-in user's access token."""
    settings = settings or get_settings()
    return {
        "iss": settings.jwt_issuer,
        "sub": str(user_id),
        "aud": "authenticated",
        "role": "authenticated",
        "email": email or "",
        "phone": "",
        "app_metadata": app_metadata or {"provider": "email", "providers": ["email"]},
        "user_metadata": user_metadata or {},
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


def mint_user_token(
    user_id: uuid.UUID | str,
    email: str | None = None,
    *,
    settings: Settings | None = None,
    expires_in: int = 3600,
) -> str:
    """An access token for ``user_id``, shaped like Supabase Auth's."""
    return mint_token(
        user_claims(user_id, email, settings=settings), settings=settings, expires_in=expires_in
    )


def api_key(role: str, *, settings: Settings | None = None) -> str:
    """The project's ``anon`` or ``service_role`` API key (a role-only JWT)."""
    if role not in ("anon", "service_role"):
        raise ValueError(f"API keys exist for anon and service_role, not {role!r}")
    settings = settings or get_settings()
    payload = {"iss": API_KEY_ISSUER, "role": role, "exp": API_KEY_EXPIRY}
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=600)


def _signing_key(token: str, alg: str, settings: Settings) -> Any:
    if alg in SYMMETRIC_ALGORITHMS:
        return settings.jwt_secret
    if alg in ASYMMETRIC_ALGORITHMS and settings.jwks_url:
        try:
            signing = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise AuthError(
                "invalid_token", "no signing key in the JWKS matches the token"
            ) from exc
        # The key decides the algorithm, not the token: a header naming ES256 over an RSA key's
        # kid is a forgery attempt (key confusion), not a verification to try.
        if signing.algorithm_name != alg:
            raise AuthError("invalid_token", "the token's algorithm does not match its key")
        return signing.key
    raise AuthError("invalid_token", f"token algorithm {alg!r} is not accepted")


def verify_token(token: str, *, settings: Settings | None = None) -> Caller:
    """Check signature, expiry and audience; return the caller or raise AuthError."""
    settings = settings or get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise AuthError("invalid_token", "the bearer token is not a well-formed JWT") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise AuthError("invalid_token", "unsigned tokens (alg=none) are refused")
    key = _signing_key(token, alg, settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            options={"require": ["exp"], "verify_aud": False},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token_expired", "the bearer token has expired") from exc
    except (jwt.InvalidTokenError, TypeError, ValueError) as exc:
        # TypeError/ValueError: a key the algorithm cannot use; whatever the cause, a token
        # that does not verify is refused, never a 500.
        raise AuthError(
            "invalid_token", "the bearer token's signature or claims are invalid"
        ) from exc

    role = claims.get("role")
    if role in ("service_role", "anon"):  # the project's API keys
        return Caller(role=role, claims=claims)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if role != "authenticated" or "authenticated" not in audiences:
        raise AuthError("invalid_audience", "the token is not a signed-in user's token")
    try:
        uuid.UUID(str(claims.get("sub")))
    except ValueError as exc:
        raise AuthError("invalid_token", "the token's subject is not a user id") from exc
    return Caller(role="authenticated", claims=claims)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("invalid_token", "the Authorization header must be 'Bearer <token>'")
    return token.strip()
