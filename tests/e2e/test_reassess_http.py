"""The reassess function over real HTTP, and the database's way of calling it.

Only a service-role token may run the queue. ``private.request_reassessment()`` (what pg_cron
runs every 10 minutes) queues the call in ``private.function_calls`` where pg_net is absent; the
local relay (``sharpened.reassessment.relay``, run by ``sharpened local up``) POSTs it to the
functions server with the service-role key and records the answer, and the jobs get done.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from sharpened.auth import api_key, mint_user_token
from sharpened.reassessment.relay import deliver_pending
from sharpened.users import create_user

pytestmark = pytest.mark.e2e

ONBOARDING = """
update public.profiles set sex = 'female', date_of_birth = '1990-05-01', height_cm = 168,
    weight_kg = 70, activity_level = 'moderate', primary_goal = 'fat_loss',
    experience_level = 'beginner', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 3
where id = %s
"""


def _rows(db_url: str, query: str, *args: object) -> list[dict[str, Any]]:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        return [dict(r) for r in conn.execute(query, args).fetchall()]


def due_program(functions_url: str, db_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A user whose program (generated over HTTP) started 14 days ago, with weigh-ins."""
    with psycopg.connect(db_url) as conn:
        user = create_user(conn, f"reassess-{uuid.uuid4().hex[:8]}@example.test")
        conn.execute(ONBOARDING, (user,))
    today = dt.datetime.now(dt.UTC).date()
    answer = httpx.post(
        f"{functions_url}/generate-program",
        headers={"Authorization": f"Bearer {mint_user_token(user)}"},
        json={"start_date": (today - dt.timedelta(days=14)).isoformat(), "duration_weeks": 8},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    with psycopg.connect(db_url) as conn:
        for day in range(15):
            conn.execute(
                "insert into public.body_metrics (user_id, measured_at, weight_kg)"
                " values (%s, %s, %s)",
                (
                    user,
                    dt.datetime.combine(today - dt.timedelta(days=15 - day), dt.time(7), dt.UTC),
                    70 - 0.02 * day,
                ),
            )
    program = _rows(
        db_url, "select id from public.programs where user_id = %s and status = 'active'", user
    )[0]["id"]
    return user, program


def test_only_the_service_role_may_run_the_queue(functions_url: str, e2e_db: str) -> None:
    url = f"{functions_url}/reassess"
    user, _ = due_program(functions_url, e2e_db)
    nobody = httpx.post(url, json={}, timeout=30)
    assert nobody.status_code == 401
    as_user = httpx.post(
        url, headers={"Authorization": f"Bearer {mint_user_token(user)}"}, json={}, timeout=30
    )
    assert as_user.status_code == 403
    assert as_user.json()["error"]["code"] == "permission_denied"
    anon = httpx.post(
        url, headers={"Authorization": f"Bearer {api_key('anon')}"}, json={}, timeout=30
    )
    assert anon.status_code == 403
    service = {"Authorization": f"Bearer {api_key('service_role')}"}
    invalid = httpx.post(url, headers=service, json={"batch_size": 0}, timeout=30)
    assert invalid.status_code == 422
    assert httpx.post(url, headers=service, json={"batch": 5}, timeout=30).status_code == 422
    # Nothing was run by the refused calls.
    assert _rows(e2e_db, "select id from public.reassessments where user_id = %s", user) == []


def test_the_database_requests_a_run_and_the_relay_delivers_it(
    functions_url: str, e2e_db: str
) -> None:
    users = [due_program(functions_url, e2e_db) for _ in range(2)]
    programs = [p for _, p in users]
    with psycopg.connect(e2e_db, row_factory=dict_row) as conn:
        queued = conn.execute("select private.enqueue_due_reassessments() as n").fetchone()
        assert queued is not None
        assert queued["n"] >= 2
        call = conn.execute("select private.request_reassessment(50) as id").fetchone()
        assert call is not None
        assert call["id"] is not None
    pending = _rows(e2e_db, "select * from private.function_calls where id = %s", call["id"])[0]
    assert (pending["function_name"], pending["body"]) == ("reassess", {"batch_size": 50})
    assert pending["delivered_at"] is None

    with psycopg.connect(e2e_db) as conn:
        delivered = deliver_pending(conn, functions_url, api_key("service_role"))
    assert [(d.call_id, d.function_name, d.status) for d in delivered] == [
        (call["id"], "reassess", 200)
    ]
    row = _rows(e2e_db, "select * from private.function_calls where id = %s", call["id"])[0]
    assert row["delivered_at"] is not None
    assert row["response_status"] == 200
    counts = json.loads(row["response_body"])
    assert counts["claimed"] >= 2
    assert counts["done"] + counts["already_done"] == counts["claimed"]
    assert counts["failed"] == counts["dead"] == 0
    jobs = _rows(
        e2e_db,
        "select status from private.reassessment_jobs where program_id = any(%s)",
        programs,
    )
    assert [j["status"] for j in jobs] == ["done", "done"]
    for user, program in users:
        notes = _rows(
            e2e_db,
            "select kind, ref_id from public.notifications where user_id = %s"
            " and kind = 'reassessment'",
            user,
        )
        assert notes == [{"kind": "reassessment", "ref_id": program}]
    # Delivered calls are not delivered again; with nothing claimable no call is queued.
    with psycopg.connect(e2e_db) as conn:
        assert deliver_pending(conn, functions_url, api_key("service_role")) == []
        none = conn.execute("select private.request_reassessment()").fetchone()
    assert none == (None,)
