"""The local functions server: every function under ``/functions/v1/<name>``.

One process mounts ``functions_framework.create_app(target, source)`` per
function, the URL layout Supabase uses for its functions, behind a small
middleware that logs each request and answers unknown paths with JSON. The
functions' OpenAPI document is served at ``/functions/v1/openapi.json``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import functions_framework
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from sharpened import http
from sharpened.settings import PROJECT_ROOT

FUNCTIONS_SOURCE = PROJECT_ROOT / "functions" / "main.py"
BASE_PATH = "/functions/v1"

log = logging.getLogger("sharpened.gateway")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def function_names(source: Path = FUNCTIONS_SOURCE) -> dict[str, str]:
    """Public function name → entry point, as registered by ``@endpoint`` in ``source``."""
    spec = importlib.util.spec_from_file_location("_sharpened_functions_index", source)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so pydantic resolves the models' annotations
    spec.loader.exec_module(module)
    return dict(http.REGISTRY)


def _not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    body = {"error": {"code": "not_found", "message": f"no function at {path}", "details": None}}
    payload = json.dumps(body).encode()
    start_response(
        "404 NOT FOUND",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


class RequestLog:
    """WSGI middleware: one log line per request (method, path, status, duration)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        status_holder: list[str] = []

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            status_holder.append(status)
            return start_response(status, headers, *args)

        result = self.app(environ, recording_start_response)
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = status_holder[0].split()[0] if status_holder else "?"
        log.info("%s %s -> %s (%.1f ms)", method, path, status, elapsed_ms)
        return result


def _at_root(app: WSGIApp) -> WSGIApp:
    """Serve ``/functions/v1/<name>`` itself (empty PATH_INFO) without a redirect to ``…/``."""

    def mounted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return mounted


def build_app(source: Path = FUNCTIONS_SOURCE) -> WSGIApp:
    """The WSGI app serving every function of ``source`` under ``/functions/v1``."""
    from sharpened import openapi

    mounts = {
        f"{BASE_PATH}/{name}": _at_root(functions_framework.create_app(target, str(source)))  # type: ignore[no-untyped-call]
        for name, target in function_names(source).items()
    }
    # The functions' OpenAPI document (no auth), as docs/openapi.yaml has it.
    mounts[f"{BASE_PATH}/{openapi.ROUTE}"] = openapi.wsgi_app(
        openapi.build_document(openapi.load_endpoints(source))
    )
    return RequestLog(DispatcherMiddleware(_not_found, mounts))


def make_gateway(host: str, port: int, source: Path = FUNCTIONS_SOURCE) -> BaseWSGIServer:
    """A threaded HTTP server for the gateway (``serve_forever()`` to run it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # RequestLog logs each request
    return make_server(host, port, build_app(source), threaded=True)
