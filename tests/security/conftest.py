"""Fixtures of the attack tests: a functions server, a victim with data, an attacker.

The functions server is the real one (``sharpened functions serve``) over
HTTP, with a per-minute chat limit high enough for the attack loops (the
limits themselves are tested in tests/e2e). ``world_unchanged`` checks, once
per module, that nothing outside the attacker's own rows changed.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from harness import functions_server
from security.support import (
    Attacker,
    Victim,
    create_attacker,
    create_victim,
    database_fingerprint,
    diff,
    victim_fingerprint,
)


@pytest.fixture(scope="session")
def attack_url(e2e_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("attack") / "functions.log"
    limits = {"SHARPENED_CHAT_MESSAGES_PER_MINUTE": "100000"}
    with functions_server(e2e_db, log_path, limits) as (_, base):
        yield base


@pytest.fixture(scope="session")
def victim(e2e_db: str, attack_url: str) -> Victim:
    return create_victim(e2e_db, attack_url, "main")


@pytest.fixture(scope="session")
def attacker(e2e_db: str) -> Attacker:
    user_id, token = create_attacker(e2e_db, "main")
    return Attacker(user_id, token)


@pytest.fixture
def victim_untouched(e2e_db: str, victim: Victim) -> Iterator[None]:
    """After the test, every row of the victim is exactly as before."""
    with psycopg.connect(e2e_db) as conn:
        before = victim_fingerprint(conn, victim.user_id)
    yield
    with psycopg.connect(e2e_db) as conn:
        after = victim_fingerprint(conn, victim.user_id)
    assert diff(before, after) == {}


@pytest.fixture(scope="module")
def world_unchanged(e2e_db: str, victim: Victim, attacker: Attacker) -> Iterator[None]:
    """Over the whole module: no row but the attacker's changed, and the catalog is intact."""
    with psycopg.connect(e2e_db) as conn:
        before = database_fingerprint(conn)
    yield
    with psycopg.connect(e2e_db) as conn:
        after = database_fingerprint(conn)
    assert diff(before, after) == {}
