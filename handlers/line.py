"""LINE: webhook verification and storage, event translation, and sending through the Messaging API."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from linebot.v3 import SignatureValidator
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi
from linebot.v3.messaging.exceptions import ApiException

from bot.channels import Incoming, SendResult, http_outcome, retry_later
from bot.intake import InboxWriter
from bot.messages import Follow, Media, Postback, Reply, Text, Unfollow
from bot.worker import SENDS_IN_PARALLEL
from handlers.config import LineConfig
from handlers.http import BodyTooLarge, read_limited, storable
from handlers.line_render import MAX_TEXT_UTF16, render
from store import outbox
from store.outbox import OutboxRow

log = logging.getLogger(__name__)

MEDIA_TYPES = {"sticker", "image", "video", "audio", "file", "location"}
REPLY_TOKEN_FRESH = timedelta(seconds=50)
UNSURE_REPLY = outbox.OUTCOME_UNKNOWN  # a reply that may have arrived: a refused token then means it did


class WebhookError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def parse_webhook(body: bytes, signature: str | None, secret: str) -> list[dict]:
    """The events of a signed webhook body, made storable; WebhookError 401 on a bad signature,
    400 on a bad body."""
    if not signature:
        raise WebhookError(401, "missing x-line-signature")
    if not _signature_ok(body, signature, secret):
        raise WebhookError(401, "signature mismatch")
    try:
        data = storable(json.loads(body, parse_constant=_not_json))
    except (ValueError, RecursionError):  # not JSON, or nested too deep to be a LINE event
        raise WebhookError(400, "body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise WebhookError(400, "body has no events list")
    return [event for event in data["events"] if isinstance(event, dict)]


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")  # Python reads NaN and Infinity; JSON (and databases) do not


def _signature_ok(body: bytes, signature: str, secret: str) -> bool:
    if not signature.isascii():  # base64 is ASCII: anything else is no signature (and no digest compares it)
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # The SDK validates text; a body that is not UTF-8 is checked on its bytes (then refused as malformed).
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, signature)
    try:
        return SignatureValidator(secret).validate(text, signature)
    except ValueError:
        return False


def _field(value, kind: type, default):
    return value if isinstance(value, kind) else default


def user_key(event: dict) -> str:
    source = _field(event.get("source"), dict, {})
    kind = _field(source.get("type"), str, "user")[:16] or "user"
    ident = _field(source.get(f"{kind}Id"), str, "") or _field(source.get("userId"), str, "") or "unknown"
    return f"{kind}:{ident[:128]}"


def event_time(event: dict) -> datetime | None:
    """The event's `timestamp` (milliseconds since the epoch), None when absent or absurd."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        return None
    try:
        return datetime.fromtimestamp(stamp / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def event_id(event: dict) -> str:
    """LINE's webhookEventId; for an event without a usable one, a hash of the event without its
    delivery context (a redelivery says isRedelivery: true and is still the same event)."""
    given = event.get("webhookEventId")
    if isinstance(given, str) and 0 < len(given) <= 100:
        return given
    identity = {key: value for key, value in event.items() if key != "deliveryContext"}
    return "sha:" + hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:40]


def capped(text: str) -> str:
    """A text cut to LINE's own limit (5,000 UTF-16 units): nothing longer comes from LINE, and
    nothing longer is analysed."""
    if len(text) <= MAX_TEXT_UTF16 // 2:
        return text
    return text.encode("utf-16-le")[:2 * MAX_TEXT_UTF16].decode("utf-16-le", "ignore")


class LineChannel:
    name = "line"

    def __init__(self, config: LineConfig):
        self.timeout = config.timeout_seconds
        configuration = Configuration(host=config.api_base_url.rstrip("/"), access_token=config.access_token)
        configuration.connection_pool_maxsize = SENDS_IN_PARALLEL  # a kept connection for every send in flight
        self._api = MessagingApi(ApiClient(configuration))

    # --- translating ------------------------------------------------------------------------

    def to_core(self, payload: dict) -> Incoming | None:
        """Only the shapes LINE documents are acted on; anything else is ignored, never an error.
        The event's time comes with it (an erased person's replayed events are dropped by it)."""
        incoming = self._translate(payload)
        return replace(incoming, at=event_time(payload)) if incoming is not None else None

    def _translate(self, payload: dict) -> Incoming | None:
        kind = payload.get("type")
        key = user_key(payload)
        private = key.startswith("user:") and key != "user:unknown"
        if key.endswith(":unknown"):
            return None
        if kind == "message":
            message = _field(payload.get("message"), dict, {})
            text = message.get("text")
            if message.get("type") == "text" and isinstance(text, str):
                return Incoming(key, Text(capped(text)), private)
            if message.get("type") in MEDIA_TYPES:
                return Incoming(key, Media(message["type"]), private) if private else None
            return None
        if kind == "postback":
            data = _field(_field(payload.get("postback"), dict, {}).get("data"), str, "")
            return Incoming(key, Postback(data), private)
        if kind == "follow" and private:
            return Incoming(key, Follow(), private)
        if kind == "unfollow" and private:
            return Incoming(key, Unfollow(), private)
        return None

    def outbox_rows(self, user_key: str, replies: list[Reply], reply_to: dict | None = None) -> list[dict]:
        target = user_key.split(":", 1)[1]
        token = _field((reply_to or {}).get("replyToken"), str, None)
        return [outbox.row(channel=self.name, target=target, kind="reply" if reply_to else "push",
                           payload={"messages": batch}, reply_token=token if i == 0 else None,
                           dedupe_key=f"line:{event_id(reply_to)}:{i}" if reply_to else None)
                for i, batch in enumerate(render(replies))]

    # --- sending ----------------------------------------------------------------------------

    def send(self, row: OutboxRow) -> SendResult:
        """Reply while the token is fresh, else push (with a retry key, so LINE drops a repeat).

        The messages were rendered to LINE's JSON when queued; they go out through the SDK's
        API client as they are, without a round trip through its models.
        """
        use_reply = bool(row.reply_token) and _age(row) < REPLY_TOKEN_FRESH
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if use_reply:
            path, body = "/v2/bot/message/reply", {"replyToken": row.reply_token, "messages": row.payload["messages"]}
        else:
            path, body = "/v2/bot/message/push", {"to": row.target, "messages": row.payload["messages"]}
            headers["X-Line-Retry-Key"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kyodo-outbox-{row.id}"))
        try:
            self._api.api_client.call_api(path, "POST", {}, [], headers, body=body, auth_settings=["Bearer"],
                                          response_types_map={}, _preload_content=False,
                                          _request_timeout=self.timeout)
            return SendResult("sent")
        except ApiException as exc:
            return _classify(exc, row, use_reply)
        except Exception as exc:  # timeouts and connection errors: LINE may or may not have it
            return retry_later(row.attempts, (UNSURE_REPLY if use_reply else "") + exc.__class__.__name__)


def _age(row: OutboxRow) -> timedelta:
    return datetime.now(UTC) - row.created_at


def _classify(exc: ApiException, row: OutboxRow, used_reply: bool) -> SendResult:
    status = exc.status or 0
    body = (exc.body or b"").decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    if used_reply and status == 400 and "reply token" in body.lower():
        if (row.last_error or "").startswith(UNSURE_REPLY):
            # The previous reply timed out, yet its token is spent now: LINE took that reply.
            return SendResult("sent")
        return SendResult("retry_as_push", error="invalid reply token")
    if status == 409:  # the same retry key was accepted before: already delivered
        return SendResult("sent")
    return http_outcome(status, row.attempts, (exc.headers or {}).get("Retry-After"), f"{status} from LINE: {body[:200]}")


MAX_WEBHOOK_BODY = 1_000_000


def inbox_writer(db) -> InboxWriter:
    # The events' own time, then id: a person's events are processed in the order they happened.
    return InboxWriter(db, "line", order=lambda e: (_field(e[2].get("timestamp"), int, 0), e[0]))


def webhook_router(config: LineConfig, writer: InboxWriter | None, on_stored) -> APIRouter:
    """POST /line/webhook: verify, store each event once, answer 200 at once."""
    api = APIRouter()

    @api.post("/line/webhook")
    async def webhook(request: Request) -> JSONResponse:
        if not config.enabled or writer is None:
            return JSONResponse({"error": "LINE channel is not configured"}, status_code=503)
        try:
            body = await read_limited(request, MAX_WEBHOOK_BODY)
            events = parse_webhook(body, request.headers.get("x-line-signature"), config.channel_secret)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        except WebhookError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        if events and await writer.store([(event_id(e), user_key(e), e) for e in events]):
            on_stored()
        return JSONResponse({})

    return api
