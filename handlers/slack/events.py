"""Events API: a staff member's message in a case thread (an internal note, never sent to the
citizen) and App Home. Slack answers an event as soon as a listener starts, so the note is stored
by a listener middleware, before the ack; a failure to store answers 500 and Slack retries."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient

from bot.staffactions import NOTE, StaffAction
from handlers import slack_blocks as blocks
from handlers.slack.services import Services, request_id


def register(app: App, services: Services) -> None:
    app.event("message", middleware=[partial(keep_thread_note, services)])(noted)
    app.event("app_home_opened")(partial(home, services))


def keep_thread_note(services: Services, body: dict, event: dict, next: Callable[[], None]) -> None:
    """Store a staff member's reply in a thread of the staff channel (once per Slack event id)."""
    thread, user = event.get("thread_ts"), str(event.get("user") or "")
    if (not event.get("subtype") and not event.get("bot_id") and isinstance(thread, str) and thread
            and event.get("channel") == services.config.staff_channel and services.staff.is_staff(user)):
        note = StaffAction(NOTE, user, text=str(event.get("text") or ""), thread_channel=event["channel"], thread_ts=thread)
        services.desk.submit(request_id(body), note)
    next()


def noted() -> None:
    """Nothing more to do: the middleware stored the note, the inbox worker records it."""


def home(services: Services, event: dict, client: WebClient) -> None:
    user = str(event.get("user") or "")
    if not services.staff.is_staff(user):
        client.views_publish(user_id=user, view=blocks.refusal_home())
        return
    lists = services.desk.home(user)
    client.views_publish(user_id=user, view=blocks.home(lists.mine, lists.unassigned, lists.overdue,
                                                         lists.overdue_days, services.desk.tz, lists.follow_up))
