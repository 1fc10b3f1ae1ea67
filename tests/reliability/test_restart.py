"""`kyodo-desk serve` as a real process, killed with SIGKILL mid-conversation and started again:
nothing lost, nothing sent twice."""
import contextlib
import signal
import time
from collections import Counter

import httpx
from sqlmodel import Session, select

from store.db import make_engine
from store.models import Case, Conversation, Inbox, Outbox
from tests.support.line_semantics import emulate_line
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
        with contextlib.suppress(httpx.HTTPError):
            post_webhook(url, [dict(events[6], deliveryContext={"isRedelivery": True})])
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


CITIZENS = 60
INTAKE = ["相談したい", "同意する", "個人", "山田花子", "空き家の活用を相談したい", "なし", "電話", "090-1111-2222",
          "なし", "送信"]


def _slow_platform(line_api, seconds: float) -> dict:
    """LINE's semantics, answering a moment after it has taken the message: a sender killed in
    that moment does not know the message arrived."""
    state = emulate_line(line_api)
    for path, take in list(line_api.responders.items()):
        def answer_late(request, take=take):
            outcome = take(request)
            time.sleep(seconds)
            return outcome
        line_api.responders[path] = answer_late
    return state


def _intake_events() -> list[list[dict]]:
    """Per step, every citizen's event; each citizen's events in order by LINE's timestamp."""
    start = int(time.time() * 1000)
    return [[text_event(text, user=f"Uburst{c:02}", timestamp=start + step * 1000 + c) for c in range(CITIZENS)]
            for step, text in enumerate(INTAKE)]


def _post_in_bodies(url: str, events: list[dict], per_body: int = 20) -> None:
    for i in range(0, len(events), per_body):
        assert post_webhook(url, events[i:i + per_body]).status_code == 200


def test_kill_9_mid_burst_then_redelivery_loses_nothing_and_repeats_at_most_the_sends_in_flight(tmp_path, line_api):
    db_url = f"sqlite:///{tmp_path / 'desk.db'}"
    port, cache = free_port(), str(tmp_path / "cache")
    url = f"http://127.0.0.1:{port}"
    delivered = _slow_platform(line_api, 0.2)["delivered"]
    steps = _intake_events()
    proc, _ = start_serve(db_url, line_api.url, cache, port)
    engine = make_engine(db_url)
    try:
        for step in steps[:6]:
            _post_in_bodies(url, step)
        line_api.wait_for(REPLY, CITIZENS * 2, timeout=60)  # mid-burst: replies going out, more queued
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with Session(engine) as session:
            in_flight = {r.id for r in session.exec(select(Outbox).where(Outbox.status == "pending",
                                                                         Outbox.lease_holder.is_not(None)))}
        before_restart = len(line_api.requests)
        proc, _ = start_serve(db_url, line_api.url, cache, port)
        restarted = time.monotonic()
        for step in steps[:6]:  # LINE redelivers everything it sent before
            _post_in_bodies(url, [dict(e, deliveryContext={"isRedelivery": True}) for e in step])
        for step in steps[6:]:
            _post_in_bodies(url, step)

        def all_done():
            with Session(engine) as session:
                return not session.exec(select(Outbox).where(Outbox.status == "pending", Outbox.channel == "line")).first() \
                    and len(session.exec(select(Inbox).where(Inbox.status == "done")).all()) == CITIZENS * len(INTAKE)
        wait_until(all_done, 180, "every event handled and every reply sent")
    finally:
        proc.kill()
        proc.wait(10)
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.channel == "line")).all()
        versions = [c.version for c in session.exec(select(Conversation))]
        cases = session.exec(select(Case)).all()
    duplicates = len(delivered) - len(rows)
    print(f"\nsends in flight at the kill: {len(in_flight)}; messages that arrived twice: {duplicates}; "
          f"first send {line_api.requests[before_restart].at - restarted:.2f} s after the restart was up")
    assert versions == [len(INTAKE)] * CITIZENS and len(cases) == CITIZENS  # every event applied once
    assert all(row.status == "sent" for row in rows) and len(rows) >= CITIZENS * len(INTAKE)
    assert 0 <= duplicates <= len(in_flight)
    push_keys = Counter(r.headers.get("X-Line-Retry-Key") for r in line_api.accepted(PUSH))
    assert all(n == 1 for n in push_keys.values())  # no push twice
    # The rows in flight were taken back at the restart, not left until their lease ran out, and went
    # out as replies (a reply token goes stale within a minute; a late send would have been a push).
    taken_back = [r for r in rows if r.id in in_flight]
    assert taken_back and all("in flight when its sender stopped" in (r.last_error or "") for r in taken_back)
    assert not line_api.accepted(PUSH)
