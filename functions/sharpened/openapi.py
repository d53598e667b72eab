"""The functions' OpenAPI 3.1 document, built from their ``@endpoint`` contracts.

Every function in ``functions/main.py`` declares its request and answer models,
its auth mode and its own error codes (:class:`sharpened.http.EndpointSpec`).
:func:`build_document` turns that registry and the models' JSON schemas
(pydantic's, JSON Schema 2020-12, which OpenAPI 3.1 uses as is) into the
document; the errors every function shares (auth, body parsing, size, database,
internal) are added here from the auth mode and the request model, so the
document says which status and which ``error.code`` each function can answer.

The output is deterministic (sorted keys, no environment in it): ``docs/openapi.yaml``
is checked in (``make openapi`` or ``sharpened openapi`` regenerates it, a test
checks it is current) and the local gateway serves the same document at
``GET /functions/v1/openapi.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from sharpened import __version__
from sharpened.http import CORS_HEADERS, ENDPOINTS, EndpointSpec
from sharpened.settings import PROJECT_ROOT

OPENAPI_VERSION = "3.1.0"
SPEC_PATH = PROJECT_ROOT / "docs" / "openapi.yaml"
#: The local stack's functions URL (``make dev``); fixed so the document does not depend on
#: the environment it is generated in.
LOCAL_SERVER = "http://127.0.0.1:54321/functions/v1"
HOSTED_SERVER = "https://{project_ref}.supabase.co/functions/v1"
ROUTE = "openapi.json"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="stable, machine-readable error code")
    message: str = Field(description="human-readable explanation (never a stack trace)")
    details: Any = Field(
        description="null or structured details: validation problems, the SQLSTATE, limits, "
        "missing fields, `retryable`, the `request_id` of an internal error"
    )


class ErrorResponse(BaseModel):
    """The one error shape every function answers with."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


_AUTH_ERRORS: dict[str, dict[int, tuple[str, ...]]] = {
    # An absent token is fine for a public function; a bad one is still refused.
    "public": {401: ("invalid_token", "token_expired", "invalid_audience")},
    "user": {
        401: (
            "missing_token",
            "invalid_token",
            "token_expired",
            "invalid_audience",
            "user_token_required",
        )
    },
    "service": {
        401: ("missing_token", "invalid_token", "token_expired", "invalid_audience"),
        403: ("permission_denied",),
    },
}

_STATUS_TEXT = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Unavailable",
    504: "Gateway timeout",
}

_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [{}, {"apikey": []}],
    "user": [{"userToken": [], "apikey": []}],
    "service": [{"serviceRole": [], "apikey": []}],
}

_SECURITY_SCHEMES = {
    "apikey": {
        "type": "apiKey",
        "in": "header",
        "name": "apikey",
        "description": "The project's anon key (the service_role key for service calls), "
        "which Supabase's API gateway requires on every request; the local server does not "
        "check it.",
    },
    "userToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A signed-in user's access token (`aud` and `role` `authenticated`): "
        "HS256 with the project's JWT secret, or RS256/ES256 from the project's JWKS.",
    },
    "serviceRole": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The project's service_role key (`role` `service_role`).",
    },
}

_HEADERS = {
    "RequestId": {
        "description": "The request's id (the caller's `x-request-id`, else a new one); quote "
        "it to support.",
        "schema": {"type": "string"},
    },
    "WWWAuthenticate": {
        "description": 'Always `Bearer error="invalid_token"`.',
        "schema": {"type": "string"},
    },
}
_REQUEST_ID = {"x-request-id": {"$ref": "#/components/headers/RequestId"}}


def error_codes(spec: EndpointSpec) -> dict[int, tuple[str, ...]]:
    """Every error status ``spec``'s function can answer, with the codes, sorted."""
    codes: dict[int, set[str]] = {}

    def add(status: int, *names: str) -> None:
        codes.setdefault(status, set()).update(names)

    for status, names in _AUTH_ERRORS[spec.auth].items():
        add(status, *names)
    add(413, "payload_too_large")  # Content-Length over the limit, before anything else
    if spec.request is not None:
        add(400, "invalid_json")
        add(422, "validation_failed")
    add(500, "internal_error")
    add(503, "database_unavailable")
    for status, names in spec.errors.items():
        add(status, *names)
    return {status: tuple(sorted(codes[status])) for status in sorted(codes)}


def load_endpoints(source: Path | None = None) -> dict[str, EndpointSpec]:
    """The contracts of the functions of ``source`` (default ``functions/main.py``)."""
    from sharpened.gateway import FUNCTIONS_SOURCE, function_names

    names = function_names(source or FUNCTIONS_SOURCE)
    return {name: ENDPOINTS[name] for name in names}


def _error_schema(ref: str, codes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": ref},
            {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}},
        ]
    }


def _operation(
    spec: EndpointSpec, refs: Mapping[tuple[Any, JsonSchemaMode], str]
) -> dict[str, Any]:
    error_ref = refs[(ErrorResponse, "serialization")]
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": "OK", "headers": dict(_REQUEST_ID)}
    if spec.response is not None:
        ok["content"] = {
            "application/json": {"schema": {"$ref": refs[(spec.response, "serialization")]}}
        }
    responses["200"] = ok
    for status, codes in error_codes(spec).items():
        listed = ", ".join(f"`{code}`" for code in codes)
        answer: dict[str, Any] = {
            "description": f"{_STATUS_TEXT.get(status, 'Error')}: {listed}",
            "headers": dict(_REQUEST_ID),
            "content": {"application/json": {"schema": _error_schema(error_ref, codes)}},
        }
        if status == 401:
            answer["headers"]["WWW-Authenticate"] = {"$ref": "#/components/headers/WWWAuthenticate"}
        responses[str(status)] = answer
    operation: dict[str, Any] = {
        "operationId": spec.entry_point,
        "summary": spec.summary,
        "security": [dict(requirement) for requirement in _SECURITY[spec.auth]],
        "responses": responses,
        "x-auth": spec.auth,
    }
    if spec.description:
        operation["description"] = spec.description
    if spec.request is not None:
        operation["requestBody"] = {
            "required": spec.request_required,
            "content": {
                "application/json": {"schema": {"$ref": refs[(spec.request, "validation")]}}
            },
        }
    return operation


def build_document(endpoints: Mapping[str, EndpointSpec]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints`` (as :func:`load_endpoints` returns them)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
    for spec in endpoints.values():
        if spec.request is not None:
            models.append((spec.request, "validation"))
        if spec.response is not None:
            models.append((spec.response, "serialization"))
    unique = list(dict.fromkeys(models))
    key_map, top = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    refs: dict[tuple[Any, JsonSchemaMode], str] = {
        key: value["$ref"] for key, value in key_map.items()
    }
    paths = {
        f"/{name}": {method.lower(): _operation(spec, refs) for method in sorted(set(spec.methods))}
        for name, spec in sorted(endpoints.items())
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "SHARPENED functions",
            "version": __version__,
            "description": "The cloud functions of the SHARPENED backend, served under "
            "`/functions/v1/<name>` (docs/api.md, Functions, is the prose contract). Every "
            'error answers `{"error": {"code", "message", "details"}}`; each '
            "operation lists its statuses and codes. Generated from the functions' pydantic "
            "models by `make openapi`; do not edit by hand.",
        },
        "servers": [
            {"url": LOCAL_SERVER, "description": "the local stack (`make dev`)"},
            {
                "url": HOSTED_SERVER,
                "description": "a hosted Supabase project",
                "variables": {"project_ref": {"default": "your-project-ref"}},
            },
        ],
        "paths": paths,
        "components": {
            "headers": _HEADERS,
            "schemas": top.get("$defs", {}),
            "securitySchemes": _SECURITY_SCHEMES,
        },
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: repeated objects written out again, never as anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml(document: Mapping[str, Any]) -> str:
    """``document`` as the YAML checked in at ``docs/openapi.yaml`` (keys sorted)."""
    text: str = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return "# Generated by `make openapi` from functions/main.py; do not edit.\n" + text


def render_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def generated_yaml(source: Path | None = None) -> str:
    """The YAML the functions of ``source`` produce today."""
    return render_yaml(build_document(load_endpoints(source)))


def wsgi_app(document: Mapping[str, Any]) -> WSGIApp:
    """Serves ``document`` as JSON on GET (no auth), 204 on a CORS preflight."""
    payload = render_json(document)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        headers = list(CORS_HEADERS.items())
        if environ.get("PATH_INFO", "") not in ("", "/"):
            status, body = "404 NOT FOUND", _error("not_found", "no such document")
        elif method == "OPTIONS":
            start_response("204 NO CONTENT", headers)
            return [b""]
        elif method not in ("GET", "HEAD"):
            status, body = "405 METHOD NOT ALLOWED", _error("method_not_allowed", "use GET")
        else:
            status, body = "200 OK", payload
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    return app


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
