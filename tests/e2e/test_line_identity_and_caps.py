"""LINE events over real HTTP: a redelivery without webhookEventId is recognised; an oversized text
is answered from its first 5,000 characters instead of being analysed whole."""
import time

from tests.support.live import post_webhook, settle, text_event

REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"


def test_a_redelivery_without_webhook_event_id_is_processed_once(line_server):
    event = text_event("公民館の休館日は？", user="Unoid")
    del event["webhookEventId"]
    assert post_webhook(line_server.url, [event]).status_code == 200
    line_server.line.wait_for(REPLY)
    again = dict(event, deliveryContext={"isRedelivery": True})
    assert post_webhook(line_server.url, [again]).status_code == 200
    settle(line_server.db)
    time.sleep(0.5)
    assert len(line_server.line.calls(REPLY) + line_server.line.calls(PUSH)) == 1


def test_an_oversized_text_is_answered_not_analysed_whole(line_server):
    started = time.monotonic()
    assert post_webhook(line_server.url, [text_event("協働" * 160_000, user="Uhuge")]).status_code == 200
    [reply] = line_server.line.wait_for(REPLY, timeout=30)
    assert reply.status == 200 and reply.body["messages"]
    assert time.monotonic() - started < 10  # 320,000 characters analysed whole took 5 s on an idle machine
