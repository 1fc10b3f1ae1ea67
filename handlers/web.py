"""The web chat: a page on `/` and a JSON API on the same engine, a session per browser (a cookie
the server signs).

- POST /api/chat      one message (text, or a button's postback); 429 past the limits
- GET  /api/chat/history  the session's last turns and an open draft, for a reloaded page
- GET  /api/chat/poll the messages waiting for the session (staff replies); changes nothing
- POST /api/chat/ack  the ids of the waiting messages the page has shown

A session gets a conversation row only when it does something that needs state (a form, a
case): a plain question from a browser without a cookie is answered and nothing is stored.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from bot import engine
from bot.fonts import JAPANESE_FONT
from bot.intents import REFERENCE
from bot.messages import Card, Choice, NoteQuestion, Postback, Reply, Say, SubmitCase, Text, Turn
from bot.replies import in_progress
from bot.runtime import Desk, TurnRequest
from bot.state import Mode, State
from handlers.config import WebConfig
from handlers.http import BodyTooLarge, read_limited, storable
from handlers.web_guard import DailyCounts, Sessions, TokenBuckets, session_key
from store import cases, conversations, outbox, webchat
from store.db import session_scope

STATIC = Path(__file__).parent / "static"
COOKIE = "kyodo_sid"
COOKIE_DAYS = 30
MAX_TEXT = 5_000
MAX_BODY = 6 * MAX_TEXT + 2_048  # the text's characters sent as \uXXXX escapes (json.dumps's default), and the rest
MAX_LABEL = 40
TOO_LONG = f"メッセージが長すぎます。一度に送れるのは{MAX_TEXT:,}字までです。分けてお送りください。"
HISTORY_TURNS = 30
CHANNEL = "web"
PROCESS = "*"  # the key of the one bucket every web chat message of this process shares
TOO_FAST = "短い時間にたくさんのメッセージが届きました。少し時間をおいてから、もう一度お送りください。"
CODE_MODES = (Mode.CHECK_CODE.value, Mode.GROUP_CODE.value)  # the session was asked for a code
_SHOWN_CODE = re.compile(r"((?:登録|確認)コードは )[A-Z0-9][A-Z0-9-]{3,12}")
_TYPED_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,}")
HIDDEN_CODE = "＊＊＊＊＊"
TOO_MANY_CASES = ("本日お受けできる件数の上限に達しました。入力した内容は残っていますので、明日以降に送信してください。"
                  "お急ぎの場合は{centre}（電話 {phone}）へお電話ください。")


def render(replies: list[Reply]) -> list[dict]:
    return [_render_one(reply) for reply in replies]


def _choices(choices: tuple[Choice, ...]) -> list[dict]:
    return [{"label": c.label, "data": c.data} for c in choices]


def _render_one(reply: Reply) -> dict:
    if isinstance(reply, Say):
        return {"type": "text", "text": reply.text, "choices": _choices(reply.choices)}
    assert isinstance(reply, Card)
    return {"type": "card", "kind": reply.kind, "title": reply.title, "body": reply.body,
            "fields": [list(f) for f in reply.fields], "footer": reply.footer,
            "buttons": _choices(reply.buttons), "choices": _choices(reply.choices)}


class WebChannel:
    """Messages for a browser that arrive later (staff replies) wait in the outbox until it polls."""
    name = CHANNEL

    def outbox_rows(self, user_key: str, replies: list[Reply], reply_to: dict | None = None) -> list[dict]:
        return [outbox.row(channel=self.name, target=user_key, kind="push", payload={"messages": render(replies)})]


class Refused(Exception):
    """A message not taken: the status and the Japanese sentence to show."""

    def __init__(self, message: str, status: int = 429, retry_after: float = 0.0):
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


@dataclass(frozen=True)
class Visit:
    sid: str
    returning: bool  # came with a cookie this server signed
    address: str


class WebChat:
    """The web chat's turns, history and waiting messages, within its limits."""

    def __init__(self, desk: Desk, config: WebConfig, on_queued=lambda: None):
        self.desk, self.config, self.on_queued = desk, config, on_queued
        self.sessions = Sessions(session_key(config.session_secret, config.key_dir))
        self.session_messages = TokenBuckets(config.messages_per_minute, config.message_burst)
        self.address_messages = TokenBuckets(config.address_messages_per_minute, config.address_message_burst)
        self.all_messages = TokenBuckets(config.process_messages_per_second * 60, config.process_message_burst)
        self.address_cases = DailyCounts()

    def admit(self, visit: Visit) -> None:
        """Refused past the message rate of the session, of the client address, or of the whole
        process (checked last, so one noisy address does not use up everyone's share)."""
        wait = self.address_messages.take(visit.address)
        if not wait and visit.returning:
            wait = self.session_messages.take(visit.sid)
        if not wait:
            wait = self.all_messages.take(PROCESS)
        if wait:
            raise Refused(TOO_FAST, retry_after=wait)

    def turn(self, visit: Visit, event, shown: str | None) -> list[Reply]:
        stored, preview = self._preview(visit.sid, event)
        submitting = preview is not None and any(isinstance(e, SubmitCase) for e in preview.effects)
        if submitting:
            self._check_case_caps(visit)
        if stored is None and preview is not None and _notes_only(preview) and _blank(preview.state):
            replies, stateful = preview.replies, False
            self.desk.store_notes(CHANNEL, preview.effects)
        else:
            replies, stateful = self.desk.handle(CHANNEL, visit.sid, event), True
            self.on_queued()
        if submitting:
            self.address_cases.add(visit.address, self._today())
        if visit.returning or stateful:
            with session_scope(self.desk.db) as session:
                webchat.record_turn(session, CHANNEL, visit.sid, _kept(shown, stored, render(replies)))
        return replies

    def _preview(self, sid: str, event) -> tuple[dict | None, Turn | None]:
        """The stored state (None: never stored) and, where it matters, the turn the engine would
        take, without storing anything: for a session without state (is there anything to
        store?) and for one in a form (would this submit a case?)."""
        key = (CHANNEL, sid)
        with session_scope(self.desk.db) as session:
            stored = conversations.load_many(session, [key]).get(key)
            state = State.from_dict(stored[0] if stored else None)
            if stored is not None and state.mode == "idle":
                return stored[0], None
            now = self.desk.clock()
            relay = cases.open_relays(session, [key]).get(key)
            context = self.desk._context(session, TurnRequest(CHANNEL, sid, event), now, relay)
            return (stored[0] if stored else None), engine.handle(state, event, context)

    def _check_case_caps(self, visit: Visit) -> None:
        today = self._today()
        with session_scope(self.desk.db) as session:
            own = [c for c in cases.for_user(session, CHANNEL, visit.sid) if self._day_of(c.created_at) == today]
        if len(own) >= self.config.cases_per_day or \
                self.address_cases.get(visit.address, today) >= self.config.address_cases_per_day:
            profile = self.desk.knowledge.profile
            raise Refused(TOO_MANY_CASES.format(centre=profile.centre_name, phone=profile.centre_phone))

    def _today(self):
        return self._day_of(self.desk.clock())

    def _day_of(self, moment: datetime):
        return moment.astimezone(self.desk.config.tz).date()

    def history(self, sid: str) -> dict:
        """The session's last turns, and the open draft's 「続けますか？」 (or None)."""
        key = (CHANNEL, sid)
        with session_scope(self.desk.db) as session:
            rows = webchat.recent_for(session, CHANNEL, sid, HISTORY_TURNS)
            stored = conversations.load_many(session, [key]).get(key)
        turns = [{"me": row.payload.get("me"), "messages": row.payload.get("messages", [])} for row in rows]
        return {"turns": turns, "draft": self._open_draft(State.from_dict(stored[0] if stored else None))}

    def _open_draft(self, state: State) -> dict | None:
        ttl = self.desk.config.draft_ttl_days * 86_400
        forms = self.desk.knowledge.profile.texts.forms
        if state.draft is None or state.draft.form not in forms or state.idle_for(self.desk.clock()) > ttl:
            return None
        return _render_one(in_progress(forms[state.draft.form].title, state.token))

    def waiting(self, sid: str) -> list[dict]:
        with session_scope(self.desk.db) as session:
            rows = webchat.waiting_for(session, CHANNEL, sid)
        return [{"id": row.id, "messages": row.payload.get("messages", [])} for row in rows]

    def acknowledge(self, sid: str, row_ids: list[int]) -> int:
        with session_scope(self.desk.db) as session:
            return webchat.acknowledge(session, CHANNEL, sid, row_ids)


def _kept(shown: str | None, stored: dict | None, messages: list[dict]) -> dict:
    """A turn as the session's history keeps it: without a code shown in a confirmation (shown once)
    or typed when one was asked for (the store keeps codes only as hashes)."""
    if shown and stored and stored.get("mode") in CODE_MODES:
        shown = _TYPED_CODE.sub(lambda m: m.group(0) if REFERENCE.fullmatch(m.group(0)) else HIDDEN_CODE, shown)
    return {"me": shown, "messages": [{**m, "text": _SHOWN_CODE.sub(r"\g<1>" + HIDDEN_CODE, m["text"])}
                                      if m.get("type") == "text" else m for m in messages]}


def _notes_only(turn: Turn) -> bool:
    """No effect but notes for staff, which need no conversation row."""
    return all(isinstance(effect, NoteQuestion) for effect in turn.effects)


def _blank(state: object) -> bool:
    """Nothing worth a row: the state of someone who never started anything."""
    return isinstance(state, State) and replace(state, updated_at=None) == State()


# A conversation is never reused from a cache: the back button would bring back a form already sent as unsent
NO_STORE = {"Cache-Control": "no-store"}


def router(desk: Desk, config: WebConfig | None = None, on_queued=lambda: None) -> APIRouter:
    """`on_queued`: called after each stored turn, which may have queued messages for staff."""
    chat = WebChat(desk, config or WebConfig(), on_queued)
    api = APIRouter()
    _static_routes(api)

    @api.post("/api/chat")
    async def post_message(request: Request) -> Response:
        visit, cookie = _visit(chat, request)
        try:
            chat.admit(visit)
            event, shown = _message(await _json_body(request))
            replies = await run_in_threadpool(chat.turn, visit, event, shown)
        except Refused as refused:
            return _refusal(refused)
        return _with_cookie(JSONResponse({"messages": render(replies)}, headers=NO_STORE), cookie, chat.config)

    @api.get("/api/chat/history")
    async def history(request: Request) -> JSONResponse:
        sid = chat.sessions.verify(request.cookies.get(COOKIE))
        return JSONResponse(await run_in_threadpool(chat.history, sid) if sid else {"turns": [], "draft": None},
                            headers=NO_STORE)

    @api.get("/api/chat/poll")
    async def poll(request: Request) -> JSONResponse:
        """Messages that arrived for this browser (a staff reply, a status change), until acknowledged."""
        sid = chat.sessions.verify(request.cookies.get(COOKIE))
        return JSONResponse({"items": await run_in_threadpool(chat.waiting, sid) if sid else []}, headers=NO_STORE)

    @api.post("/api/chat/ack")
    async def acknowledge(request: Request) -> Response:
        sid = chat.sessions.verify(request.cookies.get(COOKIE))
        try:
            row_ids = _ids(await _json_body(request))
        except Refused as refused:
            return _refusal(refused)
        done = await run_in_threadpool(chat.acknowledge, sid, row_ids) if sid else 0
        return JSONResponse({"acknowledged": done})

    return api


def _static_routes(api: APIRouter) -> None:
    @api.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @api.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=604800"})

    @api.get("/static/font/ipaexg.ttf", include_in_schema=False)
    def font() -> FileResponse:
        return FileResponse(JAPANESE_FONT, media_type="font/ttf", headers={"Cache-Control": "public, max-age=604800"})

    @api.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        path = (STATIC / name).resolve()
        if path.parent != STATIC.resolve() or not path.is_file():
            return JSONResponse({"error": "見つかりません。"}, status_code=404)
        return FileResponse(path)


def _visit(chat: WebChat, request: Request) -> tuple[Visit, str | None]:
    """Who is asking, and the cookie to set (None: theirs is good)."""
    address = request.client.host if request.client else "-"
    sid = chat.sessions.verify(request.cookies.get(COOKIE))
    if sid:
        return Visit(sid, True, address), None
    sid, cookie = chat.sessions.issue()
    return Visit(sid, False, address), cookie


def _with_cookie(response: Response, cookie: str | None, config: WebConfig) -> Response:
    if cookie:
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax", secure=config.cookie_secure,
                            max_age=60 * 60 * 24 * COOKIE_DAYS, path="/")
    return response


def _refusal(refused: Refused) -> JSONResponse:
    headers = {"Retry-After": str(max(1, round(refused.retry_after)))} if refused.status == 429 else {}
    return JSONResponse({"error": refused.message}, status_code=refused.status, headers=headers)


async def _json_body(request: Request) -> object:
    try:
        return storable(json.loads(await read_limited(request, MAX_BODY)))
    except BodyTooLarge as exc:
        raise Refused(TOO_LONG, 413) from exc
    except (ValueError, RecursionError) as exc:  # not JSON, or nested too deep to be a message
        raise Refused("JSON で送ってください。", 400) from exc


def _message(data: object) -> tuple[Postback | Text, str | None]:
    """The event, and what the page showed as the person's words (a button's label)."""
    if isinstance(data, dict):
        label = data.get("label")
        shown = label[:MAX_LABEL] if isinstance(label, str) and label else None
        if isinstance(data.get("postback"), str):
            return Postback(data["postback"][:300]), shown
        if isinstance(data.get("text"), str):
            if len(data["text"]) > MAX_TEXT:  # the page's text box stops at the same length
                raise Refused(TOO_LONG, 413)
            return Text(data["text"]), data["text"]
    raise Refused("text か postback を送ってください。", 400)


def _ids(data: object) -> list[int]:
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or len(ids) > 200 or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Refused("ids（数の並び）を送ってください。", 400)
    return ids
