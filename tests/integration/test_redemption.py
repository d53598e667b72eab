"""Consultation key redemption and minting, acting as PostgREST would for each caller.

Refusals are answered, not raised: the RPC records the failed attempt, sets
``response.status`` and returns ``{"error": {code, message, details}}``, so the
tests read the status back inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from harness import PostgrestSession, connect
from sharpened.auth import user_claims
from sharpened.db import Database, begin_request
from sharpened.keys import (
    KEY_ALPHABET,
    MINTED_KEY_CODE_PATTERN,
    REFUSAL_STATUS,
    KeyRedemptionRefused,
    RedeemResult,
    mint_keys,
    redeem_key,
)

pytestmark = pytest.mark.integration

Row = dict[str, Any]


def new_code(year: int = 2026) -> str:
    return f"SHARP-{year}-" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(9))


def make_key(
    pg: PostgrestSession,
    *,
    max_uses: int = 1,
    current_uses: int = 0,
    is_active: bool = True,
    expires_in: str | None = None,
    assigned_to: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """A key inserted as postgres; ``expires_in`` is an interval from now ('-1 day')."""
    code = new_code()
    row = pg.conn.execute(
        """
        insert into public.consultation_keys (
            key_code, max_uses, current_uses, is_active, expires_at, assigned_to_user_id,
            first_used_at, last_used_at
        )
        values (
            %(code)s, %(max_uses)s, %(current_uses)s, %(is_active)s,
            now() + %(expires_in)s::interval, %(assigned_to)s,
            case when %(current_uses)s > 0 then now() - interval '1 day' end,
            case when %(current_uses)s > 0 then now() - interval '1 day' end
        )
        returning id
        """,
        {
            "code": code,
            "max_uses": max_uses,
            "current_uses": current_uses,
            "is_active": is_active,
            "expires_in": expires_in,
            "assigned_to": assigned_to,
        },
    ).fetchone()
    assert row is not None
    return row["id"], code


def key_row(pg: PostgrestSession, key_id: uuid.UUID) -> Row:
    row = pg.conn.execute(
        "select * from public.consultation_keys where id = %s", (key_id,)
    ).fetchone()
    assert row is not None
    return dict(row)


def attempts(pg: PostgrestSession, user: uuid.UUID) -> list[str]:
    rows = pg.conn.execute(
        "select outcome from private.consultation_key_attempts where user_id = %s order by id",
        (user,),
    ).fetchall()
    return [row["outcome"] for row in rows]


def refuse(
    pg: PostgrestSession,
    user: uuid.UUID,
    key_code: str | None,
    headers: dict[str, str] | None = None,
) -> tuple[KeyRedemptionRefused, str | None]:
    """Redeem expecting a refusal; returns it with the response.status the RPC set."""
    with pg.as_user(user, headers=headers) as conn:
        with pytest.raises(KeyRedemptionRefused) as refused:
            redeem_key(conn, key_code)
        status = conn.execute("select current_setting('response.status', true) as s").fetchone()
    assert status is not None
    return refused.value, status["s"]


def rpc_body(pg: PostgrestSession, user: uuid.UUID, key_code: str | None) -> tuple[Any, Any]:
    """The raw RPC answer (as PostgREST would serialise it) and the status it set."""
    with pg.as_user(user) as conn:
        row = conn.execute(
            "select public.redeem_consultation_key(%s) as body", (key_code,)
        ).fetchone()
        status = conn.execute("select current_setting('response.status', true) as s").fetchone()
    assert row is not None
    assert status is not None
    return row["body"], status["s"]


def sessions_of(pg: PostgrestSession, user: uuid.UUID) -> list[Row]:
    return [
        dict(row)
        for row in pg.conn.execute(
            "select * from public.consultation_sessions where user_id = %s", (user,)
        )
    ]


# --------------------------------------------------------------- success ---


def test_redemption_starts_a_session_and_records_the_usage(pg: PostgrestSession) -> None:
    user = pg.signup()
    key_id, code = make_key(pg, max_uses=3)
    headers = {
        "X-Forwarded-For": "203.0.113.9, 10.0.0.1",
        "X-Real-IP": "198.51.100.1",
        "User-Agent": "SharpenedApp/1.0 (iOS)",
    }
    with pg.as_user(user, headers=headers) as conn:
        result = redeem_key(conn, code)
        # The new session is the caller's and readable by them (RLS).
        own = conn.execute(
            "select id, status, key_id, current_section, progress_percentage "
            "from public.consultation_sessions"
        ).fetchall()
        usage = conn.execute(
            "select key_id, session_id, host(ip_address) as ip, user_agent "
            "from public.consultation_key_usage"
        ).fetchall()
    assert result == RedeemResult(session_id=result.session_id, uses_remaining=2)
    assert own == [
        {
            "id": result.session_id,
            "status": "active",
            "key_id": key_id,
            "current_section": 1,
            "progress_percentage": 0,
        }
    ]
    assert usage == [
        {
            "key_id": key_id,
            "session_id": result.session_id,
            "ip": "203.0.113.9",
            "user_agent": "SharpenedApp/1.0 (iOS)",
        }
    ]
    key = key_row(pg, key_id)
    assert key["current_uses"] == 1
    assert key["first_used_at"] is not None
    assert key["last_used_at"] == key["first_used_at"]
    assert attempts(pg, user) == ["redeemed"]


def test_a_successful_body_has_no_error_key_and_sets_no_status(pg: PostgrestSession) -> None:
    user = pg.signup()
    _, code = make_key(pg, max_uses=2)
    body, status = rpc_body(pg, user, code)
    assert set(body) == {"session_id", "uses_remaining"}
    assert uuid.UUID(body["session_id"])
    assert body["uses_remaining"] == 1
    assert status in (None, "")


def test_code_is_matched_case_and_space_insensitively(pg: PostgrestSession) -> None:
    user = pg.signup()
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        result = redeem_key(conn, f"  {code.lower()}\n")
    assert result.uses_remaining == 0


def test_a_key_assigned_to_the_caller_is_redeemable(pg: PostgrestSession) -> None:
    user = pg.signup()
    _, code = make_key(pg, assigned_to=user)
    with pg.as_user(user) as conn:
        assert redeem_key(conn, code).uses_remaining == 0


def test_last_use_of_a_multi_use_key(pg: PostgrestSession) -> None:
    users = [pg.signup() for _ in range(3)]
    key_id, code = make_key(pg, max_uses=3)
    remaining = []
    for user in users:
        with pg.as_user(user) as conn:
            remaining.append(redeem_key(conn, code).uses_remaining)
    assert remaining == [2, 1, 0]
    assert key_row(pg, key_id)["current_uses"] == 3
    refused, status = refuse(pg, pg.signup(), code)
    assert (refused.code, status) == ("key_exhausted", "410")


# -------------------------------------------------------------- refusals ---


@pytest.mark.parametrize(
    "key_code",
    [
        None,
        "",
        "   ",
        "SHARP-2026",
        "SHARP-26-ABCDEFGHJ",
        "SHARP-2026-ABCDEFGH",
        "SHARP-2026-ABCDEFGHJK",
        "SHARP-2026-ABCD-FGHJ",
        "x" * 65,
        "SHARP-2026-ABCDEFGHJ" + " " * 60,
        "'; drop table public.consultation_keys; --",
    ],
)
def test_invalid_key_code(pg: PostgrestSession, key_code: str | None) -> None:
    user = pg.signup()
    refused, status = refuse(pg, user, key_code)
    assert (refused.code, refused.status, status) == ("invalid_key_code", 400, "400")
    assert refused.details == {"expected_format": "SHARP-YYYY-XXXXXXXXX"}
    assert refused.message
    assert attempts(pg, user) == ["invalid_key_code"]
    assert sessions_of(pg, user) == []


def refusal_case(pg: PostgrestSession, case: str, user: uuid.UUID) -> tuple[uuid.UUID | None, str]:
    """Set up the situation ``case`` for ``user``: (the key's id, the code to try)."""
    if case == "key_not_found":
        return None, new_code()
    if case == "key_inactive":
        return make_key(pg, is_active=False)
    if case == "key_expired":
        return make_key(pg, expires_in="-1 second")
    if case == "key_not_assigned_to_you":
        return make_key(pg, assigned_to=pg.signup())
    if case == "key_exhausted":
        return make_key(pg, max_uses=2, current_uses=2)
    if case == "consultation_in_progress":
        pg.conn.execute("insert into public.consultation_sessions (user_id) values (%s)", (user,))
        return make_key(pg)
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("key_not_found", 404),
        ("key_inactive", 403),
        ("key_expired", 410),
        ("key_not_assigned_to_you", 403),
        ("key_exhausted", 410),
        ("consultation_in_progress", 409),
    ],
)
def test_each_refusal_has_its_code_and_status(pg: PostgrestSession, case: str, status: int) -> None:
    user = pg.signup()
    key_id, code = refusal_case(pg, case, user)
    before = key_row(pg, key_id) if key_id else None
    sessions_before = sessions_of(pg, user)

    refused, set_status = refuse(pg, user, code)

    assert (refused.code, refused.status, set_status) == (case, status, str(status))
    assert REFUSAL_STATUS[case] == status
    assert refused.message
    # Nothing changed but the attempt record.
    if key_id:
        assert key_row(pg, key_id) == before
    assert sessions_of(pg, user) == sessions_before
    assert attempts(pg, user) == [case]
    usage = pg.conn.execute(
        "select count(*) as n from public.consultation_key_usage where user_id = %s", (user,)
    ).fetchone()
    assert usage == {"n": 0}


def test_refusal_body_shape_and_details(pg: PostgrestSession) -> None:
    user = pg.signup()
    _, code = make_key(pg, expires_in="-1 hour")
    body, status = rpc_body(pg, user, code)
    assert status == "410"
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "key_expired"
    assert "expired_at" in body["error"]["details"]

    other = pg.signup()
    session = pg.conn.execute(
        "insert into public.consultation_sessions (user_id) values (%s) returning id", (other,)
    ).fetchone()
    assert session is not None
    _, code = make_key(pg)
    body, status = rpc_body(pg, other, code)
    assert status == "409"
    assert body["error"]["code"] == "consultation_in_progress"
    assert body["error"]["details"] == {"session_id": str(session["id"])}

    _, code = make_key(pg, max_uses=4, current_uses=4)
    body, _ = rpc_body(pg, pg.signup(), code)
    assert body["error"]["details"] == {"max_uses": 4}
    body, _ = rpc_body(pg, pg.signup(), new_code())
    assert body["error"]["details"] == {}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        # every check fails: the first one (active) reports
        (
            {"is_active": False, "expires_in": "-1 day", "other": True, "used_up": True},
            "key_inactive",
        ),
        ({"expires_in": "-1 day", "other": True, "used_up": True}, "key_expired"),
        ({"other": True, "used_up": True}, "key_not_assigned_to_you"),
        ({"used_up": True}, "key_exhausted"),
        # an expiry in the future is no refusal
        ({"expires_in": "1 day", "used_up": True}, "key_exhausted"),
    ],
)
def test_checks_run_in_order(pg: PostgrestSession, setup: dict[str, Any], expected: str) -> None:
    user = pg.signup()
    _, code = make_key(
        pg,
        is_active=setup.get("is_active", True),
        expires_in=setup.get("expires_in"),
        assigned_to=pg.signup() if setup.get("other") else None,
        max_uses=1,
        current_uses=1 if setup.get("used_up") else 0,
    )
    refused, _ = refuse(pg, user, code)
    assert refused.code == expected


def test_an_open_consultation_is_reported_before_the_key(pg: PostgrestSession) -> None:
    user = pg.signup()
    pg.conn.execute("insert into public.consultation_sessions (user_id) values (%s)", (user,))
    refused, _ = refuse(pg, user, new_code())  # no such key
    assert refused.code == "consultation_in_progress"


def test_a_finished_consultation_does_not_block_a_new_one(pg: PostgrestSession) -> None:
    user = pg.signup()
    pg.conn.execute(
        "insert into public.consultation_sessions (user_id, status) values (%s, 'abandoned')",
        (user,),
    )
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        redeem_key(conn, code)
    assert sorted(s["status"] for s in sessions_of(pg, user)) == ["abandoned", "active"]


def test_a_second_redemption_by_the_same_user_is_in_progress(pg: PostgrestSession) -> None:
    user = pg.signup()
    key_id, code = make_key(pg, max_uses=5)
    with pg.as_user(user) as conn:
        first = redeem_key(conn, code)
    refused, _ = refuse(pg, user, code)
    assert refused.code == "consultation_in_progress"
    assert refused.details == {"session_id": str(first.session_id)}
    assert key_row(pg, key_id)["current_uses"] == 1


# ------------------------------------------------------------ who may call ---


def test_anon_cannot_call_the_rpc(pg: PostgrestSession) -> None:
    with pytest.raises(errors.InsufficientPrivilege), pg.as_anon() as conn:
        conn.execute("select public.redeem_consultation_key('SHARP-2026-ABCDEFGHJ')")


def test_service_role_cannot_call_the_rpc(pg: PostgrestSession) -> None:
    with pytest.raises(errors.InsufficientPrivilege), pg.as_service() as conn:
        conn.execute("select public.redeem_consultation_key('SHARP-2026-ABCDEFGHJ')")


def test_authenticated_without_a_user_is_refused_with_42501(pg: PostgrestSession) -> None:
    _, code = make_key(pg)

    def call_with_a_token_without_sub() -> None:
        with pg.conn.transaction():
            begin_request(pg.conn, "authenticated", {"aud": "authenticated"})
            pg.conn.execute("select public.redeem_consultation_key(%s)", (code,))

    with pytest.raises(errors.InsufficientPrivilege) as raised:
        call_with_a_token_without_sub()
    assert "signed-in user" in str(raised.value)


def test_clients_cannot_read_keys_or_attempts(pg: PostgrestSession) -> None:
    user = pg.signup()
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute("select key_code from public.consultation_keys")
    with pytest.raises(errors.InsufficientPrivilege), pg.as_user(user) as conn:
        conn.execute("select * from private.consultation_key_attempts")


# ------------------------------------------------------ usage and headers ---


@pytest.mark.parametrize(
    ("headers", "ip", "user_agent"),
    [
        ({"x-forwarded-for": "203.0.113.9"}, "203.0.113.9", None),
        ({"x-forwarded-for": " 2001:db8::7 , 10.0.0.1"}, "2001:db8::7", None),
        ({"x-forwarded-for": "203.0.113.9:51234"}, "203.0.113.9", None),
        ({"x-forwarded-for": "[2001:db8::7]:443"}, "2001:db8::7", None),
        ({"x-real-ip": "198.51.100.20"}, "198.51.100.20", None),
        # an unusable first forwarded address falls back to x-real-ip
        (
            {"x-forwarded-for": "unknown, 10.0.0.1", "x-real-ip": "198.51.100.20"},
            "198.51.100.20",
            None,
        ),
        ({"x-forwarded-for": "10.0.0.0/8"}, None, None),
        ({"x-forwarded-for": "999.1.1.1", "x-real-ip": "not-an-ip"}, None, None),
        ({"x-forwarded-for": ""}, None, None),
        ({"user-agent": "  curl/8.5  "}, None, "curl/8.5"),
        ({"user-agent": "   "}, None, None),
        ({"user-agent": "A" * 2000}, None, "A" * 512),
        ({}, None, None),
    ],
)
def test_usage_records_address_and_user_agent_from_headers(
    pg: PostgrestSession, headers: dict[str, str], ip: str | None, user_agent: str | None
) -> None:
    user = pg.signup()
    _, code = make_key(pg)
    with pg.as_user(user, headers=headers) as conn:
        redeem_key(conn, code)
        usage = conn.execute(
            "select host(ip_address) as ip, user_agent from public.consultation_key_usage"
        ).fetchall()
    assert usage == [{"ip": ip, "user_agent": user_agent}]


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '"text"'])
def test_absent_or_malformed_request_headers_are_not_an_error(
    pg: PostgrestSession, raw: str
) -> None:
    user = pg.signup()
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        conn.execute("select set_config('request.headers', %s, true)", (raw,))
        redeem_key(conn, code)
        usage = conn.execute(
            "select ip_address, user_agent from public.consultation_key_usage"
        ).fetchall()
    assert usage == [{"ip_address": None, "user_agent": None}]


# ------------------------------------------------------------- throttling ---


def fail(pg: PostgrestSession, user: uuid.UUID, times: int) -> None:
    for _ in range(times):
        refused, _ = refuse(pg, user, new_code())
        assert refused.code == "key_not_found"


def test_ten_failures_then_too_many_attempts_even_for_a_valid_key(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 10)
    key_id, code = make_key(pg)

    refused, status = refuse(pg, user, code)
    assert (refused.code, refused.status, status) == ("too_many_attempts", 429, "429")
    assert refused.details["max_failed_attempts"] == 10
    assert refused.details["window_seconds"] == 3600
    assert 0 < refused.details["retry_after_seconds"] <= 3600
    # The throttled call is neither counted nor stored, and the key is untouched.
    assert attempts(pg, user) == ["key_not_found"] * 10
    assert key_row(pg, key_id)["current_uses"] == 0
    assert sessions_of(pg, user) == []


def test_too_many_attempts_sets_a_retry_after_header(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 10)
    # The oldest counted failure was 50 minutes ago: the caller may retry in 10 minutes.
    pg.conn.execute(
        """
        update private.consultation_key_attempts set attempted_at = now() - interval '50 minutes'
        where id = (select min(id) from private.consultation_key_attempts where user_id = %s)
        """,
        (user,),
    )
    with pg.as_user(user) as conn:
        body = conn.execute("select public.redeem_consultation_key(%s) as b", (new_code(),))
        answer = body.fetchone()
        headers = conn.execute("select current_setting('response.headers', true) as h").fetchone()
    assert answer is not None
    assert headers is not None
    assert answer["b"]["error"]["details"]["retry_after_seconds"] == 600
    assert "10 minute" in answer["b"]["error"]["message"]
    assert json.loads(headers["h"]) == [{"Retry-After": "600"}]


def test_nine_failures_still_allow_a_redemption(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 9)
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        redeem_key(conn, code)


def test_a_success_does_not_count_as_a_failure(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 9)
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        redeem_key(conn, code)  # the 10th attempt: a success
    # The 11th attempt is the 10th failure: refused for what it is, not throttled.
    refused, _ = refuse(pg, user, new_code())
    assert refused.code == "consultation_in_progress"
    # Now 10 failures are on record: throttled.
    refused, _ = refuse(pg, user, new_code())
    assert refused.code == "too_many_attempts"
    assert attempts(pg, user) == ["key_not_found"] * 9 + ["redeemed", "consultation_in_progress"]


def test_every_refusal_kind_counts(pg: PostgrestSession) -> None:
    user = pg.signup()
    for key_code in ["bad", new_code(), make_key(pg, is_active=False)[1]]:
        refuse(pg, user, key_code)
    for key_code in [make_key(pg, expires_in="-1 day")[1], make_key(pg, current_uses=1)[1]]:
        refuse(pg, user, key_code)
    refuse(pg, user, make_key(pg, assigned_to=pg.signup())[1])
    fail(pg, user, 4)
    refused, _ = refuse(pg, user, make_key(pg)[1])
    assert refused.code == "too_many_attempts"


def test_attempts_older_than_an_hour_do_not_count(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 10)
    pg.conn.execute(
        "update private.consultation_key_attempts set attempted_at = now() - interval '61 minutes' "
        "where user_id = %s",
        (user,),
    )
    fail(pg, user, 9)  # 19 on record, 9 of them in the window
    _, code = make_key(pg)
    with pg.as_user(user) as conn:
        redeem_key(conn, code)


def test_attempts_just_inside_the_hour_still_count(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 10)
    pg.conn.execute(
        "update private.consultation_key_attempts set attempted_at = now() - interval '59 minutes' "
        "where user_id = %s",
        (user,),
    )
    refused, _ = refuse(pg, user, make_key(pg)[1])
    assert refused.code == "too_many_attempts"
    assert refused.details["retry_after_seconds"] == 60


def test_throttling_is_per_user(pg: PostgrestSession) -> None:
    noisy, quiet = pg.signup(), pg.signup()
    fail(pg, noisy, 10)
    _, code = make_key(pg)
    with pg.as_user(quiet) as conn:
        redeem_key(conn, code)


def test_attempts_go_with_their_user(pg: PostgrestSession) -> None:
    user = pg.signup()
    fail(pg, user, 2)
    pg.conn.execute("delete from auth.users where id = %s", (user,))
    assert attempts(pg, user) == []


# ---------------------------------------------------------------- minting ---


def test_minting_as_service_role(pg: PostgrestSession) -> None:
    owner = pg.signup()
    year = pg.conn.execute(
        "select extract(year from now() at time zone 'utc')::int as y"
    ).fetchone()
    assert year is not None
    with pg.as_service() as conn:
        keys = mint_keys(conn, 3, max_uses=4, expires_in_days=30, assigned_to=owner)
    assert len(keys) == 3
    assert len({key.key_code for key in keys}) == 3
    for key in keys:
        assert MINTED_KEY_CODE_PATTERN.fullmatch(key.key_code)
        assert re.fullmatch(rf"SHARP-{year['y']}-[{KEY_ALPHABET}]{{9}}", key.key_code)
        assert not set(key.key_code[11:]) & set("0O1I")
        assert key.max_uses == 4
        assert key.assigned_to_user_id == owner
        assert key.expires_at is not None
        remaining = key.expires_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(days=29, hours=23) < remaining <= dt.timedelta(days=30)
        stored = key_row(pg, key.id)
        assert (stored["key_code"], stored["current_uses"], stored["is_active"]) == (
            key.key_code,
            0,
            True,
        )
    assert keys[0].as_json()["assigned_to_user_id"] == str(owner)


def test_minted_key_defaults_and_redemption(pg: PostgrestSession) -> None:
    with pg.as_service() as conn:
        (key,) = mint_keys(conn, 1)
    assert (key.max_uses, key.expires_at, key.assigned_to_user_id) == (1, None, None)
    with pg.as_user(pg.signup()) as conn:
        assert redeem_key(conn, key.key_code).uses_remaining == 0


def test_a_thousand_minted_codes_are_unique_and_well_formed(pg: PostgrestSession) -> None:
    with pg.as_service() as conn:
        codes = [
            row["key_code"]
            for row in conn.execute(
                "select key_code from public.mint_consultation_keys(1000)"
            ).fetchall()
        ]
    assert len(codes) == 1000
    assert len(set(codes)) == 1000
    assert all(MINTED_KEY_CODE_PATTERN.fullmatch(code) for code in codes)
    # Every symbol of the alphabet shows up (9,000 draws from 32 symbols).
    assert set("".join(code[11:] for code in codes)) == set(KEY_ALPHABET)


@pytest.mark.parametrize("actor", ["user", "anon"])
def test_only_the_service_role_mints(pg: PostgrestSession, actor: str) -> None:
    user = pg.signup()
    acting = pg.as_user(user) if actor == "user" else pg.as_anon()
    with pytest.raises(errors.InsufficientPrivilege), acting as conn:
        conn.execute("select * from public.mint_consultation_keys(1)")
    with pytest.raises(errors.InsufficientPrivilege), pg.as_service() as conn:
        conn.execute("select private.generate_consultation_key_code()")


@pytest.mark.parametrize(
    "call",
    [
        "select * from public.mint_consultation_keys(0)",
        "select * from public.mint_consultation_keys(10001)",
        "select * from public.mint_consultation_keys(null)",
        "select * from public.mint_consultation_keys(1, 0)",
        "select * from public.mint_consultation_keys(1, 100001)",
        "select * from public.mint_consultation_keys(1, 1, now() - interval '1 minute')",
        "select * from public.mint_consultation_keys(1, 1, null, gen_random_uuid())",
    ],
)
def test_mint_arguments_are_checked(pg: PostgrestSession, call: str) -> None:
    with pytest.raises(errors.InvalidParameterValue), pg.as_service() as conn:
        conn.execute(call)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"count": 0},
        {"count": 10_001},
        {"count": 1, "max_uses": 0},
        {"count": 1, "expires_in_days": 0},
    ],
)
def test_mint_keys_checks_its_arguments(pg: PostgrestSession, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"), pg.as_service() as conn:
        mint_keys(conn, **kwargs)


@pytest.fixture
def rigged_generator(pg: PostgrestSession) -> str:
    """Within the test's transaction: the code generator answers a taken code 3 times first."""
    taken = make_key(pg)[1]
    pg.conn.execute("create temporary sequence rigged_draws")
    pg.conn.execute(
        f"""
        create or replace function private.generate_consultation_key_code() returns text
        language sql volatile set search_path = '' as $$
            select case when pg_catalog.nextval('pg_temp.rigged_draws') <= 3 then '{taken}'
                else 'SHARP-2026-' || pg_catalog.upper(pg_catalog.left(pg_catalog.md5(
                    pg_catalog.random()::text), 9)) end
        $$
        """
    )
    return taken


def test_minting_draws_again_on_a_collision(pg: PostgrestSession, rigged_generator: str) -> None:
    with pg.as_service() as conn:
        (key,) = mint_keys(conn, 1)
    assert key.key_code != rigged_generator
    draws = pg.conn.execute("select last_value from pg_temp.rigged_draws").fetchone()
    assert draws == {"last_value": 4}


def test_minting_gives_up_after_ten_collisions(pg: PostgrestSession) -> None:
    taken = make_key(pg)[1]
    pg.conn.execute(
        f"""
        create or replace function private.generate_consultation_key_code() returns text
        language sql volatile set search_path = '' as $$ select '{taken}'::text $$
        """
    )
    with pytest.raises(errors.UniqueViolation, match="10 tries"), pg.as_service() as conn:
        mint_keys(conn, 1)


# ------------------------------------------------------------ concurrency ---


def test_fifty_simultaneous_redemptions_of_a_five_use_key(fresh_db: str) -> None:
    """50 users, each in their own committed transaction, released at once."""
    with connect(fresh_db) as admin:
        admin.autocommit = True
        users: list[uuid.UUID] = []
        for n in range(50):
            row = admin.execute(
                """
                insert into auth.users (id, aud, role, email)
                values (gen_random_uuid(), 'authenticated', 'authenticated', %s)
                returning id
                """,
                (f"racer-{n}@example.test",),
            ).fetchone()
            assert row is not None
            users.append(row["id"])
        code = new_code()
        key = admin.execute(
            "insert into public.consultation_keys (key_code, max_uses) values (%s, 5) returning id",
            (code,),
        ).fetchone()
        assert key is not None

    db = Database(fresh_db, min_size=50, max_size=50)
    barrier = threading.Barrier(50, timeout=60)
    outcomes: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def redeem(user: uuid.UUID) -> None:
        try:
            with db.as_user(user_claims(user), headers={"x-real-ip": "192.0.2.1"}) as conn:
                barrier.wait()
                try:
                    redeem_key(conn, code)
                    outcome = "redeemed"
                except KeyRedemptionRefused as refused:
                    outcome = refused.code  # committed: the failure stays on record
            with lock:
                outcomes.append(outcome)
        except BaseException as exc:  # reported by the main thread
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=redeem, args=(user,)) for user in users]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        db.close()
    assert not failures, failures
    assert Counter(outcomes) == {"redeemed": 5, "key_exhausted": 45}

    with psycopg.connect(fresh_db, row_factory=dict_row) as admin:
        stored = admin.execute(
            "select current_uses, first_used_at <= last_used_at as ordered "
            "from public.consultation_keys where id = %s",
            (key["id"],),
        ).fetchone()
        usage = admin.execute(
            "select count(*) as n, count(distinct user_id) as users, "
            "count(distinct session_id) as s from public.consultation_key_usage where key_id = %s",
            (key["id"],),
        ).fetchone()
        sessions = admin.execute(
            "select count(*) as n from public.consultation_sessions where key_id = %s",
            (key["id"],),
        ).fetchone()
        recorded = admin.execute(
            "select outcome, count(*) as n from private.consultation_key_attempts "
            "group by outcome order by outcome"
        ).fetchall()
    assert stored == {"current_uses": 5, "ordered": True}
    assert usage == {"n": 5, "users": 5, "s": 5}
    assert sessions == {"n": 5}
    assert recorded == [{"outcome": "key_exhausted", "n": 45}, {"outcome": "redeemed", "n": 5}]
