"""A local stand-in for a remote platform API (LINE's, Slack's): records every request and
answers with failures on demand. Tests start it on a free loopback port and inspect it.

With `limits` (tests/support/platform_limits.py), a request the real platform would refuse is
answered as the platform answers it (`refuse`) and kept in `violations`, which the fixtures in
tests/conftest.py fail the test on at teardown."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

Limits = Callable[[str, dict], list[str]]
Refusal = Callable[[list[str]], tuple[int, dict]]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: dict
    at: float
    status: int = 200
    raw: bytes = b""


@dataclass
class Failure:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class MockPlatform:
    def __init__(self, default_body: dict | None = None, limits: Limits | None = None,
                 refuse: Refusal | None = None):
        self.requests: list[Recorded] = []
        self.limits, self.refuse = limits, refuse or (lambda problems: (400, {"message": "; ".join(problems)}))
        self.violations: list[tuple[str, list[str]]] = []  # (path, what the platform would refuse)
        self.cut_off = 0  # requests whose sender stopped mid-body (killed): never requests the platform got
        self.default_body = default_body or {}
        self._failures: dict[str, list[Failure]] = {}
        self._bodies: dict[str, dict] = {}
        self.responders: dict[str, object] = {}  # path → fn(request) → (status, body) or None, for stateful APIs
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> MockPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, path: str, status: int, times: int = 1, body: dict | None = None,
             headers: dict | None = None, delay: float = 0.0) -> None:
        """The next `times` requests to `path` get this answer (a status, or a delay past the client's timeout)."""
        with self._lock:
            self._failures.setdefault(path, []).extend(
                Failure(status, body or {"message": f"mock {status}"}, headers or {}, delay) for _ in range(times))

    def heal(self) -> None:
        """Forget every failure still queued."""
        with self._lock:
            self._failures.clear()

    def answer(self, path: str, body) -> None:
        """Answer `path` with this body, or with what a function of the recorded request returns."""
        self._bodies[path] = body

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def accepted(self, *paths: str) -> list[Recorded]:
        """Requests to these paths that were answered 200."""
        with self._lock:
            return [r for r in self.requests if r.path in paths and r.status == 200]

    def wait_for(self, path: str, count: int = 1, timeout: float = 15.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls(path)
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {path}, got {len(self.calls(path))}: "
                             f"{[r.path for r in self.requests]}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_PlatformHandler,), {"mock": self})


class _PlatformHandler(BaseHTTPRequestHandler):
    """Serves one request for `mock` (set per platform by `MockPlatform._handler`)."""
    mock: MockPlatform

    def log_message(self, *args):  # quiet
        pass

    def _handle(self):
        mock = self.mock
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:  # the sender died mid-request (a kill -9): the platform never got a request
            with mock._lock:
                mock.cut_off += 1
            return
        body = _decode(raw, self.headers.get("content-type", "")) or _query(self.path)
        path = self.path.split("?")[0]
        if self._refused(self.command, path, body, raw):
            return
        with mock._lock:
            queue = mock._failures.get(path) or []
            failure = queue.pop(0) if queue else None
            mock.requests.append(Recorded(self.command, path, dict(self.headers), body, time.monotonic(),
                                          failure.status if failure else 200, raw))
        recorded = mock.requests[-1]
        responder = mock.responders.get(path)
        if failure:
            time.sleep(failure.delay)
            if failure.status == 200 and responder:  # a slow success still changes the platform's state
                responder(recorded)
            self._send(failure.status, failure.body, failure.headers)
            return
        outcome = responder(recorded) if responder else None
        if outcome:
            with mock._lock:
                recorded.status = outcome[0]
            self._send(outcome[0], outcome[1], {})
            return
        answer = mock._bodies.get(path, mock.default_body)
        self._send(200, answer(recorded) if callable(answer) else answer, {})

    def _refused(self, method, path, body, raw) -> bool:
        problems = self.mock.limits(path, body) if self.mock.limits and isinstance(body, dict) else []
        if not problems:
            return False
        status, answer = self.mock.refuse(problems)
        with self.mock._lock:
            self.mock.violations.append((path, problems))
            self.mock.requests.append(Recorded(method, path, dict(self.headers), body, time.monotonic(), status, raw))
        self._send(status, answer, {})
        return True

    def _send(self, status, body, headers):
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, str(value))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_GET = do_PUT = do_DELETE = _handle


def _query(path: str) -> dict:
    """The arguments of a GET (Slack's read methods, as slack_sdk calls them), read like a form body."""
    query = path.partition("?")[2]
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()} if query else {}


def _decode(raw: bytes, content_type: str) -> dict:
    if not raw:
        return {}
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}
    if "x-www-form-urlencoded" in content_type:
        try:
            return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode()).items()}
        except UnicodeDecodeError:  # a file upload sent with the default form type
            return {}
    return {"_raw": raw[:2000].decode("utf-8", "replace")}
