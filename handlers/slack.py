"""Slack: the staff desk on POST /slack/events (events, /kyodo and interactivity), via slack-bolt,
and the sender of the staff channel's outbox rows (cards, threads)."""
from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot import casework, report
from bot.casework import CaseworkError
from bot.channels import SendResult, http_outcome, retry_later
from bot.indicators import load_indicators
from bot.numbers import parse_number
from bot.runtime import Desk
from bot.staffdesk import export_csv, overdue, parse_period
from handlers import slack_blocks as blocks
from handlers.config import SlackConfig
from handlers.http import BodyTooLarge, read_limited
from store import cases, inbox
from store import indicators as figures
from store.db import session_scope
from store.models import Outbox

log = logging.getLogger(__name__)
REFUSAL = "この操作は協働担当の職員だけができます。"
MEMBERS_TTL = 60.0
MAX_BODY = 1_000_000
HELP = ("*/kyodo の使い方*\n• `/kyodo ask 質問` ナレッジの回答（自分だけに表示）\n• `/kyodo cases [mine|open|all]` 案件一覧\n"
        "• `/kyodo case 受付番号` 案件の詳細\n• `/kyodo report [年度]` 成果指標のレポート（グラフと表）\n• `/kyodo export [2026 | 2026-04 | 2026-04-01..2026-06-30]` CSV 出力\n"
        "• `/kyodo help` この説明")


class StaffDirectory:
    """Who may act: SLACK_STAFF_USER_IDS when set, otherwise the members of the staff channel."""

    def __init__(self, client: WebClient, config: SlackConfig):
        self.client, self.config = client, config
        self._members: frozenset[str] = frozenset()
        self._fetched = 0.0
        self._lock = threading.Lock()

    def is_staff(self, user_id: str) -> bool:
        if self.config.staff_user_ids:
            return user_id in self.config.staff_user_ids
        with self._lock:
            if time.monotonic() - self._fetched > MEMBERS_TTL:
                try:
                    members: list[str] = []
                    for page in self.client.conversations_members(channel=self.config.staff_channel, limit=500):
                        members.extend(page["members"])
                    self._members, self._fetched = frozenset(members), time.monotonic()
                except SlackApiError:
                    log.warning("could not read the staff channel's members; refusing staff actions for now")
                    return False
            return user_id in self._members


class SlackChannel:
    """Sends the staff channel's outbox rows. Cards and threads are rendered from the case at send time."""
    name = "slack"

    def __init__(self, client: WebClient, desk: Desk, config: SlackConfig):
        self.client, self.desk, self.config = client, desk, config

    def send(self, row: Outbox) -> SendResult:
        if row.kind == "post":  # a scheduled post to the staff channel (reminders, overdue cases)
            return self._call(row, lambda: self.client.chat_postMessage(
                channel=self.config.staff_channel, text=row.payload["text"],
                blocks=blocks.post_blocks(row.payload["text"], row.payload.get("sections", []))))
        # Read the case, call Slack outside any transaction (no database lock held while waiting
        # on the network), then record where the card went.
        with session_scope(self.desk.db) as session:
            case = cases.by_id(session, int(row.payload["case_id"]))
            if case is not None:
                session.expunge(case)
        if case is None:
            return SendResult("failed", error="case not found")
        if row.kind != "card" and case.slack_ts is None:
            return SendResult("retry", delay=timedelta(seconds=2), error="waiting for the card")
        return self._call(row, lambda: self._send_case_row(row, case))

    def _call(self, row: Outbox, call) -> SendResult:
        try:
            call()
        except SlackApiError as exc:
            return _classify(exc, row)
        except Exception as exc:  # timeouts, connection errors
            return retry_later(row.attempts, exc.__class__.__name__)
        return SendResult("sent")

    def _send_case_row(self, row: Outbox, case) -> None:
        if row.kind == "card" and case.slack_ts:
            self.client.chat_update(channel=case.slack_channel, ts=case.slack_ts,
                                    blocks=blocks.card(case, self.desk.config.tz), text=blocks.card_text(case))
        elif row.kind == "card":
            response = self.client.chat_postMessage(channel=self.config.staff_channel,
                                                    blocks=blocks.card(case, self.desk.config.tz), text=blocks.card_text(case))
            with session_scope(self.desk.db) as session:
                cases.place_card(session, case.id, response["channel"], response["ts"])
        else:
            text = blocks.answers_text(case) if row.kind == "thread_answers" else row.payload["text"]
            self.client.chat_postMessage(channel=case.slack_channel, thread_ts=case.slack_ts, text=text,
                                         unfurl_links=False)


def _classify(exc: SlackApiError, row: Outbox) -> SendResult:
    headers = exc.response.headers or {}
    return http_outcome(exc.response.status_code, row.attempts, headers.get("Retry-After") or headers.get("retry-after"),
                        f"Slack said {exc.response.get('error', exc.response.status_code)}")


def web_client(config: SlackConfig) -> WebClient:
    return WebClient(token=config.bot_token, base_url=config.api_url, timeout=int(max(1, config.timeout_seconds)))


def build_app(config: SlackConfig, desk: Desk, client: WebClient, on_queued) -> App:
    app = App(token=config.bot_token, signing_secret=config.signing_secret, client=client,
              token_verification_enabled=False, process_before_response=False)
    staff = StaffDirectory(client, config)
    tz = desk.config.tz
    registry = load_indicators(Path(desk.knowledge.folder))

    def now() -> datetime:
        return desk.clock()

    def refuse(body: dict, user: str) -> None:
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id") or config.staff_channel
        client.chat_postEphemeral(channel=channel, user=user, text=REFUSAL)

    def act(body: dict, work) -> None:
        """Run a staff action on the case the button or modal names, in one transaction."""
        user = body["user"]["id"]
        if not staff.is_staff(user):
            refuse(body, user)
            return
        try:
            with session_scope(desk.db) as session:
                case = cases.by_id(session, _case_id(body))
                if case is None:
                    raise CaseworkError("案件が見つかりません。")
                work(session, case, user)
        except CaseworkError as exc:
            client.chat_postEphemeral(channel=config.staff_channel, user=user, text=str(exc))
            return
        on_queued()

    @app.action("case_claim")
    def claim(ack, body):
        ack()
        act(body, lambda s, case, user: casework.claim(s, desk.channels, case, user, now()))

    @app.action("case_reply")
    def open_reply(ack, body):
        ack()
        act(body, lambda s, case, user: client.views_open(trigger_id=body["trigger_id"], view=blocks.reply_modal(case)))

    @app.action("case_status")
    def open_status(ack, body):
        ack()
        act(body, lambda s, case, user: client.views_open(trigger_id=body["trigger_id"], view=blocks.status_modal(case)))

    @app.action("case_detail")
    def detail(ack, body):
        ack()

        def show(session, case, user):
            history = "\n".join(f"• {e.at.astimezone(tz):%m/%d %H:%M} {e.kind} {e.actor}" for e in cases.history(session, case.id))
            client.chat_postEphemeral(channel=config.staff_channel, user=user,
                                      text=blocks.answers_text(case) + "\n\n*履歴*\n" + history)
        act(body, show)

    @app.view("reply_modal")
    def preview_reply(ack, body, view):
        text = view["state"]["values"]["message"]["text"]["value"] or ""
        if not staff.is_staff(body["user"]["id"]):
            ack(response_action="errors", errors={"message": REFUSAL})
            return
        if not text.strip():
            ack(response_action="errors", errors={"message": "メッセージを入力してください。"})
            return
        with session_scope(desk.db) as session:
            case = cases.by_id(session, int(view["private_metadata"]))
        ack(response_action="update", view=blocks.reply_preview(case, text.strip()))

    @app.view("reply_confirm")
    def send_reply(ack, body, view):
        ack()
        meta = json.loads(view["private_metadata"])
        body = {**body, "case_id": meta["case_id"]}
        act(body, lambda s, case, user: casework.reply_to_citizen(s, desk.channels, case, user, meta["text"], now()))

    @app.view("status_modal")
    def set_status(ack, body, view):
        ack()
        values = view["state"]["values"]
        status = values["status"]["value"]["selected_option"]["value"]
        note = (values.get("note", {}).get("text", {}) or {}).get("value") or ""
        act(body, lambda s, case, user: casework.change_status(s, desk.channels, case, user, status, note, now()))

    @app.action("indicator_report")
    def open_indicator(ack, body):
        ack()
        user = body["user"]["id"]
        if not staff.is_staff(user):
            refuse(body, user)
            return
        indicator_id, _, period = body["actions"][0]["value"].partition("|")
        indicator = next((i for i in registry if i.id == indicator_id), None)
        if indicator is not None:
            client.views_open(trigger_id=body["trigger_id"],
                              view=blocks.indicator_modal(indicator.id, indicator.name, period, indicator.unit))

    @app.view("indicator_report_modal")
    def save_indicator(ack, body, view):
        user = body["user"]["id"]
        values = view["state"]["values"]
        number = parse_number(values["value"]["text"]["value"] or "")
        if not staff.is_staff(user):
            ack(response_action="errors", errors={"value": REFUSAL})
            return
        if number is None:
            ack(response_action="errors", errors={"value": "数値で入力してください（例: 12、39.9）。"})
            return
        ack()
        indicator_id, _, period = view["private_metadata"].partition("|")
        note = (values.get("note", {}).get("text", {}) or {}).get("value") or ""
        with session_scope(desk.db) as session:
            figures.report(session, indicator_id, period, number, user, note, at=now())
        client.chat_postEphemeral(channel=config.staff_channel, user=user,
                                  text=f"{indicator_id} の {period} の値 {number:g} を記録しました。")

    @app.event("message")
    def thread_message(body, event):
        """A staff member writing in a case thread: an internal note, never sent to the citizen."""
        if event.get("subtype") or event.get("bot_id") or not event.get("thread_ts"):
            return
        if event.get("channel") != config.staff_channel or not staff.is_staff(event.get("user", "")):
            return
        with session_scope(desk.db) as session:
            if not inbox.add(session, channel="slack", event_id=str(body.get("event_id")), user_key="slack",
                             payload={"type": "message"}, status=inbox.DONE):
                return  # a retry of an event already recorded
            case = cases.by_slack_thread(session, event["channel"], event["thread_ts"])
            if case is not None:
                casework.add_note(session, case, event["user"], event.get("text", ""), now())

    @app.event("app_home_opened")
    def home(event):
        user = event["user"]
        if not staff.is_staff(user):
            client.views_publish(user_id=user, view={"type": "home", "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": REFUSAL}}]})
            return
        with session_scope(desk.db) as session:
            view = blocks.home(cases.listing(session, "mine", user), cases.listing(session, "unassigned"),
                               overdue(session, now(), desk.config.overdue_business_days, tz),
                               desk.config.overdue_business_days, tz)
        client.views_publish(user_id=user, view=view)

    @app.command("/kyodo")
    def kyodo(ack, command, respond):
        ack()
        words = (command.get("text") or "").strip().split(maxsplit=1)
        verb, rest = (words[0].lower() if words else "help"), (words[1] if len(words) > 1 else "")
        if verb == "ask":
            answer = desk.knowledge.ask(rest)
            respond(response_type="ephemeral", text=answer.text)
        elif verb == "report":
            if not staff.is_staff(command["user_id"]):
                respond(response_type="ephemeral", text=REFUSAL)
                return
            respond(response_type="ephemeral", text=annual_report(rest.strip(), command["user_id"]))
        elif verb in ("cases", "case", "export"):
            if not staff.is_staff(command["user_id"]):
                respond(response_type="ephemeral", text=REFUSAL)
                return
            respond(response_type="ephemeral", text=staff_command(verb, rest, command["user_id"]))
        else:
            respond(response_type="ephemeral", text=HELP)

    def annual_report(year_text: str, user: str) -> str:
        today = now().astimezone(tz).date()
        year = int(year_text) if year_text.isdigit() else (today.year if today.month >= 4 else today.year - 1) - 1
        with tempfile.TemporaryDirectory() as folder, session_scope(desk.db) as session:
            md, csv_path, png = report.write(session, registry, year, tz, Path(folder), desk.knowledge.profile.city)
            client.files_upload_v2(channel=config.staff_channel, title=f"成果指標 {year}年度",
                                   initial_comment=md.read_text(encoding="utf-8")[:3500],
                                   file_uploads=[{"file": str(png), "filename": png.name, "title": f"成果指標の推移 {year}年度"},
                                                 {"file": str(csv_path), "filename": csv_path.name, "title": "成果指標 CSV"}])
        return f"{year}年度の成果指標レポートをスタッフチャンネルに投稿しました。"

    def staff_command(verb: str, rest: str, user: str) -> str:
        with session_scope(desk.db) as session:
            if verb == "cases":
                scope = rest.strip().lower() or "open"
                if scope not in ("mine", "open", "all"):
                    return "`/kyodo cases mine`・`open`・`all` のどれかを指定してください。"
                return blocks.case_lines(cases.listing(session, scope, user), tz)
            if verb == "case":
                case = cases.by_reference(session, rest.strip().upper())
                if case is None:
                    return f"受付番号 {rest.strip()} の案件は見つかりません。"
                return f"{blocks.answers_text(case)}\n*ステータス*: {case.status}"
            period = parse_period(rest, now().astimezone(tz).date())
            if period is None:
                return "期間は 2026（年度）、2026-04（月）、2026-04-01..2026-06-30 の形で指定してください。"
            start, end, label = period
            content, count = export_csv(session, start, end, tz)
        client.files_upload_v2(channel=config.staff_channel, content=content, filename=f"kyodo-cases-{label}.csv",
                               title=f"案件一覧 {label}（{count}件）", initial_comment=f"<@{user}> の依頼で出力しました。")
        return f"{label} の案件 {count} 件の CSV をスタッフチャンネルにアップロードしました。"

    return app


def _well_formed(body: bytes, content_type: str) -> bool:
    try:
        text = body.decode("utf-8")
        if "json" in content_type:
            return isinstance(json.loads(text), dict)
        fields = parse_qs(text, strict_parsing=True)
        return "payload" not in fields or isinstance(json.loads(fields["payload"][0]), dict)
    except (UnicodeDecodeError, ValueError):
        return False


def _case_id(body: dict) -> int:
    if "case_id" in body:
        return int(body["case_id"])
    if body.get("view"):
        return int(body["view"]["private_metadata"])
    return int(body["actions"][0]["value"])


def router(bolt_app: App, signing_secret: str) -> APIRouter:
    """POST /slack/events. The size, signature and shape are checked here first, so that a bad
    request gets 413, 401 or 400 rather than an error inside the framework; bolt checks again."""
    handler = SlackRequestHandler(bolt_app)
    verifier = SignatureVerifier(signing_secret)
    api = APIRouter()

    @api.post("/slack/events")
    async def events(request: Request):
        try:
            body = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if not verifier.is_valid_request(body, dict(request.headers)):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        if not _well_formed(body, request.headers.get("content-type", "")):
            return JSONResponse({"error": "malformed body"}, status_code=400)
        request._body = body  # the adapter reads the body again
        return await handler.handle(request)

    return api
