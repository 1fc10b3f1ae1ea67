"""Sending the staff channel's outbox rows: case cards (rendered from the case at send time), their
threads, scheduled posts, and ephemeral messages to one staff member."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels import SendResult, http_outcome, retry_later
from bot.staffactions import EPHEMERAL
from bot.staffdesk import StaffDesk
from handlers import slack_blocks as blocks
from handlers.config import SlackConfig
from store.models import Case
from store.outbox import OutboxRow
from store.privacy import ERASE_THREAD


def web_client(config: SlackConfig) -> WebClient:
    return WebClient(token=config.bot_token, base_url=config.api_url, timeout=int(max(1, config.timeout_seconds)))


class SlackChannel:
    """Sends the staff channel's outbox rows. Slack is called outside any transaction (no
    database lock held while waiting on the network)."""
    name = "slack"

    def __init__(self, client: WebClient, desk: StaffDesk, config: SlackConfig):
        self.client, self.desk, self.config = client, desk, config

    def send(self, row: OutboxRow) -> SendResult:
        payload = row.payload
        if row.kind == "post":  # a scheduled post to the staff channel (reminders, overdue cases)
            return self._call(row, lambda: self.client.chat_postMessage(
                channel=self.config.staff_channel, text=payload["text"],
                blocks=blocks.post_blocks(payload["text"], payload.get("sections", []))))
        if row.kind == EPHEMERAL:
            return self._call(row, lambda: self.client.chat_postEphemeral(
                channel=self.config.staff_channel, user=payload["user"], text=payload["text"]))
        case = self.desk.case(payload["case_id"])
        if case is None:
            return SendResult("failed", error="case not found")
        if row.kind != "card" and case.slack_ts is None:
            return SendResult("retry", delay=timedelta(seconds=2), error="waiting for the card")
        if row.kind == ERASE_THREAD:
            return self._call(row, lambda: self._erase_thread(case))
        return self._call(row, lambda: self._send_case_row(row, case))

    def _call(self, row: OutboxRow, call: Callable[[], object]) -> SendResult:
        try:
            call()
        except SlackApiError as exc:
            return _classify(exc, row)
        except Exception as exc:  # timeouts, connection errors
            return retry_later(row.attempts, exc.__class__.__name__)
        return SendResult("sent")

    def _send_case_row(self, row: OutboxRow, case: Case) -> None:
        tz = self.desk.tz
        if row.kind == "card":
            card = blocks.card(case, tz, self.desk.partners_for(case))  # suggestions as of now
            if case.slack_ts:
                self.client.chat_update(channel=case.slack_channel, ts=case.slack_ts, blocks=card,
                                        text=blocks.card_text(case))
            else:
                response = self.client.chat_postMessage(channel=self.config.staff_channel, blocks=card,
                                                        text=blocks.card_text(case))
                self.desk.place_card(case.id, response["channel"], response["ts"])
        elif row.kind == "thread_answers":  # every answer in the blocks; the text is their notification
            self.client.chat_postMessage(channel=case.slack_channel, thread_ts=case.slack_ts,
                                         text=blocks.answers_text(case), blocks=blocks.answers_blocks(case),
                                         unfurl_links=False)
        else:
            self.client.chat_postMessage(channel=case.slack_channel, thread_ts=case.slack_ts, text=row.payload["text"],
                                         unfurl_links=False)


    def _erase_thread(self, case: Case) -> None:
        """After the person's erasure: every message the desk posted in the case's thread deleted
        (staff's own replies are theirs to delete), the card redrawn from the anonymised case.
        Repeatable: a retry finds only what is left."""
        channel, card_ts = case.slack_channel, case.slack_ts
        if channel is None or card_ts is None:
            return  # the card was never posted: nothing in Slack names the person
        for page in self.client.conversations_replies(channel=channel, ts=card_ts, limit=200):
            for message in page.get("messages") or []:
                if message.get("bot_id") and message.get("ts") != card_ts:
                    self._delete(channel, message["ts"])
        self.client.chat_update(channel=channel, ts=card_ts, blocks=blocks.card(case, self.desk.tz),
                                text=blocks.card_text(case))

    def _delete(self, channel: str, ts: str) -> None:
        try:
            self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            if exc.response.get("error") not in _GONE_OR_NOT_OURS:
                raise


_GONE_OR_NOT_OURS = ("message_not_found", "cant_delete_message")


def _classify(exc: SlackApiError, row: OutboxRow) -> SendResult:
    headers = exc.response.headers or {}
    return http_outcome(exc.response.status_code, row.attempts, headers.get("Retry-After") or headers.get("retry-after"),
                        f"Slack said {exc.response.get('error', exc.response.status_code)}")
