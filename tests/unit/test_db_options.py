"""The functions' connection options: prepared statements only where the connection keeps them."""

from __future__ import annotations

import pytest

from sharpened.db import Database, connection_options
from sharpened.settings import Settings


def test_a_direct_connection_keeps_psycopgs_prepared_statements() -> None:
    assert connection_options(Settings()) == {"connect_timeout": 5}


def test_behind_a_transaction_pooler_nothing_is_prepared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHARPENED_DB_PREPARED_STATEMENTS", "false")
    settings = Settings()
    assert connection_options(settings) == {"connect_timeout": 5, "prepare_threshold": None}
    pool = Database("postgresql://nobody@127.0.0.1:1/none", settings=settings).pool
    assert pool.kwargs["prepare_threshold"] is None
