"""A flood on the web chat from many sessions and many addresses: past the process's limit
(KYODO_WEB_MESSAGES_PER_SECOND) the web chat answers 429 in Japanese, while LINE's events, sent at
the same time, are all stored and answered (the limit never applies to the LINE webhook)."""
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, select

from app.server import create_app
from app.settings import Settings
from bot.runtime import Desk
from handlers import web
from store.models import Inbox
from tests.support.live import LINE_SECRET, LINE_TOKEN, LiveServer, post_webhook, text_event, wait_until

REPLY = "/v2/bot/message/reply"
RATE = 5.0  # web chat messages per second for the whole process (burst: two seconds' worth)
FLOOD = 150
LINE_PEOPLE = 25


def web_message(url: str, n: int) -> httpx.Response:
    """A new visitor each time (no cookie), from an address of its own."""
    return httpx.post(f"{url}/api/chat", json={"text": "公民館の休館日は？"}, timeout=30,
                      headers={"x-forwarded-for": f"10.1.{n // 200}.{n % 200 + 1}"})


def test_a_web_flood_is_refused_past_the_process_limit_while_line_events_are_stored_and_answered(db, kb, line_api):
    settings = Settings(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                        line_api_base_url=line_api.url, web_messages_per_second=RATE)
    app = create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)
    with LiveServer(app) as server, ThreadPoolExecutor(8) as pool:
        started = time.monotonic()
        flood = [pool.submit(web_message, server.url, n) for n in range(FLOOD)]
        events = [text_event("公民館の休館日は？", user=f"Uflood{n:02d}") for n in range(LINE_PEOPLE)]
        acks = [post_webhook(server.url, [event]).status_code for event in events]  # while the flood is on
        answers = [future.result() for future in flood]
        elapsed = time.monotonic() - started

        refused = [a for a in answers if a.status_code == 429]
        taken = [a for a in answers if a.status_code == 200]
        assert len(refused) + len(taken) == FLOOD
        assert 0 < len(taken) <= 2 * RATE + RATE * elapsed + 1, (len(taken), elapsed)
        assert all(a.json()["error"] == web.TOO_FAST and int(a.headers["retry-after"]) >= 1 for a in refused)

        assert acks == [200] * LINE_PEOPLE
        tokens = {event["replyToken"] for event in events}
        wait_until(lambda: tokens <= {r.body.get("replyToken") for r in line_api.accepted(REPLY)}, 60,
                   "every LINE event answered")
        with Session(db) as session:
            stored = session.exec(select(Inbox).where(Inbox.channel == "line")).all()
        assert {row.event_id for row in stored} == {event["webhookEventId"] for event in events}
        time.sleep(1 / RATE)
        assert web_message(server.url, FLOOD).status_code == 200  # the web chat answers again once the rate allows
