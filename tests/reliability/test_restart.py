"""`kyodo-desk serve` as a real process, killed with SIGKILL mid-conversation and started again:
nothing lost, nothing sent twice."""
import signal

import httpx
from sqlmodel import Session, select

from store.db import make_engine
from store.models import Case, Conversation, Inbox, Outbox
from tests.support.live import free_port, post_webhook, start_serve, text_event, wait_until

REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"
STEPS = ["相談したい", "同意する", "個人", "山田", "空き家を地域の居場所にしたい", "なし", "LINE", "なし", "送信"]


def test_kill_9_mid_conversation_loses_nothing_and_sends_nothing_twice(tmp_path, line_api):
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    port, cache = free_port(), str(tmp_path / "cache")
    url = f"http://127.0.0.1:{port}"
    proc, _ = start_serve(db_url, line_api.url, cache, port)
    engine = make_engine(db_url)
    events = [text_event(step, user="Ukill") for step in STEPS]
    try:
        for event in events[:4]:
            assert post_webhook(url, [event]).status_code == 200
        line_api.wait_for(REPLY, 4)
        # LINE goes down: the next replies cannot be sent and wait in the outbox.
        line_api.fail(REPLY, 500, times=10_000)
        line_api.fail(PUSH, 500, times=10_000)
        for event in events[4:7]:
            assert post_webhook(url, [event]).status_code == 200

        def processed(n):
            with Session(engine) as session:
                return len(session.exec(select(Inbox).where(Inbox.status == "done")).all()) >= n

        wait_until(lambda: processed(7), 30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # While it is down, LINE redelivers one event and cannot reach us.
        try:
            post_webhook(url, [dict(events[6], deliveryContext={"isRedelivery": True})])
        except httpx.HTTPError:
            pass
        line_api.heal()
        proc, _ = start_serve(db_url, line_api.url, cache, port)
        assert post_webhook(url, [dict(events[6], deliveryContext={"isRedelivery": True})]).status_code == 200
        for event in events[7:]:
            assert post_webhook(url, [event]).status_code == 200

        def all_sent():
            with Session(engine) as session:
                return not session.exec(select(Outbox).where(Outbox.status == "pending", Outbox.channel == "line")).all() \
                    and len(session.exec(select(Inbox).where(Inbox.status == "done")).all()) == len(STEPS)

        wait_until(all_sent, 60)
    finally:
        proc.kill()
        proc.wait(10)
    with Session(engine) as session:
        [case] = session.exec(select(Case)).all()
        conversation = session.exec(select(Conversation)).one()
        sent = session.exec(select(Outbox).where(Outbox.channel == "line")).all()
    assert case.answers["content"] == "空き家を地域の居場所にしたい"
    assert conversation.version == len(STEPS)  # every event applied exactly once
    assert all(row.status == "sent" for row in sent) and len(sent) == len(STEPS)
    # LINE accepted exactly one request per reply: the ones that waited out the outage and the
    # restart were sent once, and nothing already delivered was sent again.
    assert len(line_api.accepted(REPLY, PUSH)) == len(STEPS)
