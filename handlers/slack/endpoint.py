"""POST /slack/events: events, /kyodo and interactivity on one URL. The size, the signature and
the shape are checked here, so that a bad request gets 413, 401 or 400 (never an error inside the
framework); then bolt dispatches the request to the listeners."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from handlers.http import BodyTooLarge, read_limited

MAX_BODY = 1_000_000
# What bolt reads from every body before a listener runs (slack_bolt.request.internals.build_context).
ID_KEYS = ("enterprise", "team", "user", "channel")
OBJECT_KEYS = ("view", "event")
LIST_KEYS = ("authorizations", "actions", "response_urls")
NESTED_KEYS = ("event", "message", "previous_message", "item", "assistant_thread", "function_data")
MAX_TIMESTAMP_DIGITS = 12  # seconds since the epoch: 10 digits until the year 2286


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
    timestamp that is no number (or a number of more digits than a clock has), a signature that is
    not ASCII or a body that is not UTF-8 (Slack never sends one; the SDK cannot check it) is
    simply not a valid one."""
    if not (timestamp and signature and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS
            and signature.isascii() and _is_utf8(body)):
        return False
    return verifier.is_valid(body, timestamp, signature)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def well_formed(body: bytes, content_type: str) -> bool:
    """The body parses, the way bolt will parse it, into the shape bolt reads before any listener runs."""
    try:
        text = body.decode("utf-8")
        kind = content_type.split(";")[0] or None  # as bolt reads the content type
        as_form = kind != "application/json" and not text.startswith("{")
        fields = parse_qs(text, strict_parsing=True) if as_form else {}
        parsed = parse_body(text, kind)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return (isinstance(parsed, dict) and ids_shaped(parsed) and _response_url_ok(parsed)
            and ("payload" not in fields or interaction_shaped(parsed)))


def ids_shaped(payload: dict, depth: int = 0) -> bool:
    """Where bolt looks for the team, user and channel: each a string or an object, and the same in
    the nested event or message it also looks into."""
    if any(not isinstance(payload.get(key), str | dict | None) for key in ID_KEYS) or \
            any(key in payload and not isinstance(payload[key], dict) for key in OBJECT_KEYS):
        return False
    if not all(_list_of_objects(payload.get(key)) for key in LIST_KEYS):
        return False
    nested = [payload[key] for key in NESTED_KEYS if isinstance(payload.get(key), dict)]
    return depth < 4 and all(ids_shaped(inner, depth + 1) for inner in nested)


def interaction_shaped(payload: dict) -> bool:
    """The parts of an interactivity payload that bolt reads before any listener runs."""
    view = payload.get("view")
    return (isinstance(payload.get("type"), str) and isinstance(payload.get("user"), dict | None)
            and (view is None or (isinstance(view.get("type"), str) and _state_shaped(view.get("state")))))


def _state_shaped(state: object) -> bool:
    """A modal's inputs as Slack sends them: values by block, by action, each an object whose
    picked option is an object and picked options a list of them."""
    if state is None:
        return True
    blocks = state.get("values") or {} if isinstance(state, dict) else None
    if not isinstance(blocks, dict) or not all(isinstance(block, dict) for block in blocks.values()):
        return False
    inputs = [value for block in blocks.values() for value in block.values()]
    return all(isinstance(value, dict) and isinstance(value.get("selected_option"), dict | None)
               and _list_of_objects(value.get("selected_options")) for value in inputs)


def _list_of_objects(value: object) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _response_url_ok(payload: dict) -> bool:
    """A slash command's response_url is where its answer goes: a web address, or the answer fails."""
    url = payload.get("response_url")
    if url is None:
        return "command" not in payload
    parts = urlsplit(url) if isinstance(url, str) and url.isascii() else None
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
