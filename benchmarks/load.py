"""Load test (issue 9): many clients logging at once, with a fixed request budget.

``USERS`` virtual users (one thread each, one signed-up, onboarded user each) send requests
back to back until the shared budget of ``REQUESTS`` is spent, then stop by themselves. The mix:

* Data API logging, exactly as PostgREST runs it (one transaction per request over a pool of
  ``DATA_API_POOL`` connections, PostgREST's default ``db-pool``; ``set_config('role',
  'authenticated')``, ``request.jwt.claims`` and the rest of its prelude; read-only for GET;
  database errors mapped to HTTP statuses with PostgREST's table, a pool timeout after
  ``DATA_API_POOL_TIMEOUT`` s to 503 as ``db-pool-acquisition-timeout``): the RPCs
  ``log_quick_meal`` and ``log_activity_from_template`` (meal + items, activity + sets, in one
  transaction each), a meal logged directly in two requests (``POST /meals?on_conflict=
  user_id,client_id`` with ``resolution=ignore-duplicates``, then ``POST /meal_items``), the day's
  meals with their items and ``nutrition_today``. Every write carries a ``client_id``;
* real HTTP calls to the functions server (``sharpened functions serve``): ``me``,
  ``coach-chat``, ``consultation-chat`` (the scripted consultation, over and over) and
  ``generate-program``.

The report gives, per endpoint, the requests, successes, 4xx, 5xx and transport errors,
requests/s over the whole run and p50/p95/p99/max latency. Then every write is checked in the
database: each acknowledged log is there exactly once (counted per ``client_id``) with all its
items or sets, each acknowledged chat turn stored its two messages, each acknowledged program is
stored and laid out, and nothing is half-written (a meal without its items, a program without its
calendar, a chat message without its reply).

Exit status: 1 on any 5xx, transport error, 4xx (every request of the mix is valid), malformed
error body, or lost / partial / duplicate write.

Run: ``make load`` (or ``.venv/bin/python -m benchmarks.load --requests 3000 --users 16``). It
builds its own throwaway cluster and functions server; the chat limits are raised there
(``SHARPENED_CHAT_MESSAGES_PER_MINUTE`` / ``_PER_THREAD``) since each virtual user chats far
faster than the per-user limits allow. ``tests/faults/`` runs the same machinery, small, inside
``make test``, including a database restart and dropped connections mid-request.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg_pool import ConnectionPool

from benchmarks.common import functions_server, percentile, throwaway_database
from sharpened.auth import mint_user_token, user_claims
from sharpened.consultation.script import SCRIPTED_CONSULTATION
from sharpened.db import Database, begin_request
from sharpened.errors import from_database_error
from sharpened.keys import mint_keys_as_service, redeem_key
from sharpened.users import create_user

REQUESTS = 3000
USERS = 16
DATA_API_POOL = 10  # PostgREST's default db-pool
DATA_API_POOL_TIMEOUT = 10.0  # PostgREST's default db-pool-acquisition-timeout (s)
HTTP_TIMEOUT = 60.0
TIME_ZONE = "Europe/Berlin"
#: The functions server of a load run: chats far faster than a person (limits raised), and a
#: pool as large as the Data API's.
SERVER_ENV = {
    "SHARPENED_CHAT_MESSAGES_PER_MINUTE": "1000000",
    "SHARPENED_CHAT_MESSAGES_PER_THREAD": "1000000",
    "SHARPENED_POOL_MAX": "10",
    "SHARPENED_LOG_LEVEL": "WARNING",
}

QUICK_MEAL = "POST /rest/v1/rpc/log_quick_meal"
ACTIVITY = "POST /rest/v1/rpc/log_activity_from_template"
MEALS = "POST /rest/v1/meals"
MEAL_ITEMS = "POST /rest/v1/meal_items"
MEALS_READ = "GET /rest/v1/meals?select=*,meal_items(*)"
NUTRITION = "GET /rest/v1/nutrition_today"
ME = "GET /functions/v1/me"
COACH = "POST /functions/v1/coach-chat"
CONSULTATION = "POST /functions/v1/consultation-chat"
GENERATE = "POST /functions/v1/generate-program"
ENDPOINTS: tuple[str, ...] = (QUICK_MEAL, ACTIVITY, MEALS, MEAL_ITEMS, MEALS_READ, NUTRITION)
ENDPOINTS += (ME, COACH, CONSULTATION, GENERATE)

#: What a virtual user does next: action → weight (a direct meal log is 2 requests).
MIX = {
    "quick_meal": 20,
    "activity": 15,
    "direct_meal": 8,
    "read_meals": 10,
    "nutrition_today": 10,
    "me": 12,
    "coach": 10,
    "consultation": 10,
    "generate": 3,
}

ONBOARDING = """
update public.profiles set sex = 'male', date_of_birth = '1994-05-01', height_cm = 180,
    weight_kg = 82, activity_level = 'moderate', primary_goal = 'fat_loss',
    experience_level = 'intermediate', workout_frequency = 3, dietary_preference = 'omnivore',
    meals_per_day = 4, timezone = %s
where id = %s
"""

QUICK_MEAL_SQL = (
    "select to_json(m) from public.log_quick_meal("
    "quick_meal_id => %s, meal_type => 'snack', client_id => %s) as m"
)
ACTIVITY_SQL = (
    "select to_json(a) from public.log_activity_from_template("
    "template_id => %s, client_id => %s) as a"
)
MEALS_SQL = (
    "insert into public.meals (user_id, meal_type, logged_at, client_id) "
    "select b.user_id, b.meal_type, b.logged_at, b.client_id "
    "from json_populate_recordset(null::public.meals, %s::json) as b "
    "on conflict (user_id, client_id) do nothing returning json_build_object('id', id)"
)
MEAL_BY_CLIENT_ID_SQL = (
    "select json_build_object('id', m.id, 'meal_items', "
    "(select count(*) from public.meal_items as i where i.meal_id = m.id)) "
    "from public.meals as m where m.client_id = %s"
)
MEAL_ITEMS_SQL = (
    "insert into public.meal_items (meal_id, user_id, food_id, grams) "
    "select b.meal_id, b.user_id, b.food_id, b.grams "
    "from json_populate_recordset(null::public.meal_items, %s::json) as b "
    "returning json_build_object('id', id)"
)
MEALS_READ_SQL = (
    "select to_jsonb(m) || jsonb_build_object('meal_items', coalesce((select jsonb_agg(i) "
    "from public.meal_items as i where i.meal_id = m.id), '[]'::jsonb)) "
    "from public.meals as m where m.local_date = %s order by m.logged_at"
)
NUTRITION_SQL = "select to_json(n) from public.nutrition_today as n"


# ------------------------------------------------------------------ the Data API


class DataApi:
    """PostgREST's handling of one request, over a connection pool (as its ``authenticator``).

    Each request: a connection from the pool (waiting at most ``pool_timeout``), one
    transaction (read only for GET), the prelude as the user, the statement, commit. Database
    errors become the status PostgREST answers (``sharpened.errors``: 08/53/57P → 503, 23505 →
    409, ...); a connection it cannot get in time is a 503, as PostgREST's.
    """

    def __init__(self, db_url: str, size: int = DATA_API_POOL, pool_timeout: float = 0) -> None:
        self.pool_timeout = pool_timeout or DATA_API_POOL_TIMEOUT
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            db_url,
            min_size=size,
            max_size=size,
            kwargs={"connect_timeout": 5},
            check=ConnectionPool.check_connection,
            name="data-api",
            open=True,
        )

    def close(self) -> None:
        self.pool.close()

    def request(
        self,
        claims: dict[str, Any],
        method: str,
        path: str,
        statement: str,
        params: Sequence[Any],
        *,
        created: bool = False,
    ) -> tuple[int, list[Any]]:
        """(HTTP status, the JSON rows) of one request."""
        try:
            with self.pool.connection(timeout=self.pool_timeout) as conn, conn.transaction():
                if method == "GET":
                    conn.execute("set transaction read only")
                headers = {"content-type": "application/json", "user-agent": "benchmarks.load"}
                begin_request(conn, "authenticated", claims, headers, method, path)
                rows = [row[0] for row in conn.execute(statement, params).fetchall()]
        except psycopg.Error as exc:
            return from_database_error(exc, authenticated=True).status, []
        return (201 if created else 200), rows


# ------------------------------------------------------------------ users


@dataclass
class VirtualUser:
    """One signed-up, onboarded user with what its requests need."""

    user_id: uuid.UUID
    claims: dict[str, Any]
    token: str
    quick_meal_id: uuid.UUID
    quick_meal_items: int
    template_id: uuid.UUID
    template_sets: int
    session_id: uuid.UUID
    foods: list[str]
    conversation_id: str | None = None
    turns: int = 0


def create_users(db_url: str, count: int, prefix: str = "load") -> list[VirtualUser]:
    """``count`` users as the app leaves them after onboarding: a profile, a saved quick meal
    (3 foods), an activity template (4 sets) and a redeemed consultation key."""
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(db_url) as conn:
        foods = [
            str(row[0])
            for row in conn.execute(
                "select id from public.foods where kcal_per_100g between 50 and 400 "
                "order by id limit 12"
            )
        ]
        exercises = [
            row[0]
            for row in conn.execute(
                "select id from public.exercises where category = 'strength' order by id limit 4"
            )
        ]
        ids = [create_user(conn, f"{prefix}-{tag}-{i}@example.test") for i in range(count)]
        rows: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID, int, list[str]]] = []
        for i, user_id in enumerate(ids):
            conn.execute(ONBOARDING, (TIME_ZONE, user_id))
            mine = [foods[(i + k) % len(foods)] for k in range(3)]
            components = [{"food_id": food, "grams": 80 + 20 * k} for k, food in enumerate(mine)]
            quick = conn.execute(
                "insert into public.quick_meals (user_id, meal_name, components) "
                "values (%s, 'Usual snack', %s) returning id",
                (user_id, json.dumps(components)),
            ).fetchone()
            sets = [{"exercise_id": ex, "reps": 8, "weight_kg": 60, "rir": 2} for ex in exercises]
            template = conn.execute(
                "insert into public.activity_templates (user_id, template_name, category, "
                "template_data) values (%s, 'Usual workout', 'strength', %s) returning id",
                (user_id, json.dumps({"duration_minutes": 45, "sets": sets})),
            ).fetchone()
            assert quick is not None
            assert template is not None
            rows.append((user_id, quick[0], len(components), template[0], len(sets), mine))
    database = Database(db_url, min_size=1, max_size=2)
    users = []
    try:
        keys = mint_keys_as_service(database, count)
        for (user_id, quick_id, items, template_id, n_sets, mine), key in zip(
            rows, keys, strict=True
        ):
            claims = user_claims(user_id)
            with database.as_user(claims, headers={"user-agent": "benchmarks.load"}) as conn:
                session_id = redeem_key(conn, key.key_code).session_id
            users.append(
                VirtualUser(
                    user_id, claims, mint_user_token(user_id, expires_in=6 * 3600),
                    quick_id, items, template_id, n_sets, session_id, mine,
                )
            )  # fmt: skip
    finally:
        database.close()
    return users


# ------------------------------------------------------------------ what was sent


@dataclass(frozen=True)
class Outcome:
    endpoint: str
    status: int  # 0: no HTTP answer at all (transport error)
    started: float  # time.monotonic() when sent
    seconds: float
    well_formed: bool  # an error answer in the documented shape (always True for 2xx)


@dataclass
class Write:
    """A write a client sent: a log (``client_id``) or a function call that stores rows."""

    kind: str  # quick_meal | activity | direct_meal | coach | consultation | generate
    user: VirtualUser
    client_id: str
    expected: int  # items / sets of a log (0 for function calls)
    acknowledged: bool = False
    meal_id: str | None = None  # direct meal: the meal once its first request succeeded


@dataclass
class LoadReport:
    outcomes: list[Outcome] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    seconds: float = 0.0
    users: list[VirtualUser] = field(default_factory=list)

    def by_endpoint(self) -> dict[str, list[Outcome]]:
        grouped: dict[str, list[Outcome]] = {name: [] for name in ENDPOINTS}
        for outcome in self.outcomes:
            grouped.setdefault(outcome.endpoint, []).append(outcome)
        return {name: found for name, found in grouped.items() if found}

    def failures(self) -> list[Outcome]:
        """5xx and transport errors."""
        return [o for o in self.outcomes if o.status == 0 or o.status >= 500]

    def rejected(self) -> list[Outcome]:
        """4xx: every request of the mix is valid, so a 4xx is a bug too."""
        return [o for o in self.outcomes if 400 <= o.status < 500]

    def malformed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.well_formed]

    def table(self) -> list[str]:
        header = (
            f"{'endpoint':<46} {'requests':>8} {'2xx':>6} {'4xx':>5} {'5xx':>5} {'no answer':>9} "
            f"{'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)"
        )
        lines = [header, "-" * len(header)]
        rows = [*self.by_endpoint().items(), ("all", self.outcomes)]
        for name, found in rows:
            statuses = Counter(o.status // 100 for o in found)
            ms = [o.seconds * 1000 for o in found]
            lines.append(
                f"{name:<46} {len(found):>8} {statuses[2]:>6} {statuses[4]:>5} {statuses[5]:>5} "
                f"{statuses[0]:>9} {len(found) / self.seconds:>7.1f} {percentile(ms, 0.50):>7.1f} "
                f"{percentile(ms, 0.95):>7.1f} {percentile(ms, 0.99):>7.1f} {max(ms):>7.1f}"
            )
        return lines


# ------------------------------------------------------------------ the virtual users


def _well_formed(response: httpx.Response) -> bool:
    """An error answer is ``{"error": {"code", "message", "details"}}`` with no stack trace."""
    if response.status_code < 400:
        return True
    if "Traceback" in response.text or 'File "' in response.text:
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"code", "message", "details"} <= error.keys()


class Client:
    """What one virtual user sends: Data API requests and function calls, each one recorded."""

    def __init__(self, run: LoadRun, user: VirtualUser) -> None:
        self.run = run
        self.user = user
        self.http = httpx.Client(
            base_url=run.functions_url,
            headers={"Authorization": f"Bearer {user.token}"},
            timeout=HTTP_TIMEOUT,
        )

    def close(self) -> None:
        self.http.close()

    def data_api(
        self, endpoint: str, statement: str, params: Sequence[Any], *, created: bool = False
    ) -> tuple[int, list[Any]]:
        method, path = endpoint.split(" ", 1)
        started = time.monotonic()
        status, rows = self.run.data_api.request(
            self.user.claims, method, path.split("?")[0], statement, params, created=created
        )
        self.run.record(Outcome(endpoint, status, started, time.monotonic() - started, True))
        return status, rows

    def call(self, endpoint: str, body: dict[str, Any] | None = None) -> httpx.Response | None:
        method, path = endpoint.split(" ", 1)
        name = path.rsplit("/", 1)[1]
        started = time.monotonic()
        try:
            response = self.http.request(method, f"/{name}", json=body)
        except httpx.TransportError:
            self.run.record(Outcome(endpoint, 0, started, time.monotonic() - started, True))
            return None
        elapsed = time.monotonic() - started
        self.run.record(Outcome(endpoint, response.status_code, started, elapsed, True))
        if not _well_formed(response):
            self.run.record_malformed(endpoint, response)
        return response

    # ---- logging (Data API)

    def quick_meal(self, write: Write) -> None:
        status, rows = self.data_api(
            QUICK_MEAL, QUICK_MEAL_SQL, (self.user.quick_meal_id, write.client_id)
        )
        write.acknowledged = status == 200 and len(rows) == 1

    def activity(self, write: Write) -> None:
        status, rows = self.data_api(
            ACTIVITY, ACTIVITY_SQL, (self.user.template_id, write.client_id)
        )
        write.acknowledged = status == 200 and len(rows) == 1

    def direct_meal(self, write: Write) -> None:
        """``POST /meals?on_conflict=user_id,client_id`` (ignore duplicates), then its items;
        a retry that finds the meal already there reads it back by ``client_id`` first, and
        sends the items only if it has none (docs/api.md, Idempotent logging)."""
        fresh = False
        if write.meal_id is None:
            meal = {
                "user_id": str(self.user.user_id),
                "meal_type": "lunch",
                "logged_at": dt_now_iso(),
                "client_id": write.client_id,
            }
            status, rows = self.data_api(MEALS, MEALS_SQL, (json.dumps([meal]),), created=True)
            if status != 201:
                return
            if rows:
                write.meal_id, fresh = rows[0]["id"], True
        if not fresh:  # a retry: the meal is there already; are its items?
            status, rows = self.data_api(MEALS_READ, MEAL_BY_CLIENT_ID_SQL, (write.client_id,))
            if status != 200 or len(rows) != 1:
                return
            write.meal_id = rows[0]["id"]
            if rows[0]["meal_items"] > 0:
                write.acknowledged = rows[0]["meal_items"] == write.expected
                return
        items = [
            {"meal_id": write.meal_id, "user_id": str(self.user.user_id), "food_id": food,
             "grams": 150}
            for food in self.user.foods[: write.expected]
        ]  # fmt: skip
        status, rows = self.data_api(MEAL_ITEMS, MEAL_ITEMS_SQL, (json.dumps(items),), created=True)
        write.acknowledged = status == 201 and len(rows) == write.expected

    def read_meals(self) -> None:
        self.data_api(MEALS_READ, MEALS_READ_SQL, (self.run.today,))

    def nutrition_today(self) -> None:
        self.data_api(NUTRITION, NUTRITION_SQL, ())

    # ---- functions (HTTP)

    def me(self) -> None:
        self.call(ME)

    def coach(self, write: Write) -> None:
        body: dict[str, Any] = {"message": "How should I pace my protein today?"}
        if self.user.conversation_id is not None:
            body["conversation_id"] = self.user.conversation_id
        response = self.call(COACH, body)
        if response is not None and response.status_code == 200:
            self.user.conversation_id = response.json()["conversation_id"]
            write.acknowledged = True

    def consultation(self, write: Write) -> None:
        message = SCRIPTED_CONSULTATION[self.user.turns % len(SCRIPTED_CONSULTATION)]
        response = self.call(
            CONSULTATION, {"session_id": str(self.user.session_id), "message": message}
        )
        if response is not None and response.status_code == 200:
            self.user.turns += 1
            write.acknowledged = True

    def generate(self, write: Write) -> None:
        response = self.call(GENERATE, {"duration_weeks": self.run.program_weeks})
        if response is not None and response.status_code == 200:
            write.client_id = str(response.json()["program_id"])
            write.acknowledged = True

    def send(self, write: Write) -> None:
        actions: dict[str, Callable[[Write], None]] = {
            "quick_meal": self.quick_meal,
            "activity": self.activity,
            "direct_meal": self.direct_meal,
            "coach": self.coach,
            "consultation": self.consultation,
            "generate": self.generate,
        }
        actions[write.kind](write)


def dt_now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


#: The writes that are logs (with a client_id, safe to send again).
LOGS = ("quick_meal", "activity", "direct_meal")
#: Requests an action takes from the budget.
COST = {"direct_meal": 2}
EXPECTED = {"quick_meal": "quick_meal_items", "activity": "template_sets"}


class LoadRun:
    """One run: the budget, the clients' shared recorder, the Data API."""

    def __init__(
        self,
        db_url: str,
        functions_url: str,
        users: Sequence[VirtualUser],
        requests: int,
        *,
        seed: int = 9,
        mix: dict[str, int] | None = None,
        report: LoadReport | None = None,
        program_weeks: int = 12,
    ) -> None:
        self.db_url = db_url
        self.functions_url = functions_url
        self.users = list(users)
        self.left = requests
        self.seed = seed
        self.mix = mix or MIX
        self.program_weeks = program_weeks
        # Continuing an earlier report (same users): its writes are checked together.
        self.report = report or LoadReport(users=self.users)
        self.malformed: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.data_api = DataApi(db_url)
        with psycopg.connect(db_url) as conn:
            row = conn.execute("select (now() at time zone %s)::date", (TIME_ZONE,)).fetchone()
        assert row is not None
        self.today = row[0]

    def take(self, cost: int) -> bool:
        with self._lock:
            if self.left < cost:
                self.left = 0
                return False
            self.left -= cost
            return True

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self.report.outcomes.append(outcome)

    def record_malformed(self, endpoint: str, response: httpx.Response) -> None:
        with self._lock:
            self.malformed.append((endpoint, response.status_code, response.text[:500]))
            last = self.report.outcomes.pop()
            self.report.outcomes.append(
                Outcome(last.endpoint, last.status, last.started, last.seconds, False)
            )

    def new_write(self, kind: str, user: VirtualUser) -> Write:
        expected = getattr(user, EXPECTED[kind]) if kind in EXPECTED else 0
        if kind == "direct_meal":
            expected = 2
        write = Write(kind, user, f"{kind}-{next(self._ids)}-{uuid.uuid4().hex[:8]}", expected)
        with self._lock:
            self.report.writes.append(write)
        return write

    def _virtual_user(self, user: VirtualUser, lane: int) -> None:
        rng = random.Random(self.seed * 1000 + lane)  # noqa: S311 - load mix, not security
        kinds, weights = list(self.mix), list(self.mix.values())
        client = Client(self, user)
        first = kinds[lane % len(kinds)]  # with as many users as kinds, each kind is sent
        try:
            while True:
                kind, first = first or rng.choices(kinds, weights)[0], ""
                if not self.take(COST.get(kind, 1)):
                    return
                if kind == "read_meals":
                    client.read_meals()
                elif kind == "nutrition_today":
                    client.nutrition_today()
                elif kind == "me":
                    client.me()
                else:
                    client.send(self.new_write(kind, user))
        finally:
            client.close()

    def run(self) -> LoadReport:
        """Every virtual user until the budget is spent; the wall time from first to last."""
        threads = [
            threading.Thread(target=self._virtual_user, args=(user, lane), daemon=True)
            for lane, user in enumerate(self.users)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.report.seconds += time.monotonic() - started
        return self.report

    def resend_unacknowledged(self, kinds: Sequence[str] = LOGS) -> int:
        """Send every write of ``kinds`` that got no success again, as a client retries (same
        ``client_id``); returns how many were resent. Each resend is a recorded request too."""
        pending = [w for w in self.report.writes if not w.acknowledged and w.kind in kinds]
        clients = {id(user): Client(self, user) for user in self.users}
        try:
            for write in pending:
                clients[id(write.user)].send(write)
        finally:
            for client in clients.values():
                client.close()
        return len(pending)

    def close(self) -> None:
        self.data_api.close()


# ------------------------------------------------------------------ checking the database


def check_writes(db_url: str, report: LoadReport, *, exact: bool = True) -> list[str]:
    """Problems with what the run stored (empty: none).

    Always: every acknowledged write is stored exactly once and whole; nothing stored is
    half-written (a log without all its items / sets, a chat message without its reply, a program
    without its calendar); nothing stored that was never sent. ``exact`` (a run without faults):
    also nothing stored beyond what was acknowledged (a failed request may have committed just
    before its connection dropped, so a run with faults allows stored >= acknowledged).
    """
    problems: list[str] = []
    users = [user.user_id for user in report.users]
    with psycopg.connect(db_url) as conn:
        logs: dict[tuple[str, str], list[int]] = {}
        for user_id, client_id, children in conn.execute(
            "select m.user_id, m.client_id, "
            "(select count(*) from public.meal_items as i where i.meal_id = m.id) "
            "from public.meals as m where m.user_id = any(%(u)s) "
            "union all select a.user_id, a.client_id, "
            "(select count(*) from public.exercise_sets as s where s.activity_id = a.id) "
            "from public.activities as a where a.user_id = any(%(u)s)",
            {"u": users},
        ):
            logs.setdefault((f"{user_id}", client_id or ""), []).append(children)
        sent: set[tuple[str, str]] = set()
        for write in report.writes:
            if write.kind not in LOGS:
                continue
            key = (str(write.user.user_id), write.client_id)
            sent.add(key)
            stored = logs.get(key, [])
            if len(stored) > 1:
                problems.append(f"{write.kind} {write.client_id}: stored {len(stored)} times")
            if write.acknowledged and not stored:
                problems.append(f"{write.kind} {write.client_id}: acknowledged but LOST")
            if stored and stored[0] != write.expected:
                # A direct meal whose item request never succeeded is the client's to finish
                # (docs/api.md); every other log is one transaction: whole or absent.
                unfinished = write.kind == "direct_meal" and not write.acknowledged
                if not (unfinished and stored[0] == 0):
                    problems.append(
                        f"{write.kind} {write.client_id}: PARTIAL, {stored[0]} of "
                        f"{write.expected} items/sets"
                    )
        for key in logs.keys() - sent:
            problems.append(f"a log nobody sent: user {key[0]}, client_id {key[1]!r}")

        counts = {
            kind: Counter(
                (str(w.user.user_id), w.acknowledged) for w in report.writes if w.kind == kind
            )
            for kind in ("coach", "consultation", "generate")
        }
        for kind, table in (("coach", "coach_messages"), ("consultation", "consultation_messages")):
            thread = "conversation_id" if kind == "coach" else "session_id"
            rows = conn.execute(
                f"select user_id, {thread}, count(*) filter (where role = 'user'), "  # noqa: S608
                f"count(*) filter (where role = 'assistant') from public.{table} "
                f"where user_id = any(%s) group by 1, 2",
                (users,),
            ).fetchall()
            per_user: Counter[str] = Counter()
            for user_id, thread_id, asked, answered in rows:
                per_user[str(user_id)] += asked
                if asked != answered:
                    problems.append(
                        f"{kind} {thread_id}: PARTIAL, {asked} messages but {answered} replies"
                    )
            problems += _compare_counts(kind, counts[kind], per_user, exact=exact)
        for (conversation_id,) in conn.execute(
            "select c.id from public.coach_conversations as c where c.user_id = any(%s) "
            "and not exists (select from public.coach_messages as m "
            "where m.conversation_id = c.id)",
            (users,),
        ):
            problems.append(f"coach conversation {conversation_id}: PARTIAL, no messages")
        per_user_programs: Counter[str] = Counter()
        for user_id, program_id, events, sessions, meals in conn.execute(
            "select p.user_id, p.id, "
            "(select count(*) from public.calendar_events as e where e.program_id = p.id), "
            "(select count(*) from public.session_instances as s where s.program_id = p.id), "
            "(select count(*) from public.meal_instances as m where m.program_id = p.id) "
            "from public.programs as p where p.user_id = any(%s)",
            (users,),
        ):
            per_user_programs[str(user_id)] += 1
            if events == 0 or sessions == 0 or meals == 0 or events != sessions + meals:
                problems.append(
                    f"program {program_id}: PARTIAL, {events} calendar events for "
                    f"{sessions} sessions and {meals} meals"
                )
        problems += _compare_counts("generate", counts["generate"], per_user_programs, exact=exact)
        for user_id, active in conn.execute(
            "select user_id, count(*) from public.programs where user_id = any(%s) "
            "and status = 'active' group by 1 having count(*) > 1",
            (users,),
        ):
            problems.append(f"user {user_id}: {active} active programs")
    return problems


def _compare_counts(
    kind: str, sent: Counter[tuple[str, bool]], stored: Counter[str], *, exact: bool
) -> list[str]:
    problems = []
    for user in {user for user, _ in sent} | set(stored):
        acknowledged, attempted = sent[(user, True)], sent[(user, True)] + sent[(user, False)]
        if stored[user] < acknowledged:
            problems.append(f"{kind}, user {user}: {acknowledged} acknowledged, {stored[user]} "
                            "stored: LOST")  # fmt: skip
        elif stored[user] > (acknowledged if exact else attempted):
            problems.append(f"{kind}, user {user}: {stored[user]} stored, {acknowledged} "
                            f"acknowledged of {attempted} sent")  # fmt: skip
    return problems


# ------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS, help="the request budget")
    parser.add_argument("--users", type=int, default=USERS, help="virtual users (threads)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--db-url", help="an already deployed database to use instead of a throwaway cluster"
    )
    args = parser.parse_args(argv)
    with (
        contextlib.nullcontext(args.db_url) if args.db_url else throwaway_database() as db_url,
        functions_server(db_url, **SERVER_ENV) as base,
    ):
        users = create_users(db_url, args.users)
        run = LoadRun(db_url, base, users, args.requests, seed=args.seed)
        try:
            report = run.run()
        finally:
            run.close()
        problems = check_writes(db_url, report)
    acknowledged = sum(w.acknowledged for w in report.writes)
    print(
        f"{len(report.outcomes)} requests from {args.users} virtual users in "
        f"{report.seconds:.1f} s: {len(report.outcomes) / report.seconds:.0f} requests/s; "
        f"Data API pool {DATA_API_POOL}, functions pool {SERVER_ENV['SHARPENED_POOL_MAX']}"
    )
    print("\n".join(report.table()))
    print(
        f"writes: {len(report.writes)} sent, {acknowledged} acknowledged; checked in the database"
    )
    failures, malformed = report.failures(), run.malformed
    for endpoint, status, text in malformed[:10]:
        print(f"MALFORMED error answer from {endpoint} ({status}): {text}")
    for problem in problems[:50]:
        print(f"WRITE PROBLEM: {problem}")
    rejected = report.rejected()
    verdict = not failures and not rejected and not malformed and not problems
    print(
        f"{'OK' if verdict else 'FAILED'}: {len(failures)} 5xx / transport errors, "
        f"{len(rejected)} 4xx, "
        f"{len(malformed)} malformed error answers, {len(problems)} lost / partial / duplicate "
        "writes"
    )
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
