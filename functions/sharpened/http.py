"""The thin HTTP layer every function shares: auth, parsing, JSON answers, errors.

A function in ``functions/main.py`` is a plain ``handler(ctx) -> dict`` wrapped
by :func:`endpoint`, which registers it under its public name, checks the
method and the caller's token, and turns every failure into the one JSON
error shape with the right status. No stack trace ever reaches a response:
unexpected errors are logged with a request id and answered with 500.

Each registration also records the function's contract (:class:`EndpointSpec`:
request and response models, auth, the errors it answers), from which
:mod:`sharpened.openapi` builds the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

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


def _integral(value: Any) -> Any:
    """JSON Schema's integers include 5.0: hand strict validation the int 5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _canonical_uuid(value: Any) -> Any:
    """JSON Schema's ``uuid`` format: only the hyphenated 8-4-4-4-12 form."""
    if not isinstance(value, str):
        return value  # strict validation refuses it
    if not _UUID_TEXT.fullmatch(value):
        raise ValueError("a UUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
    return uuid.UUID(value)


def _iso_date(value: Any) -> Any:
    """JSON Schema's ``date`` format: only YYYY-MM-DD (not "0", a timestamp or a datetime)."""
    if not isinstance(value, str):
        return value  # strict validation refuses it
    if not _DATE_TEXT.fullmatch(value):
        raise ValueError("a date in the form YYYY-MM-DD")
    return dt.date.fromisoformat(value)


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)

#: An integer as JSON Schema counts them: 5 or 5.0, never "5" or true.
JsonInt = Annotated[int, pydantic.BeforeValidator(_integral)]
#: A UUID as JSON Schema's ``uuid`` format has it (hyphenated; any case).
JsonUuid = Annotated[uuid.UUID, pydantic.BeforeValidator(_canonical_uuid)]
#: A date as JSON Schema's ``date`` format has it (YYYY-MM-DD).
JsonDate = Annotated[dt.date, pydantic.BeforeValidator(_iso_date)]
#: Text PostgreSQL can store: no NUL character (the database would refuse it).
JsonText = Annotated[str, pydantic.Field(pattern=r"^[^\x00]*$")]


class RequestBody(pydantic.BaseModel):
    """A function's JSON body: no unknown keys, no type coercion (``"5"`` is not 5), so that
    the model accepts exactly what its JSON schema (the OpenAPI request schema) allows. Use
    :data:`JsonInt`, :data:`JsonUuid`, :data:`JsonDate` and :data:`JsonText` for integers,
    UUIDs, dates and text."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True)
class EndpointSpec:
    """A function's contract, as the OpenAPI document states it.

    ``errors``: the function's own error codes by HTTP status; the errors every
    function shares (auth, body parsing, size, database, internal) are added by
    :mod:`sharpened.openapi` from ``auth`` and ``request``.
    """

    name: str
    entry_point: str
    methods: tuple[str, ...]
    auth: AuthMode
    summary: str
    description: str
    request: type[pydantic.BaseModel] | None = None
    request_required: bool = True
    response: type[pydantic.BaseModel] | None = None
    errors: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


# Public function name → its contract (filled by @endpoint, like REGISTRY).
ENDPOINTS: dict[str, EndpointSpec] = {}

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

    def json(self, model: type[Model], *, allow_empty: bool = False) -> Model:
        """The request body validated into ``model`` (422 on invalid input).

        The body is read whether or not the request says its length (a chunked body has no
        Content-Length), never more than the limit. ``allow_empty``: no body means ``model()``.
        """
        limit = get_settings().max_body_bytes
        raw = self.request.stream.read(limit + 1)
        if len(raw) > limit:
            raise ApiError(413, "payload_too_large", f"the request body exceeds {limit} bytes")
        if not raw:
            if allow_empty:
                return model()
            raise ApiError(400, "invalid_json", "the request body must be a JSON object")
        try:
            return model.model_validate_json(raw)
        except pydantic.ValidationError as exc:
            raise _validation_error(exc) from None

    def headers(self) -> dict[str, str]:
        """Request headers, as PostgREST passes them to SQL (``request.headers``)."""
        return {k.lower(): v for k, v in self.request.headers.items()}


#: At most this many problems are listed in a 422 answer (a body of 50,000 unknown keys would
#: otherwise be answered with 4 MB: the caller could make the functions send more than it sends).
MAX_PROBLEMS = 20


def _validation_error(exc: pydantic.ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return ApiError(400, "invalid_json", "the request body is not valid JSON")
    problems: list[dict[str, Any]] = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in errors[:MAX_PROBLEMS]
    ]
    if len(errors) > MAX_PROBLEMS:
        problems.append(
            {
                "loc": [],
                "msg": f"and {len(errors) - MAX_PROBLEMS} more problems",
                "type": "too_many_errors",
            }
        )
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
    name: str,
    *,
    methods: tuple[str, ...] = ("POST",),
    auth: AuthMode = "user",
    request: type[pydantic.BaseModel] | None = None,
    request_required: bool = True,
    response: type[pydantic.BaseModel] | None = None,
    errors: Mapping[int, tuple[str, ...]] | None = None,
) -> Callable[[Handler], Callable[[flask.Request], flask.Response]]:
    """Register ``handler`` as the function ``name`` and wrap it in the shared HTTP layer.

    ``request``/``response``: the pydantic models of the body it reads (with
    ``ctx.json``; ``request_required=False`` when an empty body is accepted) and of
    the JSON it answers with 200; ``errors``: its own error codes by status. They
    document the function (OpenAPI); the handler still parses and answers itself.
    """

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
                if error.code == "internal_error":  # as below: quote the request id to support
                    error.details = {"request_id": request_id}
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
        doc = inspect.cleandoc(handler.__doc__ or name)
        summary, _, description = doc.partition("\n")
        ENDPOINTS[name] = EndpointSpec(
            name=name,
            entry_point=handler.__name__,
            methods=methods,
            auth=auth,
            summary=summary.strip(),
            description=description.strip(),
            request=request,
            request_required=request_required,
            response=response,
            errors=dict(errors or {}),
        )
        return entry_point

    return decorate
