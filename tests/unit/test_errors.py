"""SQLSTATE → HTTP status, as PostgREST maps them (SUPABASE_FACTS.md); the 500 answer."""

from __future__ import annotations

import flask
import psycopg
import pytest

from sharpened.errors import status_for_sqlstate
from sharpened.http import ENDPOINTS, REGISTRY, RequestContext, endpoint


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


def test_an_unmapped_database_error_answers_500_with_the_request_id_only() -> None:
    """No SQL text or SQLSTATE detail leaks; the request id is there to quote to support."""

    def handler(ctx: RequestContext) -> dict[str, str]:
        raise psycopg.errors.InternalError_('relation "secret_table" is broken')

    try:
        entry = endpoint("test-db-failure", methods=("GET",), auth="public")(handler)
        with flask.Flask(__name__).test_request_context(
            "/", method="GET", headers={"x-request-id": "req-42"}
        ):
            response = entry(flask.request)
    finally:
        ENDPOINTS.pop("test-db-failure", None)
        REGISTRY.pop("test-db-failure", None)
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {
            "code": "internal_error",
            "message": "internal error",
            "details": {"request_id": "req-42"},
        }
    }
    assert "secret_table" not in response.get_data(as_text=True)
