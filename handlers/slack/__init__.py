"""Slack: the staff desk. Listeners by kind (actions, views, commands, events), each module with
`register(app, services)`; they only translate Slack payloads and call the desk's services
(bot/staffdesk.py), and every Block Kit structure lives in handlers/slack_blocks.py. The endpoint
checks and dispatches requests; the channel sends the staff channel's outbox rows."""
from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.staffdesk import StaffDesk
from handlers.config import SlackConfig
from handlers.slack import actions, commands, events, views
from handlers.slack.channel import SlackChannel, web_client
from handlers.slack.endpoint import router
from handlers.slack.services import Services, StaffDirectory

__all__ = ["SlackChannel", "build_app", "router", "web_client"]


def build_app(config: SlackConfig, desk: StaffDesk, client: WebClient) -> App:
    """The bolt app with every listener. The endpoint has verified the signature already."""
    app = App(token=config.bot_token, signing_secret=config.signing_secret, client=client,
              token_verification_enabled=False, request_verification_enabled=False, process_before_response=False)
    services = Services(config, client, desk, StaffDirectory(client, config))
    for listeners in (actions, views, commands, events):
        listeners.register(app, services)
    return app
