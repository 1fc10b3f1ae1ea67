"""Running the real app on a loopback port inside a test, and talking to it like LINE does."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid

import httpx
import uvicorn

LINE_SECRET = "test-line-channel-secret"
LINE_TOKEN = "test-line-access-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def sign(body: bytes, secret: str = LINE_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def line_event(kind: str = "message", user: str = "U1", source: str = "user", **extra) -> dict:
    source_obj = {"type": source, "userId": user}
    if source == "group":
        source_obj["groupId"] = "G1"
    if source == "room":
        source_obj["roomId"] = "R1"
    event = {
        "type": kind, "mode": "active", "timestamp": int(time.time() * 1000), "source": source_obj,
        "webhookEventId": extra.pop("event_id", None) or uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": extra.pop("redelivery", False)},
    }
    if kind in ("message", "postback", "follow", "join", "memberJoined", "beacon", "accountLink", "videoPlayComplete"):
        event["replyToken"] = extra.pop("reply_token", None) or uuid.uuid4().hex
    event.update(extra)
    return event


def text_event(text: str, user: str = "U1", **extra) -> dict:
    return line_event("message", user, message={"id": uuid.uuid4().hex[:12], "type": "text", "text": text,
                                                 "quoteToken": "q"}, **extra)


def postback_event(data: str, user: str = "U1", **extra) -> dict:
    return line_event("postback", user, postback={"data": data}, **extra)


def post_webhook(url: str, events: list[dict], signature: str | None = "auto", body: bytes | None = None) -> httpx.Response:
    body = body if body is not None else json.dumps({"destination": "Uxxxxxxxx", "events": events}, ensure_ascii=False).encode()
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["x-line-signature"] = sign(body)
    elif signature is not None:
        headers["x-line-signature"] = signature
    return httpx.post(f"{url}/line/webhook", content=body, headers=headers, timeout=10)


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    """Poll until `predicate()` returns something truthy; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def settle(db, timeout: float = 30.0) -> None:
    """Wait until every stored event is processed and every due LINE message is sent."""
    from sqlmodel import Session, select

    from store.models import Inbox, Outbox

    def idle():
        with Session(db) as session:
            return not (session.exec(select(Inbox).where(Inbox.status == "pending")).first()
                        or session.exec(select(Outbox).where(Outbox.status == "pending", Outbox.channel == "line")).first())
    wait_until(idle, timeout, "all work done")


def start_serve(db_url: str, line_url: str, cache: str, port: int | None = None, role: str = "all", **env_extra: str):
    """`kyodo-desk serve --role ROLE` as a real process with LINE pointed at the mock; returns (process, port)."""
    import os
    import subprocess
    import sys

    port = port or free_port()
    env = dict(os.environ, DATABASE_URL=db_url, LINE_CHANNEL_SECRET=LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN=LINE_TOKEN,
               LINE_API_BASE_URL=line_url, KYODO_CACHE_DIR=cache, **env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--role", role, "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy():
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        wait_until(healthy, 60, "serve started")
    except AssertionError:
        proc.kill()
        raise
    return proc, port
