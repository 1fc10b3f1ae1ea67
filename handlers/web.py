"""The web chat: a page on `/` and a JSON API on the same engine, a session per browser (cookie)."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from bot.fonts import JAPANESE_FONT
from bot.messages import Card, Choice, Postback, Reply, Say, Text
from bot.runtime import Desk
from handlers.http import BodyTooLarge, read_limited, storable
from store import outbox
from store.db import session_scope

STATIC = Path(__file__).parent / "static"
COOKIE = "kyodo_sid"
MAX_BODY = 16_384
MAX_TEXT = 5_000


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
    name = "web"

    def outbox_rows(self, user_key: str, replies: list[Reply], reply_to: dict | None = None) -> list[dict]:
        return [outbox.row(channel=self.name, target=user_key, kind="push", payload={"messages": render(replies)})]


def router(desk: Desk, on_queued=lambda: None) -> APIRouter:
    """`on_queued`: called after each turn, which may have queued messages for staff."""
    api = APIRouter()

    @api.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @api.get("/static/font/ipaexg.ttf", include_in_schema=False)
    def font() -> FileResponse:
        return FileResponse(JAPANESE_FONT, media_type="font/ttf", headers={"Cache-Control": "public, max-age=604800"})

    @api.get("/static/{name}", include_in_schema=False)
    def asset(name: str):
        path = (STATIC / name).resolve()
        if path.parent != STATIC.resolve() or not path.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path)

    def _turn(sid: str, event):
        replies = desk.handle("web", sid, event)
        on_queued()
        return replies

    @api.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        try:
            data = storable(json.loads(await read_limited(request, MAX_BODY)))
        except BodyTooLarge:
            return JSONResponse({"error": "メッセージが長すぎます。"}, status_code=413)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to be a message
            return JSONResponse({"error": "JSON で送ってください。"}, status_code=400)
        event = _event(data)
        if event is None:
            return JSONResponse({"error": "text か postback を送ってください。"}, status_code=400)
        sid = request.cookies.get(COOKIE) or ""
        fresh = not _valid_sid(sid)
        if fresh:
            sid = secrets.token_urlsafe(24)
        replies = await run_in_threadpool(_turn, sid, event)
        response = JSONResponse({"messages": render(replies)})
        if fresh:
            response.set_cookie(COOKIE, sid, httponly=True, samesite="lax", max_age=60 * 60 * 24 * 30)
        return response

    @api.get("/api/chat/poll")
    def poll(request: Request) -> JSONResponse:
        """Messages that arrived for this browser since it last asked (a staff reply, a status change)."""
        sid = request.cookies.get(COOKIE) or ""
        if not _valid_sid(sid):
            return JSONResponse({"messages": []})
        with session_scope(desk.db) as session:
            messages = [m for payload in outbox.collect_for(session, WebChannel.name, sid) for m in payload.get("messages", [])]
        return JSONResponse({"messages": messages})

    return api


def _valid_sid(sid: str) -> bool:
    return 20 <= len(sid) <= 64 and all(c.isalnum() or c in "-_" for c in sid)


def _event(data: object):
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("postback"), str):
        return Postback(data["postback"][:300])
    if isinstance(data.get("text"), str):
        return Text(data["text"][:MAX_TEXT])
    return None
