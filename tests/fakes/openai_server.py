"""A fake OpenAI-compatible server over real HTTP, for tests of the OpenAI path.

It speaks just enough of ``POST /v1/chat/completions``: each request is
recorded (method, path, headers, JSON body) and answered with the next
scripted :class:`FakeResponse` (status, JSON body, headers, an optional delay
to make a client time out), then with ``responder`` when the queue is empty,
else with a 500 marked not-retryable (a test that forgot to script an answer
fails fast). It runs in a thread on a free port of 127.0.0.1::

    with FakeOpenAIServer() as server:
        server.enqueue(completion({"reply": "Hi", "extraction": {}}))
        client = openai.OpenAI(api_key="test", base_url=server.base_url)
        ...
        assert server.requests[0].body["model"] == "gpt-test"

The end-to-end tests of the functions can point ``OPENAI_BASE_URL`` of the
functions server at ``server.base_url``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class FakeResponse:
    """One scripted answer. ``body`` is sent as JSON (a ``str`` is sent as it is)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # the decoded JSON body (None when it was not JSON)
    received_at: float


def completion(
    content: str | dict[str, Any] | None,
    *,
    model: str = "gpt-test",
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> FakeResponse:
    """A 200 chat completion whose message content is ``content`` (a dict is JSON-encoded)."""
    text = json.dumps(content) if isinstance(content, dict) else content
    return FakeResponse(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    )


def error(
    status: int,
    message: str = "scripted error",
    *,
    retry_after_ms: int | None = None,
    headers: dict[str, str] | None = None,
) -> FakeResponse:
    """An OpenAI-style error answer; ``retry_after_ms`` keeps the client's backoff short."""
    all_headers = dict(headers or {})
    if retry_after_ms is not None:
        all_headers["retry-after-ms"] = str(retry_after_ms)
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return FakeResponse(
        status=status,
        body={"error": {"message": message, "type": kind, "param": None, "code": kind}},
        headers=all_headers,
    )


def stall(seconds: float, response: FakeResponse | None = None) -> FakeResponse:
    """``response`` (a valid turn by default) sent only after ``seconds``: a client timeout."""
    return replace(response or completion({"reply": "too late", "extraction": {}}), delay=seconds)


class FakeOpenAIServer:
    """The fake server; use it as a context manager (or call start() / close())."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.responder: Callable[[RecordedRequest], FakeResponse] | None = None
        self._queue: deque[FakeResponse] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() returns within one interval
            name="fake-openai",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``openai.OpenAI(base_url=...)`` / ``OPENAI_BASE_URL`` takes."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()  # wakes stalled answers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def enqueue(self, *responses: FakeResponse) -> None:
        """Script the next answers, in order."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """Scripted answers not served yet."""
        with self._lock:
            return len(self._queue)

    def completions(self) -> list[RecordedRequest]:
        """The recorded chat-completion requests."""
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return FakeResponse(status=404, body={"error": {"message": "not found"}})
        if self.responder is not None:
            return self.responder(request)
        return FakeResponse(
            status=500,
            body={"error": {"message": "the fake OpenAI server has no scripted answer"}},
            headers={"x-should-retry": "false"},
        )


def _handler_class(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = RecordedRequest(
                method=self.command,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                received_at=time.monotonic(),
            )
            response = server._answer(request)
            if response.delay and server._stopping.wait(response.delay):
                return
            payload = (
                response.body.encode()
                if isinstance(response.body, str)
                else json.dumps(response.body).encode()
            )
            try:
                self.send_response(response.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
