"""The local relay: delivers the database's function calls to the local functions server.

Where pg_net is not installed (the local stack, the tests), ``private.call_function`` (used by
the pg_cron job ``sharpened-run-reassessments`` through ``private.request_reassessment``) queues
the call in ``private.function_calls`` and sends ``NOTIFY sharpened_function_calls``. The relay
POSTs each undelivered call to ``<functions URL>/<name>`` with a service-role token (the
project's ``service_role`` API key, minted as the local stack mints it) and records the answer
(``response_status``, ``response_body``, ``delivered_at``).

A call is delivered by one relay only: it is locked (``for update skip locked``) while it is
posted, and marked delivered in the same transaction. A relay that dies mid-call leaves it
undelivered (posted again later; the reassess function is idempotent). A call the server cannot
be reached for stays undelivered and is retried on the next round.

``sharpened local up`` runs :class:`Relay` in the background (``functions serve --relay``): it
LISTENs on the channel and also polls every few seconds (a notification can be missed while the
relay reconnects).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

import httpx
import psycopg
from psycopg.rows import dict_row

from sharpened.auth import api_key
from sharpened.settings import Settings, get_settings

log = logging.getLogger("sharpened.relay")

CHANNEL: Final = "sharpened_function_calls"
MAX_RESPONSE_CHARS: Final = 4000
POLL_SECONDS: Final = 5.0
CALL_TIMEOUT_SECONDS: Final = 300.0

_NEXT = """
select c.id, c.function_name, c.body
from private.function_calls as c
where c.delivered_at is null
order by c.id
limit 1
for update skip locked
"""
_DELIVERED = """
update private.function_calls
set delivered_at = now(), response_status = %s, response_body = %s
where id = %s
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    call_id: int
    function_name: str
    status: int


def service_token(settings: Settings | None = None) -> str:
    """The service-role API key of the local project (as `sharpened local status` prints it)."""
    return api_key("service_role", settings=settings or get_settings())


def deliver_pending(
    conn: psycopg.Connection[Any],
    functions_url: str,
    token: str,
    *,
    limit: int = 100,
    client: httpx.Client | None = None,
    timeout: float = CALL_TIMEOUT_SECONDS,
) -> list[Delivery]:
    """Deliver up to ``limit`` undelivered calls, oldest first; returns what was delivered.

    ``conn`` must be idle (each call is one transaction). A call whose server cannot be reached
    stays undelivered and ends this round (:class:`httpx.TransportError` is logged).
    """
    delivered: list[Delivery] = []
    own_client = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        for _ in range(limit):
            unreachable = False
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                row = cur.execute(_NEXT).fetchone()
                if row is None:
                    break
                url = f"{functions_url.rstrip('/')}/{row['function_name']}"
                try:
                    answer = http.post(
                        url, json=row["body"], headers={"Authorization": f"Bearer {token}"}
                    )
                except httpx.TransportError as exc:
                    log.warning("function call %s to %s not delivered: %r", row["id"], url, exc)
                    unreachable = True
                    raise psycopg.Rollback() from None
                cur.execute(
                    _DELIVERED, (answer.status_code, answer.text[:MAX_RESPONSE_CHARS], row["id"])
                )
                log.info("function call %s -> %s: %s", row["id"], url, answer.status_code)
                delivered.append(Delivery(int(row["id"]), row["function_name"], answer.status_code))
            if unreachable:
                break  # the server is not reachable: the call stays; try again next round
    finally:
        if own_client:
            http.close()
    return delivered


class Relay:
    """Delivers function calls until stopped: LISTEN, plus a poll every ``poll_seconds``."""

    def __init__(
        self,
        db_url: str,
        functions_url: str,
        token: str | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.db_url = db_url
        self.functions_url = functions_url
        self.token = token or service_token()
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Deliver, then wait for a notification or the poll interval; reconnect on errors."""
        while not self.stopping.is_set():
            try:
                with (
                    psycopg.connect(self.db_url, autocommit=True, connect_timeout=5) as listen,
                    psycopg.connect(self.db_url, connect_timeout=5) as work,
                ):
                    listen.execute(f"listen {CHANNEL}")
                    while not self.stopping.is_set():
                        deliver_pending(work, self.functions_url, self.token)
                        # Wake on the first notification, or after the poll interval.
                        for _ in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                            pass
            except (psycopg.Error, OSError) as exc:
                log.warning("relay: %r; reconnecting", exc)
                self.stopping.wait(self.poll_seconds)

    def start(self) -> threading.Thread:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="sharpened-relay", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
