"""Logging that keeps personal data out: third-party clients that log request bodies at debug
level (Slack's and LINE's SDKs, bolt's "unhandled request" dumps) are held at ERROR, and our own
log lines name only references and ids."""
from __future__ import annotations

import logging

BODY_LOGGERS = ("slack_sdk", "slack_bolt", "linebot", "urllib3", "httpx", "httpcore", "apscheduler.executors")
# Libraries that narrate their routine work (index builds, each migration step, each job added):
# their warnings still show, their chatter does not bury the desk's own start lines.
CHATTY_LOGGERS = ("bm25s", "alembic", "apscheduler")


def protect() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def setup(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect()
