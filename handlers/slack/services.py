"""What every Slack listener is given: the configuration, the Web API client, the desk's services
and the staff directory, plus the small helpers they share to read a payload and answer."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.staffdesk import StaffDesk
from handlers.config import SlackConfig
from handlers.slack_blocks import REFUSAL
from store.models import Case

log = logging.getLogger(__name__)
NO_CASE = "その案件は見つかりません。カードを開き直してください。"
MEMBERS_TTL = 60.0


class StaffDirectory:
    """Who may act: SLACK_STAFF_USER_IDS when set, otherwise the members of the staff channel."""

    def __init__(self, client: WebClient, config: SlackConfig):
        self.client, self.config = client, config
        self._members: frozenset[str] = frozenset()
        self._fetched = -MEMBERS_TTL
        self._lock = threading.Lock()

    def is_staff(self, user_id: str) -> bool:
        if not user_id:
            return False
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


@dataclass(frozen=True)
class Services:
    config: SlackConfig
    client: WebClient
    desk: StaffDesk
    staff: StaffDirectory

    def tell(self, user: str, text: str) -> None:
        """An ephemeral message to one person in the staff channel."""
        self.client.chat_postEphemeral(channel=self.config.staff_channel, user=user, text=text)

    def staff_case(self, user: str, case_id: object) -> tuple[Case | None, str]:
        """The case a staff member's button or modal names, or None and why not (to tell them)."""
        if not self.staff.is_staff(user):
            return None, REFUSAL
        case = self.desk.case(case_id)
        return case, "" if case is not None else NO_CASE


def user_of(body: dict) -> str:
    user = body.get("user")
    return str(user.get("id") or "") if isinstance(user, dict) else ""


def button_value(body: dict) -> str:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return str(first.get("value") or "")


def request_id(body: dict) -> str:
    """The inbox's event id of a request: Slack's event id for an event (Slack sends an event again
    when unsure it arrived); a fresh id for a click or a submission, which Slack never sends twice."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    return f"interaction:{uuid.uuid4().hex}"
