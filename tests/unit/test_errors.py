"""SQLSTATE → HTTP status, as PostgREST maps them (SUPABASE_FACTS.md)."""

from __future__ import annotations

import pytest

from sharpened.errors import status_for_sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "authenticated", "status"),
    [
        ("P0001", True, 400),
        ("42501", True, 403),
        ("42501", False, 401),
        ("23505", True, 409),
        ("23503", True, 409),
        ("23514", True, 400),
        ("22023", True, 400),
        ("42883", True, 404),
        ("42P01", True, 404),
        ("25006", True, 405),
        ("08006", True, 503),
        ("53300", True, 503),
        ("PT422", True, 422),
        ("PT409", True, 409),
        ("XX000", True, 500),
    ],
)
def test_status_for_sqlstate(sqlstate: str, authenticated: bool, status: int) -> None:
    assert status_for_sqlstate(sqlstate, authenticated=authenticated) == status
