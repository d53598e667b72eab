"""Concurrency and faults (issue 9): many clients at once, the database restarted mid-load,
connections dropped mid-request. The functions server is never restarted: it must recover by
itself, answer failures with 503 in the documented error shape, and leave nothing half-written.

A worker killed mid-reassessment is tested in tests/integration/test_reassessment.py
(``test_a_worker_killed_mid_batch_leaves_its_jobs_retryable_and_nothing_half_written``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from benchmarks.load import (
    ENDPOINTS,
    LOGS,
    MIX,
    LoadReport,
    LoadRun,
    Outcome,
    VirtualUser,
    check_writes,
    create_users,
)
from faultstack import SERVER_ENV, Stack

from harness import functions_server

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WEEKS = 4  # programs generated under load: 4 weeks (12 in `make load`), to keep these tests short
# The outage ends after psycopg_pool's default 4th reconnection attempt (15 s +-10 % after the
# first failure, which comes within 3 s of the stop) and RECOVERY_SECONDS before its 5th (31 s).
OUTAGE_SECONDS = 19.5
RECOVERY_SECONDS = 4.0


def load(
    stack: Stack, users: list[VirtualUser], requests: int, report: LoadReport | None = None
) -> tuple[LoadReport, list[Outcome]]:
    """A load run (continuing ``report`` when given); the report and this run's outcomes."""
    run = LoadRun(
        stack.db_url, stack.functions_url, users, requests, report=report, program_weeks=WEEKS
    )
    before = len(run.report.outcomes)
    try:
        run.run()
    finally:
        run.close()
    return run.report, run.report.outcomes[before:]


def failed(outcomes: list[Outcome]) -> list[Outcome]:
    """5xx, no answer at all, or 4xx (every request of the load mix is valid)."""
    return [o for o in outcomes if not 200 <= o.status < 300]


def describe(outcomes: list[Outcome]) -> Counter[tuple[str, int]]:
    return Counter((o.endpoint, o.status) for o in outcomes)


def assert_server_healthy(stack: Stack) -> None:
    assert stack.server.poll() is None, "the functions server died"
    assert "Traceback" not in stack.log_path.read_text(), stack.log_path.read_text()[-3000:]
    health = httpx.get(f"{stack.functions_url}/health", timeout=10)
    assert health.status_code == 200, health.text


def count(db_url: str, query: str, *args: object) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query, args).fetchone()
    assert row is not None
    return int(row[0])


# ------------------------------------------------------------------ a short load run


def test_a_short_load_run_has_no_errors_and_stores_every_write_exactly_once(stack: Stack) -> None:
    users = create_users(stack.db_url, len(MIX), prefix="faults-load")
    run = LoadRun(stack.db_url, stack.functions_url, users, 72, program_weeks=WEEKS)
    try:
        report = run.run()
    finally:
        run.close()

    assert 71 <= len(report.outcomes) <= 72  # the budget, and it stopped by itself
    assert set(report.by_endpoint()) == set(ENDPOINTS)  # every endpoint of the mix was called
    assert failed(report.outcomes) == [], describe(failed(report.outcomes))
    assert run.malformed == []
    assert all(write.acknowledged for write in report.writes)
    assert check_writes(stack.db_url, report) == []

    # Every log sent again, as a client that never saw the answer: still exactly once.
    logs = [write for write in report.writes if write.kind in LOGS]
    for write in logs:
        write.acknowledged = False
    retry = LoadRun(stack.db_url, stack.functions_url, users, 0, report=report)
    try:
        assert retry.resend_unacknowledged() == len(logs)
    finally:
        retry.close()
    assert all(write.acknowledged for write in logs)
    assert failed(report.outcomes) == []
    assert check_writes(stack.db_url, report) == []
    assert_server_healthy(stack)


# ------------------------------------------------------------------ the database restarted


def test_the_database_restarts_mid_load_and_the_functions_recover_by_themselves(
    stack: Stack,
) -> None:
    users = create_users(stack.db_url, 8, prefix="faults-restart")
    run = LoadRun(stack.db_url, stack.functions_url, users, 100, program_weeks=WEEKS)
    worker = threading.Thread(target=run.run)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(run.report.outcomes) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.is_alive(), "the run ended before the restart"
        stopped = time.monotonic()
        stack.cluster.stop()  # pg_ctl stop -m fast: every open transaction is rolled back
        time.sleep(2.0)
        stack.cluster.start()
        worker.join(timeout=240)
        assert not worker.is_alive()
        report = run.report
        _check_the_restart(stack, run, report, stopped)
    finally:
        run.close()


def _check_the_restart(stack: Stack, run: LoadRun, report: LoadReport, stopped: float) -> None:
    # The outage was felt, and every request it failed answered 503 in the documented shape.
    broken = report.failures()
    assert broken, "no request failed: the restart did not hit the load"
    assert {o.status for o in broken} == {503}, describe(broken)
    assert all(o.started + o.seconds >= stopped for o in broken)
    assert report.rejected() == [], describe(report.rejected())
    assert run.malformed == []

    # Nothing acknowledged was lost and nothing is half-written (a failed request may have
    # committed just before its connection went, so stored >= acknowledged).
    assert check_writes(stack.db_url, report, exact=False) == []

    # The same server, never restarted, serves again; clients retry their logs: exactly once.
    assert_server_healthy(stack)
    before = len(report.outcomes)
    resent = run.resend_unacknowledged()
    assert failed(report.outcomes[before:]) == [], describe(report.outcomes[before:])
    assert all(w.acknowledged for w in report.writes if w.kind in LOGS), resent
    report, again = load(stack, run.users, 30, report)
    assert failed(again) == [], describe(again)
    assert check_writes(stack.db_url, report, exact=False) == []


@contextmanager
def own_server(stack: Stack, tmp_path: Path, **env: str) -> Iterator[Stack]:
    """A second functions server on the same database, with a pool in a known state (its
    connections carry ``application_name`` ``faults-own``)."""
    log_path = tmp_path / "own-functions.log"
    with functions_server(
        stack.db_url, log_path, {**SERVER_ENV, "PGAPPNAME": "faults-own", **env}
    ) as (server, base):
        yield Stack(stack.cluster, stack.db_url, base, server, log_path)


def backends(db_url: str, application: str) -> int:
    return count(
        db_url,
        "select count(*) from pg_stat_activity where datname = current_database() "
        "and application_name = %s",
        application,
    )


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_every_pooled_connection_killed_between_requests_costs_no_request(
    stack: Stack, tmp_path: Path
) -> None:
    """A proxy restart, an idle timeout or an operator's pg_terminate_backend drops every
    connection of a pool that is full of idle connections: the next request must not pay for
    them (psycopg_pool waits 1, 2, 4, ... s between picking dead connections)."""
    users = create_users(stack.db_url, 4, prefix="faults-kill")
    with own_server(stack, tmp_path, SHARPENED_POOL_MIN="8") as own:
        wait_for(lambda: backends(own.db_url, "faults-own") >= 8, "8 pooled connections")
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and application_name = 'faults-own'"
            )
        wait_for(lambda: backends(own.db_url, "faults-own") == 0, "the backends to exit")

        me = httpx.get(
            f"{own.functions_url}/me",
            headers={"Authorization": f"Bearer {users[0].token}"},
            timeout=30,
        )
        assert me.status_code == 200, me.text
        report, after = load(own, users, 16)
        assert failed(after) == [], describe(after)
        assert check_writes(stack.db_url, report) == []
        assert_server_healthy(own)


# ------------------------------------------------------------- a connection dropped mid-request


def _terminate_when_waiting(db_url: str, waiting: str, locker_pid: int) -> int:
    """Wait for a backend blocked on a lock while running ``waiting`` (a query prefix), then
    terminate it; returns its pid."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = conn.execute(
                "select pid from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock' and pid <> %s and query ilike %s",
                (locker_pid, f"{waiting}%"),
            ).fetchone()
            if row is not None:
                conn.execute("select pg_terminate_backend(%s)", (row[0],))
                return int(row[0])
            time.sleep(0.02)
    pytest.fail(f"no request blocked on {waiting!r}")


def _post_in_background(
    url: str, token: str, body: dict[str, Any]
) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(
            httpx.post(url, headers={"Authorization": f"Bearer {token}"}, json=body, timeout=60)
        )

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def assert_clean_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "database_unavailable"
    assert set(error) == {"code", "message", "details"}
    assert "Traceback" not in response.text


def test_generate_program_dropped_mid_transaction_stores_nothing_then_works(
    stack: Stack,
) -> None:
    user = create_users(stack.db_url, 1, prefix="faults-drop")[0]
    programs = "select count(*) from public.{} where user_id = %s"
    with psycopg.connect(stack.db_url) as locker:
        # The profile row locked: the program's storage transaction (store_program_bundle, then
        # the profile's targets) blocks half-way, with the program already inserted in it.
        locker.execute("select 1 from public.profiles where id = %s for update", (user.user_id,))
        thread, answers = _post_in_background(
            f"{stack.functions_url}/generate-program", user.token, {"duration_weeks": 4}
        )
        _terminate_when_waiting(stack.db_url, "update public.profiles", locker.info.backend_pid)
        locker.rollback()
        thread.join(timeout=60)
    assert_clean_503(answers[0])
    for table in ("programs", "calendar_events", "session_instances", "meal_instances"):
        assert count(stack.db_url, programs.format(table), user.user_id) == 0, table
    assert (
        count(
            stack.db_url,
            "select count(*) from public.profiles where id = %s and daily_calorie_goal is null",
            user.user_id,
        )
        == 1
    )

    again = httpx.post(
        f"{stack.functions_url}/generate-program",
        headers={"Authorization": f"Bearer {user.token}"},
        json={"duration_weeks": 4},
        timeout=60,
    )
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 1
    assert count(stack.db_url, programs.format("programs"), user.user_id) == 1
    assert count(stack.db_url, programs.format("calendar_events"), user.user_id) > 0
    assert_server_healthy(stack)


@pytest.mark.parametrize(
    ("function", "table"),
    [("coach-chat", "coach_messages"), ("consultation-chat", "consultation_messages")],
)
def test_a_chat_turn_dropped_mid_transaction_stores_nothing_then_works(
    stack: Stack, function: str, table: str
) -> None:
    user = create_users(stack.db_url, 1, prefix="faults-chat")[0]
    body: dict[str, Any] = {"message": "I train on Mondays and Thursdays"}
    if function == "consultation-chat":
        body["session_id"] = str(user.session_id)
    stored = f"select count(*) from public.{table} where user_id = %s"  # noqa: S608
    lock = "select pg_advisory_lock(hashtextextended(%s, 0))"
    with psycopg.connect(stack.db_url, autocommit=True) as locker:
        # The user's chat lock held: the turn's write transaction blocks on it.
        locker.execute(lock, (f"chat:{user.user_id}",))
        thread, answers = _post_in_background(f"{stack.functions_url}/{function}", user.token, body)
        _terminate_when_waiting(
            stack.db_url, "select pg_advisory_xact_lock", locker.info.backend_pid
        )
        locker.execute("select pg_advisory_unlock_all()")
        thread.join(timeout=60)
    assert_clean_503(answers[0])
    assert count(stack.db_url, stored, user.user_id) == 0
    assert count(stack.db_url, stored.replace(table, "coach_conversations"), user.user_id) == 0

    again = httpx.post(
        f"{stack.functions_url}/{function}",
        headers={"Authorization": f"Bearer {user.token}"},
        json=body,
        timeout=60,
    )
    assert again.status_code == 200, again.text
    assert count(stack.db_url, stored, user.user_id) == 2  # the message and its reply
    assert_server_healthy(stack)


# ------------------------------------------------------------- a longer outage


def test_the_functions_reconnect_promptly_once_a_longer_outage_ends(
    stack: Stack, tmp_path: Path
) -> None:
    """After a database outage of ~20 s (a restart, a failover), the functions serve again
    within seconds of the database being back, not after a reconnection back-off as long as the
    outage (psycopg_pool retries 1, 3, 7, 15, 31, ... s after the first failure by default)."""
    with own_server(stack, tmp_path) as own:  # SHARPENED_POOL_MIN 1: one or two connections
        _outage(stack, f"{own.functions_url}/health")


def _outage(stack: Stack, health: str) -> None:
    assert httpx.get(health, timeout=10).status_code == 200
    stack.cluster.stop()
    down = time.monotonic()
    # One request right away: its pool notices the dead connections and starts reconnecting
    # (psycopg_pool's default schedule: 1, 3, 7, 15, 31 s later, +-10 %). No other request
    # until the database is back, so no other schedule starts.
    assert_clean_503(httpx.get(health, timeout=30))
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    stack.cluster.start()
    back = time.monotonic()
    while True:
        answer = httpx.get(health, timeout=30)
        if answer.status_code == 200 or time.monotonic() - back > 60:
            break
        assert_clean_503(answer)
        time.sleep(0.2)
    waited = time.monotonic() - back
    assert answer.status_code == 200, answer.text
    assert waited < RECOVERY_SECONDS, (
        f"the functions answered 503 for {waited:.1f} s after the database was back "
        f"(outage {back - down:.1f} s): the pool waits out its reconnection back-off"
    )
