"""Latency of an offline consultation turn over local HTTP, against the engine alone.

For each turn of the scripted consultation (several users, each running the
whole script), the same message is first given to the offline engine
in-process (same state, real reference lookup: "engine alone"), then sent to
``POST /functions/v1/consultation-chat`` over local HTTP (auth, limits,
database reads and writes, JSON). The ratio shows the overhead of everything
around the engine. Target (issue 4): p95 ≤ 50 ms for the full turn.

Run: ``make bench`` (or ``.venv/bin/python -m benchmarks.consultation_turn``).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

import httpx
import psycopg

from benchmarks.common import Figure, functions_server, summary, throwaway_database
from sharpened.auth import mint_user_token, user_claims
from sharpened.consultation.lookup import DatabaseLookup
from sharpened.consultation.offline import OfflineEngine
from sharpened.consultation.script import SCRIPTED_CONSULTATION
from sharpened.consultation.service import _load_session, _state
from sharpened.db import Database
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.users import create_user

USERS = 12
TARGET_P95_MS = 50.0


@dataclass
class Result:
    http_median_ms: float
    http_p95_ms: float
    engine_median_ms: float
    engine_p95_ms: float
    turns: int

    def lines(self) -> list[str]:
        ratio = (
            self.http_median_ms / self.engine_median_ms if self.engine_median_ms else float("inf")
        )
        verdict = "meets" if self.http_p95_ms <= TARGET_P95_MS else "MISSES"
        return [
            f"offline consultation turn, {self.turns} turns ({USERS} users x "
            f"{len(SCRIPTED_CONSULTATION)} messages)",
            f"  full turn over HTTP: median {self.http_median_ms:.1f} ms, "
            f"p95 {self.http_p95_ms:.1f} ms ({verdict} the p95 <= {TARGET_P95_MS:.0f} ms target)",
            f"  engine alone:        median {self.engine_median_ms:.1f} ms, "
            f"p95 {self.engine_p95_ms:.1f} ms",
            f"  ratio full / engine (median): {ratio:.1f}x",
        ]

    def figures(self) -> list[Figure]:
        name = "consultation turn (issue 4)"
        return [
            Figure(
                name, "full turn over HTTP, median", self.http_median_ms, "ms",
                f"engine alone {self.engine_median_ms:.1f} ms",
                self.http_median_ms / self.engine_median_ms if self.engine_median_ms else None,
            ),
            Figure(
                name, "full turn over HTTP, p95", self.http_p95_ms, "ms",
                f"engine alone {self.engine_p95_ms:.1f} ms",
                self.http_p95_ms / self.engine_p95_ms if self.engine_p95_ms else None,
                f"p95 <= {TARGET_P95_MS:.0f} ms", self.http_p95_ms <= TARGET_P95_MS,
            ),
        ]  # fmt: skip


def run() -> Result:
    with (
        throwaway_database() as db_url,
        functions_server(db_url, SHARPENED_CHAT_MESSAGES_PER_MINUTE="1000") as base,
    ):
        database = Database(db_url, min_size=1, max_size=2)
        http_times: list[float] = []
        engine_times: list[float] = []
        try:
            keys = mint_keys_as_service(database, USERS)
            with httpx.Client(timeout=30) as client:
                for key in keys:
                    with psycopg.connect(db_url) as conn:
                        user_id = create_user(conn, f"bench-{uuid.uuid4().hex[:8]}@example.test")
                    claims = user_claims(user_id)
                    with database.as_user(claims) as conn:
                        session_id = redeem_key(conn, key.key_code).session_id
                    headers = {"Authorization": f"Bearer {mint_user_token(user_id)}"}
                    for message in SCRIPTED_CONSULTATION:
                        with database.as_user(claims) as conn:
                            state = _state(conn, _load_session(conn, session_id), dt.date.today())
                            engine = OfflineEngine(DatabaseLookup(conn))
                            started = time.perf_counter()
                            engine.next_turn(state, message)
                            engine_times.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        response = client.post(
                            f"{base}/consultation-chat",
                            headers=headers,
                            json={"session_id": str(session_id), "message": message},
                        )
                        http_times.append(time.perf_counter() - started)
                        response.raise_for_status()
        finally:
            database.close()
    http_median, http_p95 = summary(http_times)
    engine_median, engine_p95 = summary(engine_times)
    return Result(http_median, http_p95, engine_median, engine_p95, len(http_times))


if __name__ == "__main__":
    for line in run().lines():
        print(line)
