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

    def __enter__(self) -> "LiveServer":
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
