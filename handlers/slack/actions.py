"""Buttons: on a case card (claim, reply, status, detail) and on an indicator reminder (report).
A claim is stored for the inbox worker before Slack is answered; the others open a modal or show
something, and change nothing."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from slack_bolt import Ack, App

from bot.staffactions import CLAIM, StaffAction
from handlers import slack_blocks as blocks
from handlers.slack.services import REFUSAL, Services, button_value, request_id, user_of
from store.models import Case

NO_INDICATOR = "この成果指標は見つかりません。"


def register(app: App, services: Services) -> None:
    app.action("case_claim")(partial(claim, services))
    app.action("case_reply")(partial(open_case_modal, services, blocks.reply_modal))
    app.action("case_status")(partial(open_case_modal, services, blocks.status_modal))
    app.action("case_detail")(partial(detail, services))
    app.action("indicator_report")(partial(open_indicator, services))


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
