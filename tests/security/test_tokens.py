"""Token attacks on every function over real HTTP: forged, expired, unsigned, confused,
wrong audience or role, malformed, huge, another user's, and the ``apikey`` header.

Each forged token claims to be the victim. Every one must be refused with 401
(or 403 where the documented answer is 403) in the functions' error shape, and
nothing of the victim (or anyone) may change: the whole database (every row but
the attackers' own, and the catalog) is hashed before and after the module, the
victim's rows before and after each case that uses a valid token of someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harness import functions_server, serve_jwks
from security.support import Attacker, Victim, assert_error_shape, assert_no_internals, bearer
from sharpened.auth import AuthError, api_key, mint_token, user_claims, verify_token
from sharpened.settings import SUPABASE_DEV_JWT_SECRET, Settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("world_unchanged")]

SECRET = SUPABASE_DEV_JWT_SECRET
WRONG_SECRET = "an-attacker-secret-that-is-at-least-32-bytes-long!"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def b64(data: bytes | str | dict[str, Any] | list[Any]) -> str:
    raw = (
        data
        if isinstance(data, bytes)
        else (data.encode() if isinstance(data, str) else json.dumps(data).encode())
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(header: dict[str, Any], payload: Any, secret: str = SECRET) -> str:
    """A token signed by hand (any header, any payload), HMAC-SHA256 with ``secret``."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def live(claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iat": now, "exp": now + 600, **claims, **extra}


TokenFactory = Callable[[Victim, Attacker], str]


def _victim(victim: Victim, **extra: Any) -> dict[str, Any]:
    return live(user_claims(victim.user_id, victim.email), **extra)


def _tampered(victim: Victim, attacker: Attacker) -> str:
    """The attacker's real token with the victim's claims pasted in (signature kept)."""
    header, _payload, signature = attacker.token.split(".")
    return f"{header}.{b64(_victim(victim))}.{signature}"


def _without(victim: Victim, claim: str) -> dict[str, Any]:
    claims = _victim(victim)
    del claims[claim]
    return claims


def _embedded_jwk(victim: Victim) -> str:
    """RS256 signed with the attacker's key, which the header offers as the key to use."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    return jwt.encode(_victim(victim), RSA_KEY, algorithm="RS256", headers={"jwk": public})


def _public_key_as_hmac_secret(victim: Victim) -> str:
    """The classic RS256 -> HS256 confusion: the HMAC key is a public key."""
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hs256({"alg": "HS256", "typ": "JWT"}, _victim(victim), pem.decode())


# kind -> (token factory, expected status on user functions, expected codes)
INVALID = {"invalid_token"}
TOKENS: dict[str, tuple[TokenFactory, set[str]]] = {
    "tampered-payload": (_tampered, INVALID),
    "wrong-secret": (lambda v, a: jwt.encode(_victim(v), WRONG_SECRET, algorithm="HS256"), INVALID),
    "empty-signature": (
        lambda v, a: hs256({"alg": "HS256"}, _victim(v)).rsplit(".", 1)[0] + ".",
        INVALID,
    ),
    "expired": (
        lambda v, a: jwt.encode(
            _victim(v, exp=int(time.time()) - 120, iat=int(time.time()) - 4000), SECRET
        ),
        {"token_expired"},
    ),
    "not-yet-valid": (
        lambda v, a: jwt.encode(_victim(v, nbf=int(time.time()) + 600), SECRET),
        INVALID,
    ),
    "issued-in-the-future": (
        lambda v, a: jwt.encode(_victim(v, iat=int(time.time()) + 600), SECRET),
        INVALID,
    ),
    "no-exp": (lambda v, a: jwt.encode(_without(v, "exp"), SECRET), INVALID),
    "exp-not-a-number": (lambda v, a: jwt.encode(_victim(v, exp="never"), SECRET), INVALID),
    "alg-none": (lambda v, a: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_victim(v))}.", INVALID),
    "alg-None": (lambda v, a: f"{b64({'alg': 'None'})}.{b64(_victim(v))}.", INVALID),
    "alg-NONE-with-signature": (lambda v, a: hs256({"alg": "NONE"}, _victim(v)), INVALID),
    "alg-missing": (lambda v, a: hs256({"typ": "JWT"}, _victim(v)), INVALID),
    "alg-not-a-string": (lambda v, a: hs256({"alg": ["HS256"]}, _victim(v)), INVALID),
    "hs384": (lambda v, a: jwt.encode(_victim(v), SECRET + "x" * 16, algorithm="HS384"), INVALID),
    "rs256-header-hmac-signature": (lambda v, a: hs256({"alg": "RS256"}, _victim(v)), INVALID),
    "rs256-embedded-jwk": (lambda v, a: _embedded_jwk(v), INVALID),
    "es256-attacker-key": (
        lambda v, a: jwt.encode(_victim(v), EC_KEY, algorithm="ES256", headers={"kid": "key-1"}),
        INVALID,
    ),
    "public-key-as-hmac-secret": (lambda v, a: _public_key_as_hmac_secret(v), INVALID),
    "jku-and-kid-injection": (
        lambda v, a: jwt.encode(
            _victim(v),
            WRONG_SECRET,
            headers={"kid": "' or 1=1 --/../../dev/null", "jku": "http://127.0.0.1:9/jwks"},
        ),
        INVALID,
    ),
    "wrong-audience": (lambda v, a: mint_token(_victim(v, aud="storage")), {"invalid_audience"}),
    "audience-list-without-authenticated": (
        lambda v, a: mint_token(_victim(v, aud=["anon", "service_role"])),
        {"invalid_audience"},
    ),
    "no-audience": (lambda v, a: jwt.encode(_without(v, "aud"), SECRET), {"invalid_audience"}),
    "forged-service-role": (
        lambda v, a: jwt.encode(
            live({"role": "service_role", "iss": "supabase-demo"}), WRONG_SECRET
        ),
        INVALID,
    ),
    "service-role-alg-none": (
        lambda v, a: f"{b64({'alg': 'none'})}.{b64(live({'role': 'service_role'}))}.",
        INVALID,
    ),
    "role-postgres": (lambda v, a: mint_token(_victim(v, role="postgres")), {"invalid_audience"}),
    "role-supabase-admin": (
        lambda v, a: mint_token(_victim(v, role="supabase_admin")),
        {"invalid_audience"},
    ),
    "role-missing": (lambda v, a: jwt.encode(_without(v, "role"), SECRET), {"invalid_audience"}),
    "sub-missing": (lambda v, a: jwt.encode(_without(v, "sub"), SECRET), INVALID),
    "sub-not-a-uuid": (lambda v, a: mint_token(_victim(v, sub="victim")), INVALID),
    "sub-sql-injection": (lambda v, a: mint_token(_victim(v, sub="' or 1=1 --")), INVALID),
    "sub-a-list": (lambda v, a: mint_token(_victim(v, sub=[str(v.user_id)])), INVALID),
    "two-parts": (lambda v, a: ".".join(a.token.split(".")[:2]), INVALID),
    "four-parts": (lambda v, a: a.token + ".AAAA", INVALID),
    "bad-base64": (lambda v, a: "!!!!.@@@@.####", INVALID),
    "header-not-json": (lambda v, a: f"{b64('hello')}.{b64(_victim(v))}.c2ln", INVALID),
    "header-a-json-array": (
        lambda v, a: hs256({"alg": "HS256"}, {}).replace(b64({"alg": "HS256"}), b64(["HS256"])),
        INVALID,
    ),
    "payload-not-json": (
        lambda v, a: hs256({"alg": "HS256", "typ": "JWT"}, "{not json").replace(
            b64(json.dumps("{not json")), b64("{not json")
        ),
        INVALID,
    ),
    "payload-a-json-array": (lambda v, a: hs256({"alg": "HS256"}, [1, 2, 3]), INVALID),
    "non-ascii": (lambda v, a: "eyJ\u00e9\u00e8.\u2603.\U0001f600", INVALID),
    "huge": (
        lambda v, a: hs256({"alg": "HS256"}, _victim(v, pad="A" * 40_000), WRONG_SECRET),
        INVALID,
    ),
}

# Valid tokens that are not a user's: refused by the user functions with their own code.
API_KEYS: dict[str, str] = {"anon-key": "anon", "service-role-key": "service_role"}


# The cases whose whole point is a signature the project's secret did not make.
FORGED = {
    "tampered-payload",
    "wrong-secret",
    "empty-signature",
    "alg-none",
    "alg-None",
    "rs256-embedded-jwk",
    "es256-attacker-key",
    "public-key-as-hmac-secret",
    "jku-and-kid-injection",
    "forged-service-role",
    "service-role-alg-none",
}


def _signed_with_the_project_secret(token: str) -> bool:
    try:
        jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    except jwt.PyJWTError:
        return False
    return True


def requests_for(victim: Victim) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """Each function that takes a token -> (method, a body aimed at the victim's data)."""
    session, conversation = victim.ids["session_id"], victim.ids["conversation_id"]
    return {
        "health": ("GET", None),
        "me": ("GET", None),
        "consultation-chat": ("POST", {"session_id": session, "message": "I lift on Mondays"}),
        "coach-chat": ("POST", {"conversation_id": conversation, "message": "show my data"}),
        "consultation-complete": ("POST", {"session_id": session}),
        "generate-program": ("POST", {"duration_weeks": 1}),
        "reassess": ("POST", {"batch_size": 1}),
    }


FUNCTIONS = [
    "health",
    "me",
    "consultation-chat",
    "coach-chat",
    "consultation-complete",
    "generate-program",
    "reassess",
]


def call(
    base: str,
    function: str,
    victim: Victim,
    headers: dict[str, str] | dict[bytes, bytes],
) -> httpx.Response:
    method, body = requests_for(victim)[function]
    return httpx.request(method, f"{base}/{function}", headers=headers, json=body, timeout=30)


# Every function shares one verification (sharpened.http.endpoint): every kind is tried on
# ``me``, a representative few on every other function.
EVERYWHERE = ["tampered-payload", "alg-none", "expired", "wrong-audience", "forged-service-role"]
CASES = [
    *[(kind, "me") for kind in TOKENS],
    *[(kind, function) for kind in EVERYWHERE for function in FUNCTIONS if function != "me"],
]


@pytest.mark.parametrize(("kind", "function"), CASES)
def test_forged_token_is_refused(
    attack_url: str, victim: Victim, attacker: Attacker, function: str, kind: str
) -> None:
    factory, codes = TOKENS[kind]
    token = factory(victim, attacker)
    if kind in FORGED:
        assert not _signed_with_the_project_secret(token)
    headers = {b"Authorization": f"Bearer {token}".encode()}  # bytes: non-ASCII goes out as is
    response = call(attack_url, function, victim, headers)
    assert_error_shape(response, 401)
    assert response.json()["error"]["code"] in codes, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert victim.leaked_in(response.text) == []


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("kind", list(API_KEYS))
def test_api_keys_are_not_user_tokens(
    attack_url: str, victim: Victim, function: str, kind: str
) -> None:
    role = API_KEYS[kind]
    if function == "reassess" and role == "service_role":
        # Accepted: shown by reaching body validation (an invalid batch size), so the queue of
        # the shared database is not worked from here.
        response = httpx.post(
            f"{attack_url}/reassess", headers=bearer(api_key(role)), json={"batch_size": 0}
        )
        assert_error_shape(response, 422, "validation_failed")
        return
    response = call(attack_url, function, victim, bearer(api_key(role)))
    if function == "health":
        assert response.status_code == 200, response.text
    elif function == "reassess":
        assert_error_shape(response, 403, "permission_denied")
    else:
        assert_error_shape(response, 401, "user_token_required")
    assert victim.leaked_in(response.text) == []


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Token abc.def.ghi", id="other-scheme"),
        pytest.param("Basic dmljdGltOnBhc3N3b3Jk", id="basic"),
        pytest.param("Bearer a.b.c extra", id="trailing-garbage"),
    ],
)
@pytest.mark.parametrize("function", ["me", "consultation-chat", "reassess"])
def test_malformed_authorization_header_is_refused(
    attack_url: str, victim: Victim, function: str, header: str
) -> None:
    response = call(attack_url, function, victim, {"Authorization": header})
    assert_error_shape(response, 401, "invalid_token")


@pytest.mark.parametrize("function", ["me", "consultation-chat"])
def test_oversized_token_header_is_refused_without_internals(
    attack_url: str, victim: Victim, function: str
) -> None:
    """A 100 kB header is past what any server reads; the answer is a client error, no trace."""
    response = call(attack_url, function, victim, bearer("eyJ" + "A" * 100_000))
    assert 400 <= response.status_code < 500, response.text
    assert_no_internals(response.text)


# -- the apikey header: never a credential, never an elevation -----------------------------


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if f != "health"])
def test_apikey_alone_is_no_credential(attack_url: str, victim: Victim, function: str) -> None:
    response = call(attack_url, function, victim, {"apikey": api_key("service_role")})
    assert_error_shape(response, 401, "missing_token")


@pytest.mark.usefixtures("victim_untouched")
def test_service_role_apikey_does_not_elevate_a_user_token(
    attack_url: str, victim: Victim, attacker: Attacker
) -> None:
    headers = {**bearer(attacker.token), "apikey": api_key("service_role")}
    response = call(attack_url, "reassess", victim, headers)
    assert_error_shape(response, 403, "permission_denied")
    me = call(attack_url, "me", victim, headers)
    assert me.status_code == 200, me.text
    assert me.json()["profile"]["id"] == str(attacker.user_id)


@pytest.mark.usefixtures("victim_untouched")
@pytest.mark.parametrize(
    "apikey",
    [
        pytest.param(None, id="missing"),
        pytest.param("not-a-key", id="garbage"),
        pytest.param(jwt.encode(live({"role": "anon"}), WRONG_SECRET), id="forged"),
    ],
)
def test_a_missing_or_wrong_apikey_never_changes_who_the_caller_is(
    attack_url: str, victim: Victim, attacker: Attacker, apikey: str | None
) -> None:
    headers = bearer(attacker.token) | ({"apikey": apikey} if apikey else {})
    me = call(attack_url, "me", victim, headers)
    assert me.status_code == 200, me.text
    assert me.json()["profile"]["id"] == str(attacker.user_id)
    assert victim.leaked_in(me.text) == []
    forged = call(
        attack_url,
        "me",
        victim,
        {**bearer(_tampered(victim, attacker))} | ({"apikey": apikey} if apikey else {}),
    )
    assert_error_shape(forged, 401, "invalid_token")


# -- another user's valid token ------------------------------------------------------------


@pytest.mark.usefixtures("victim_untouched")
@pytest.mark.parametrize(
    ("function", "status", "code"),
    [
        ("consultation-chat", 404, "session_not_found"),
        ("coach-chat", 404, "conversation_not_found"),
        ("consultation-complete", 404, "session_not_found"),
    ],
)
def test_another_users_token_cannot_reach_the_victims_rows(
    attack_url: str, victim: Victim, attacker: Attacker, function: str, status: int, code: str
) -> None:
    response = call(attack_url, function, victim, bearer(attacker.token))
    assert_error_shape(response, status, code)
    assert victim.leaked_in(response.text) == []


@pytest.mark.usefixtures("victim_untouched")
@pytest.mark.parametrize(
    ("function", "body"),
    [
        ("coach-chat", {"message": "hi", "user_id": "VICTIM"}),
        ("consultation-chat", {"session_id": "SESSION", "message": "hi", "user_id": "VICTIM"}),
        ("generate-program", {"user_id": "VICTIM"}),
        ("consultation-complete", {"session_id": "SESSION", "user_id": "VICTIM"}),
        ("generate-program", {"sub": "VICTIM", "role": "service_role"}),
    ],
)
def test_a_user_id_in_the_body_is_refused(
    attack_url: str, victim: Victim, attacker: Attacker, function: str, body: dict[str, str]
) -> None:
    """The caller is the token's subject only: a body naming someone else is invalid."""
    replacements = {"VICTIM": str(victim.user_id), "SESSION": victim.ids["session_id"]}
    payload = {key: replacements.get(value, value) for key, value in body.items()}
    response = httpx.post(
        f"{attack_url}/{function}", headers=bearer(attacker.token), json=payload, timeout=30
    )
    assert_error_shape(response, 422, "validation_failed")
    assert victim.leaked_in(response.text) == []


@pytest.mark.usefixtures("victim_untouched")
def test_me_with_another_users_token_is_only_that_user(
    attack_url: str, victim: Victim, attacker: Attacker
) -> None:
    response = httpx.get(
        f"{attack_url}/me?id={victim.user_id}&user_id=eq.{victim.user_id}",
        headers=bearer(attacker.token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["profile"]["id"] == str(attacker.user_id)
    assert victim.leaked_in(response.text) == []


@pytest.mark.usefixtures("victim_untouched")
def test_a_token_of_a_user_who_does_not_exist_reads_and_writes_nothing(
    attack_url: str, victim: Victim
) -> None:
    ghost = "00000000-0000-4000-8000-000000000000"
    token = mint_token(live(user_claims(ghost)))
    for function in FUNCTIONS[1:-1]:
        response = call(attack_url, function, victim, bearer(token))
        assert 400 <= response.status_code < 500, (function, response.text)
        assert_error_shape(response, response.status_code)
        assert victim.leaked_in(response.text) == []


# -- key confusion when the project verifies asymmetric keys (SUPABASE_JWKS_URL) -------------

PROJECT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The project's JWKS (one RSA public key, kid ``project-1``), served over HTTP."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PROJECT_KEY.public_key()))
    with serve_jwks(public | {"kid": "project-1", "alg": "RS256", "use": "sig"}) as url:
        yield url


def _project_public_pem() -> str:
    return (
        PROJECT_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


CONFUSION: dict[str, Callable[[dict[str, Any]], str]] = {
    # HS256 keyed with the project's *public* key (which anyone can fetch from the JWKS).
    "hs256-with-the-public-key": lambda claims: hs256(
        {"alg": "HS256", "kid": "project-1"}, claims, _project_public_pem()
    ),
    # The project's kid, signed by the attacker's key.
    "rs256-attacker-key-project-kid": lambda claims: jwt.encode(
        claims, RSA_KEY, algorithm="RS256", headers={"kid": "project-1"}
    ),
    # A kid the JWKS does not have, with the attacker's key embedded in the header.
    "rs256-unknown-kid-embedded-jwk": lambda claims: jwt.encode(
        claims,
        RSA_KEY,
        algorithm="RS256",
        headers={
            "kid": "attacker",
            "jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key())),
        },
    ),
    # ES256 header over an HMAC signature made with the public key.
    "es256-header-hmac-public-key": lambda claims: hs256(
        {"alg": "ES256", "kid": "project-1"}, claims, _project_public_pem()
    ),
    "alg-none-project-kid": lambda claims: (
        f"{b64({'alg': 'none', 'kid': 'project-1'})}.{b64(claims)}."
    ),
}


@pytest.mark.parametrize("kind", list(CONFUSION))
def test_key_confusion_is_refused_with_a_jwks(jwks_url: str, victim: Victim, kind: str) -> None:
    settings = Settings(SUPABASE_JWKS_URL=jwks_url)
    claims = _victim(victim)
    genuine = jwt.encode(claims, PROJECT_KEY, algorithm="RS256", headers={"kid": "project-1"})
    assert verify_token(genuine, settings=settings).user_id == victim.user_id  # the JWKS works
    with pytest.raises(AuthError):
        verify_token(CONFUSION[kind](claims), settings=settings)


@pytest.fixture(scope="module")
def jwks_functions_url(
    e2e_db: str, jwks_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A functions server that also accepts the project's asymmetric keys."""
    log_path = tmp_path_factory.mktemp("attack-jwks") / "functions.log"
    with functions_server(e2e_db, log_path, {"SUPABASE_JWKS_URL": jwks_url}) as (_, base):
        yield base


@pytest.mark.parametrize("function", ["health", "me"])
@pytest.mark.parametrize("kind", list(CONFUSION))
def test_key_confusion_over_http_is_401(
    jwks_functions_url: str, victim: Victim, kind: str, function: str
) -> None:
    token = CONFUSION[kind](_victim(victim))
    response = httpx.get(f"{jwks_functions_url}/{function}", headers=bearer(token), timeout=30)
    assert_error_shape(response, 401, "invalid_token")
    assert victim.leaked_in(response.text) == []
