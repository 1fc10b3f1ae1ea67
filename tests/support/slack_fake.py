"""Talking to the desk the way Slack does: signed events, slash commands and interactivity."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import httpx

SLACK_SECRET = "test-slack-signing-secret"
STAFF_CHANNEL = "CSTAFF"
_ts = itertools.count(1)


class SlackHistory:
    """The messages in the mock workspace, kept as Slack keeps them: what the desk posts (as its
    bot), read back thread by thread with conversations.replies, removed by chat.delete."""

    def __init__(self) -> None:
        self.messages: dict[str, dict] = {}  # ts → message
        self._lock = threading.Lock()

    def add(self, channel: str, text: str, thread_ts: str | None = None, user: str = "UBOT") -> str:
        ts = f"1700000000.{next(_ts):06d}"
        message = {"type": "message", "channel": channel, "ts": ts, "user": user, "text": text,
                   **({"thread_ts": thread_ts} if thread_ts else {}), **({"bot_id": "BBOT"} if user == "UBOT" else {})}
        with self._lock:
            self.messages[ts] = message
        return ts

    def thread(self, ts: str) -> list[dict]:
        with self._lock:
            return sorted((m for m in self.messages.values() if m["ts"] == ts or m.get("thread_ts") == ts),
                          key=lambda m: m["ts"])

    def post(self, request) -> dict:
        channel = request.body.get("channel")
        return {"ok": True, "channel": channel,
                "ts": self.add(channel, str(request.body.get("text") or ""), request.body.get("thread_ts"))}

    def delete(self, request) -> dict:
        with self._lock:
            message = self.messages.get(str(request.body.get("ts")))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if "bot_id" not in message:
                return {"ok": False, "error": "cant_delete_message"}  # a bot token deletes only its own
            del self.messages[message["ts"]]
        return {"ok": True, "channel": message["channel"], "ts": message["ts"]}

    def replies(self, request) -> dict:
        messages = self.thread(str(request.body.get("ts")))
        if not messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}


def slack_api_answers(mock) -> None:
    """Realistic answers from the mock Slack Web API; `mock.history` holds the workspace's messages."""
    mock.history = SlackHistory()
    mock.answer("/auth.test", {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "url": "https://x.slack.com/"})
    mock.answer("/chat.postMessage", mock.history.post)
    mock.answer("/chat.delete", mock.history.delete)
    mock.answer("/conversations.replies", mock.history.replies)
    files = itertools.count(1)

    def upload_url(_request):
        n = next(files)
        return {"ok": True, "upload_url": f"{mock.url}/upload/F{n}", "file_id": f"F{n}"}
    mock.answer("/files.getUploadURLExternal", upload_url)
    mock.answer("/files.completeUploadExternal", {"ok": True, "files": [{"id": "F1"}]})
    mock.answer("/conversations.open", lambda r: {"ok": True, "channel": {"id": "D" + str(r.body.get("users", "X"))}})
    mock.answer("/conversations.members", {"ok": True, "members": ["USTAFF1", "USTAFF2"], "response_metadata": {"next_cursor": ""}})


def signed_headers(body: bytes, secret: str = SLACK_SECRET, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def post(url: str, body: bytes, content_type: str, **header_extra) -> httpx.Response:
    headers = {"content-type": content_type, **signed_headers(body), **header_extra}
    return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=10)


def interact(url: str, payload: dict) -> httpx.Response:
    return post(url, urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode(),
                "application/x-www-form-urlencoded")


def button(url: str, action_id: str, case_id: int, user: str = "USTAFF1") -> httpx.Response:
    return interact(url, {
        "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
        "trigger_id": uuid.uuid4().hex, "channel": {"id": STAFF_CHANNEL}, "container": {"type": "message"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": f"case_actions:{case_id}",
                     "value": str(case_id), "action_ts": "1"}],
    })


def submit_view(url: str, callback_id: str, private_metadata: str, values: dict, user: str = "USTAFF1") -> httpx.Response:
    return interact(url, {
        "type": "view_submission", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
        "view": {"id": "V1", "type": "modal", "team_id": "T1", "hash": "h", "callback_id": callback_id,
                 "private_metadata": private_metadata, "state": {"values": values}},
    })


def event(url: str, inner: dict, event_id: str | None = None, **headers) -> httpx.Response:
    body = json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id or "Ev" + uuid.uuid4().hex[:10], "event_time": int(time.time()),
                       "event": inner}, ensure_ascii=False).encode()
    return post(url, body, "application/json", **headers)


def command(url: str, text: str, response_url: str, user: str = "USTAFF1") -> httpx.Response:
    body = urlencode({"command": "/kyodo", "text": text, "user_id": user, "channel_id": STAFF_CHANNEL,
                      "team_id": "T1", "response_url": response_url, "trigger_id": "t"}).encode()
    return post(url, body, "application/x-www-form-urlencoded")
