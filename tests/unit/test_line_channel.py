"""The LINE channel's edges: event identity, the text it lets through, and its connection pool."""
import logging
import threading
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from bot.messages import Text
from bot.worker import SENDS_IN_PARALLEL
from handlers.config import LineConfig
from handlers.line import LineChannel, capped, event_id
from handlers.line_render import utf16_len
from tests.support.live import text_event
from tests.support.mock_platform import MockPlatform
from tests.support.platform_limits import line_refusal, line_violations

PUSH = "/v2/bot/message/push"


def _without_event_id(**extra) -> dict:
    event = text_event("こんにちは", **extra)
    del event["webhookEventId"]
    return event


def test_a_redelivered_event_without_webhook_event_id_keeps_its_identity():
    event = _without_event_id()
    again = dict(event, deliveryContext={"isRedelivery": True})
    assert event_id(again) == event_id(event)
    assert event_id(dict(event, timestamp=event["timestamp"] + 1)) != event_id(event)  # another event


def test_text_is_cut_to_lines_limit_before_the_desk_reads_it():
    channel = LineChannel(LineConfig("s", "t"))
    incoming = channel.to_core(text_event("協働" * 160_000))
    assert isinstance(incoming.event, Text) and utf16_len(incoming.event.text) == 5000
    assert channel.to_core(text_event("短い質問")).event == Text("短い質問")
    emoji = capped("😀" * 3000)  # two UTF-16 units each: 2,500 fit, none is cut in half
    assert emoji == "😀" * 2500


def test_every_parallel_send_has_a_pooled_connection(caplog):
    """As many sends as the sender keeps in flight go out at once without the pool dropping
    connections ("Connection pool is full")."""
    mock = MockPlatform(default_body={"sentMessages": []}, limits=line_violations, refuse=line_refusal).start()
    mock.fail(PUSH, 200, times=SENDS_IN_PARALLEL * 2, delay=0.3)  # every send is slow: all are in flight together
    channel = LineChannel(LineConfig("s", "t", api_base_url=mock.url))
    rows = [SimpleNamespace(id=i, reply_token=None, target=f"U{i}", payload={"messages": [{"type": "text", "text": "はい"}]},
                            created_at=datetime.now(UTC), attempts=0, last_error=None) for i in range(SENDS_IN_PARALLEL)]
    results: list = []
    try:
        with caplog.at_level(logging.WARNING, logger="urllib3"):
            for _round in range(2):
                threads = [threading.Thread(target=lambda r=row: results.append(channel.send(r))) for row in rows]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(10)
    finally:
        mock.stop()
    assert [r.outcome for r in results] == ["sent"] * SENDS_IN_PARALLEL * 2
    assert "pool is full" not in caplog.text
    assert len({uuid.UUID(r.headers["X-Line-Retry-Key"]) for r in mock.calls(PUSH)}) == SENDS_IN_PARALLEL
