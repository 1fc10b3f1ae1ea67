"""Buttons: on a case card (claim, reply, status, detail; 紹介する and 取組化にする beside the partner
groups; 承認 / 修正依頼 / 却下 on a registration), on an indicator reminder (report), on the weekly
digest (一覧を見る; 既存の回答に結びつける / 新しい回答を作る / 対象外 per group) and on a
directory search (もっと見る). A claim, a 取組化 and an approval are stored for the inbox worker
before Slack is answered; the others open a modal or show something, and change nothing."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

from slack_bolt import Ack, App, Respond

from bot.registrations import APPROVE, REJECT, REVISE
from bot.staffactions import CLAIM, REALIZE, REGISTRATION, StaffAction
from handlers import slack_blocks as blocks
from handlers.slack.commands import group_page, unanswered
from handlers.slack.services import REFUSAL, Services, button_value, request_id, user_of
from store.models import Case

NO_INDICATOR = "この成果指標は見つかりません。"
NO_GROUP = "その団体（または紹介記録）は見つかりません。カードを開き直してください。"


def register(app: App, services: Services) -> None:
    app.action("case_claim")(partial(claim, services))
    app.action("case_reply")(partial(open_case_modal, services, blocks.reply_modal))
    app.action("case_status")(partial(open_case_modal, services, blocks.status_modal))
    app.action("case_detail")(partial(detail, services))
    app.action("indicator_report")(partial(open_indicator, services))
    app.action("partner_introduce")(partial(open_introduce, services))
    app.action("introduction_realize")(partial(realize, services))
    app.action("registration_approve")(partial(approve, services))
    app.action("registration_revise")(partial(open_case_modal, services, partial(blocks.registration_modal, decision=REVISE)))
    app.action("registration_reject")(partial(open_case_modal, services, partial(blocks.registration_modal, decision=REJECT)))
    app.action("groups_more")(partial(more_groups, services))
    app.action("unanswered_list")(partial(list_unanswered, services))
    app.action("unanswered_link")(partial(open_knowledge_modal, services, link_modal))
    app.action("unanswered_answer")(partial(open_knowledge_modal, services, answer_modal))
    app.action("unanswered_route")(partial(open_knowledge_modal, services, route_modal))


def claim(services: Services, ack: Ack, body: dict) -> None:
    user = user_of(body)
    case, problem = services.staff_case(user, button_value(body))
    if case is not None:
        services.desk.submit(request_id(body), StaffAction(CLAIM, user, case.id))
    ack()
    if problem:
        services.tell(user, problem)


def open_case_modal(services: Services, modal: Callable[[Case], dict], ack: Ack, body: dict) -> None:
    """The reply or status modal of the case the button names."""
    ack()
    case, problem = services.staff_case(user_of(body), button_value(body))
    if case is None:
        services.tell(user_of(body), problem)
        return
    services.client.views_open(trigger_id=body.get("trigger_id"), view=modal(case))


def detail(services: Services, ack: Ack, body: dict) -> None:
    ack()
    user = user_of(body)
    case, problem = services.staff_case(user, button_value(body))
    if case is None:
        services.tell(user, problem)
        return
    services.tell(user, blocks.case_detail(case, services.desk.history(case.id), services.desk.tz))


def list_unanswered(services: Services, ack: Ack, body: dict) -> None:
    """The digest's 一覧を見る: every group of unanswered questions, to the staff member alone."""
    ack()
    user = user_of(body)
    services.tell(user, unanswered(services) if services.staff.is_staff(user) else REFUSAL)


def link_modal(services: Services, question: str) -> dict:
    return blocks.link_modal(question, services.desk.knowledge.candidates(question))


def answer_modal(services: Services, question: str) -> dict:
    return blocks.answer_modal(question, services.desk.knowledge.sources(), services.desk.today().isoformat())


def route_modal(services: Services, question: str) -> dict:
    return blocks.route_modal(question, services.desk.knowledge.route_words(question))


def open_knowledge_modal(services: Services, modal: Callable[[Services, str], dict], ack: Ack, body: dict) -> None:
    """A digest button: the modal that fixes the group's question (nothing changes until it is submitted)."""
    ack()
    user = user_of(body)
    if not services.staff.is_staff(user):
        services.tell(user, REFUSAL)
        return
    services.client.views_open(trigger_id=body.get("trigger_id"), view=modal(services, button_value(body)))


def open_indicator(services: Services, ack: Ack, body: dict) -> None:
    ack()
    user = user_of(body)
    if not services.staff.is_staff(user):
        services.tell(user, REFUSAL)
        return
    indicator_id, _, period = button_value(body).partition("|")
    indicator = services.desk.indicator(indicator_id)
    if indicator is None:
        services.tell(user, NO_INDICATOR)
        return
    services.client.views_open(trigger_id=body.get("trigger_id"),
                               view=blocks.indicator_modal(indicator.id, indicator.name, period, indicator.unit))


def _ids(value: str) -> tuple[str, int]:
    """「case|id」 from a button: the case id as text (checked by staff_case) and the other id (0 if none)."""
    case_id, _, other = value.partition("|")
    return case_id, int(other) if other.isascii() and other.isdigit() and len(other) < 12 else 0


def open_introduce(services: Services, ack: Ack, body: dict) -> None:
    """紹介する: the confirm modal (both sides agreed? a note); nothing is recorded yet."""
    ack()
    user = user_of(body)
    case_id, group_id = _ids(button_value(body))
    case, problem = services.staff_case(user, case_id)
    name = services.desk.group_name(group_id) if case is not None else None
    if case is None or name is None:
        services.tell(user, problem or NO_GROUP)
        return
    services.client.views_open(trigger_id=body.get("trigger_id"), view=blocks.introduce_modal(case, group_id, name))


def realize(services: Services, ack: Ack, body: dict) -> None:
    user = user_of(body)
    case_id, introduction_id = _ids(button_value(body))
    case, problem = services.staff_case(user, case_id)
    if case is not None and introduction_id:
        services.desk.submit(request_id(body), StaffAction(REALIZE, user, case.id, introduction_id=introduction_id))
    ack()
    if case is None or not introduction_id:
        services.tell(user, problem or NO_GROUP)


def approve(services: Services, ack: Ack, body: dict) -> None:
    user = user_of(body)
    case, problem = services.staff_case(user, button_value(body))
    if case is not None:
        services.desk.submit(request_id(body), StaffAction(REGISTRATION, user, case.id, status=APPROVE))
    ack()
    if problem:
        services.tell(user, problem)


def more_groups(services: Services, ack: Ack, body: dict, respond: Respond) -> None:
    """The next page of a `/kyodo groups` search, in place of the one shown."""
    ack()
    user = user_of(body)
    if not services.staff.is_staff(user):
        services.tell(user, REFUSAL)
        return
    try:
        asked = json.loads(button_value(body))
        query, cursor = str(asked["q"]), str(asked["c"])
    except (ValueError, TypeError, KeyError):
        query, cursor = "", ""
    text, page_blocks = group_page(services, query, cursor)
    respond(replace_original=True, response_type="ephemeral", text=text, blocks=page_blocks)
