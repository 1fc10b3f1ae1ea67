"""POST /slack/events: events, /kyodo and interactivity on one URL. The size, the signature and
the shape are checked here, so that a bad request gets 413, 401 or 400 (never an error inside the
framework); then bolt dispatches the request to the listeners."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier

from handlers.http import BodyTooLarge, read_limited

MAX_BODY = 1_000_000


def router(bolt_app: App, signing_secret: str) -> APIRouter:
    verifier = SignatureVerifier(signing_secret)
    api = APIRouter()

    @api.post("/slack/events")
    async def events(request: Request) -> Response:
        try:
            body = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if not signed(verifier, body, request.headers.get("x-slack-request-timestamp"),
                      request.headers.get("x-slack-signature")):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        if not well_formed(body, request.headers.get("content-type", "")):
            return JSONResponse({"error": "malformed body"}, status_code=400)
        answer = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(answer)

    return api


def signed(verifier: SignatureVerifier, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the timestamp and body, the timestamp within five minutes. A
    timestamp that is no number or a signature that is not ASCII is simply not a valid one."""
    if not (timestamp and signature and timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    return verifier.is_valid(body, timestamp, signature)


def well_formed(body: bytes, content_type: str) -> bool:
    try:
        text = body.decode("utf-8")
        if "json" in content_type:
            return isinstance(json.loads(text), dict)
        fields = parse_qs(text, strict_parsing=True)
        return "payload" not in fields or interaction_shaped(json.loads(fields["payload"][0]))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


def interaction_shaped(payload: object) -> bool:
    """The parts of an interactivity payload that bolt reads before any listener runs."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    view, user, actions = payload.get("view"), payload.get("user"), payload.get("actions")
    return ((view is None or (isinstance(view, dict) and isinstance(view.get("type"), str)))
            and (user is None or isinstance(user, dict))
            and (actions is None or (isinstance(actions, list) and all(isinstance(a, dict) for a in actions))))
