"""The thin HTTP layer every function shares: auth, parsing, JSON answers, errors.

A function in ``functions/main.py`` is a plain ``handler(ctx) -> dict`` wrapped
by :func:`endpoint`, which registers it under its public name, checks the
method and the caller's token, and turns every failure into the one JSON
error shape with the right status. No stack trace ever reaches a response:
unexpected errors are logged with a request id and answered with 500.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import flask
import psycopg
import pydantic

from sharpened.auth import AuthError, Caller, bearer_token, verify_token
from sharpened.db import Database, get_database
from sharpened.errors import ApiError, from_database_error
from sharpened.settings import get_settings

log = logging.getLogger("sharpened.functions")

AuthMode = Literal["public", "user", "service"]
Model = TypeVar("Model", bound=pydantic.BaseModel)
Handler = Callable[["RequestContext"], Any]

# Public function name (URL segment) → entry-point name in functions/main.py.
REGISTRY: dict[str, str] = {}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
}


@dataclass(frozen=True)
class RequestContext:
    """What a handler gets: the request, the verified caller and the database."""

    request: flask.Request
    caller: Caller
    db: Database

    def json(self, model: type[Model]) -> Model:
        """The request body validated into ``model`` (422 on invalid input)."""
        limit = get_settings().max_body_bytes
        raw = self.request.stream.read(limit + 1)
        if len(raw) > limit:
            raise ApiError(413, "payload_too_large", f"the request body exceeds {limit} bytes")
        if not raw:
            raise ApiError(400, "invalid_json", "the request body must be a JSON object")
        try:
            return model.model_validate_json(raw)
        except pydantic.ValidationError as exc:
            raise _validation_error(exc) from None

    def headers(self) -> dict[str, str]:
        """Request headers, as PostgREST passes them to SQL (``request.headers``)."""
        return {k.lower(): v for k, v in self.request.headers.items()}


def _validation_error(exc: pydantic.ValidationError) -> ApiError:
    problems = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    if problems and problems[0]["type"] == "json_invalid":
        return ApiError(400, "invalid_json", "the request body is not valid JSON")
    return ApiError(422, "validation_failed", "the request body is invalid", problems)


def json_response(status: int, body: Any) -> flask.Response:
    response = flask.Response(
        json.dumps(body, default=str, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers.update(CORS_HEADERS)
    return response


def authenticate(request: flask.Request, mode: AuthMode) -> Caller:
    """The caller behind the request's bearer token, as ``mode`` requires."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        if mode == "public":
            return Caller(role="anon")
        raise AuthError("missing_token", "this function needs 'Authorization: Bearer <token>'")
    caller = verify_token(token)
    if mode == "user" and caller.role != "authenticated":
        raise AuthError("user_token_required", "this function needs a signed-in user's token")
    if mode == "service" and caller.role != "service_role":
        raise ApiError(403, "permission_denied", "this function is for the service role only")
    return caller


def endpoint(
    name: str, *, methods: tuple[str, ...] = ("POST",), auth: AuthMode = "user"
) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Register ``handler`` as the function ``name`` and wrap it in the shared HTTP layer."""

    def decorate(handler: Handler) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(handler)
        def entry_point(request: flask.Request) -> flask.Response:
            if request.method == "OPTIONS":
                return json_response(204, None)
            request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
            caller = Caller(role="anon")
            try:
                if request.method not in methods:
                    raise ApiError(
                        405, "method_not_allowed", f"use {' or '.join(methods)} for {name}"
                    )
                limit = get_settings().max_body_bytes
                if (request.content_length or 0) > limit:
                    raise ApiError(
                        413, "payload_too_large", f"the request body exceeds {limit} bytes"
                    )
                caller = authenticate(request, auth)
                result = handler(RequestContext(request, caller, get_database()))
                response = json_response(200, result)
            except AuthError as exc:
                response = json_response(401, ApiError(401, exc.code, exc.message).body())
                response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            except ApiError as exc:
                response = json_response(exc.status, exc.body())
            except psycopg.Error as exc:
                error = from_database_error(exc, authenticated=caller.role != "anon")
                if error.status >= 500:
                    log.error("request %s to %s failed: %r", request_id, name, exc)
                response = json_response(error.status, error.body())
            except Exception:
                log.exception("request %s to %s failed", request_id, name)
                error = ApiError(
                    500, "internal_error", "internal error", {"request_id": request_id}
                )
                response = json_response(500, error.body())
            response.headers["x-request-id"] = request_id
            return response

        REGISTRY[name] = handler.__name__
        return entry_point

    return decorate
