"""Reliability: LINE failing in every way it can, redelivery storms, fuzzed bodies and a dropped
database connection. Afterwards every event counts once and every message arrived once."""
import json
import os
import threading
import time
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.server import create_app
from app.settings import Settings
from bot.runtime import Desk
from store.models import Inbox, Outbox
from tests.support.line_semantics import emulate_line
from tests.support.live import LINE_SECRET, LINE_TOKEN, LiveServer, post_webhook, settle, sign, text_event

REPLY = "/v2/bot/message/reply"
QUESTIONS = ["公民館の休館日は？", "区づくり推進事業の補助率は？", "協働推進委員会の委員は何人？"]


@pytest.fixture
def server(db, kb, line_api):
    state = emulate_line(line_api)
    settings = Settings(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                        line_api_base_url=line_api.url, http_timeout_seconds=1.0)
    with LiveServer(create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)) as live:
        live.db, live.line, live.delivered = db, line_api, state["delivered"]
        yield live


def deliveries_per_event(server, events) -> Counter:
    token_to_user = {e["replyToken"]: e["source"]["userId"] for e in events}
    counts = Counter()
    for kind, who, _messages in server.delivered:
        counts[token_to_user.get(who, who) if kind == "reply" else who] += 1
    return counts


def send_until_accepted(url, events, attempts=50):
    """What LINE does: a webhook that did not get 200 is delivered again."""
    for _ in range(attempts):
        try:
            if post_webhook(url, events).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("webhook never accepted")


def test_line_errors_rate_limits_and_timeouts_still_deliver_each_message_once(server):
    server.line.fail(REPLY, 500, times=4)
    server.line.fail(REPLY, 429, times=2, headers={"Retry-After": "1"})
    server.line.fail(REPLY, 200, times=3, delay=1.6)  # LINE takes it, but too slowly: the client gives up
    events = [text_event(QUESTIONS[i % 3], user=f"Uout{i}") for i in range(10)]
    for event in events:
        send_until_accepted(server.url, [event])
    settle(server.db, 60)
    with Session(server.db) as session:
        rows = session.exec(select(Outbox).where(Outbox.channel == "line")).all()
    assert all(r.status == "sent" for r in rows) and len(rows) == 10
    assert deliveries_per_event(server, events) == Counter({f"Uout{i}": 1 for i in range(10)})


def test_a_thousand_redeliveries_count_once(server):
    events = [text_event(QUESTIONS[i % 3], user=f"Udup{i}") for i in range(10)]
    redelivered = [dict(e, deliveryContext={"isRedelivery": True}) for e in events]

    statuses = Counter()

    def storm(n):
        for _ in range(10):
            body = [redelivered[(n + k) % 10] for k in range(10)]  # ten events per body, in varying order
            statuses[post_webhook(server.url, body).status_code] += 1

    threads = [threading.Thread(target=storm, args=(n,)) for n in range(10)]  # 10 × 10 × 10 = 1,000
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == Counter({200: 100})
    settle(server.db, 60)
    with Session(server.db) as session:
        assert len(session.exec(select(Inbox)).all()) == 10
    assert deliveries_per_event(server, events) == Counter({f"Udup{i}": 1 for i in range(10)})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
event_like = st.fixed_dictionaries({
    "type": st.sampled_from(["message", "postback", "follow", "unfollow", "join", "beacon", "things", "x"]) | st.text(max_size=8),
}, optional={
    "source": st.fixed_dictionaries({"type": st.sampled_from(["user", "group", "room", "?"]),
                                     "userId": st.text(max_size=12)}) | json_values,
    "message": st.fixed_dictionaries({"type": st.sampled_from(["text", "sticker", "image", "?"]),
                                      "text": st.text(max_size=40)}) | json_values,
    "postback": st.fixed_dictionaries({"data": st.text(max_size=60)}) | json_values,
    "replyToken": st.text(max_size=20) | json_values,
    "webhookEventId": st.text(min_size=1, max_size=26),
})
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"events": st.lists(event_like, max_size=3)}).map(lambda v: json.dumps(v).encode()),
)


def test_ten_thousand_fuzzed_webhook_bodies_never_get_a_server_error(server):
    examples = int(os.environ.get("KYODO_FUZZ_EXAMPLES", "10000"))
    statuses = Counter()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        @hyp_settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
        @given(body=bodies, signed=st.booleans())
        def post(body, signed):
            headers = {"content-type": "application/json"}
            if signed:
                headers["x-line-signature"] = sign(body)
            response = client.post("/line/webhook", content=body, headers=headers)
            statuses[response.status_code] += 1
            assert response.status_code < 500

        post()
    assert sum(statuses.values()) >= examples * 0.9 and statuses[200] > 0 and statuses[401] > 0
    settle(server.db, 120)
    with Session(server.db) as session:
        assert session.exec(select(Inbox).where(Inbox.status == "failed")).all() == []
    # and it still works
    event = text_event("公民館の休館日は？", user="Uafterfuzz")
    send_until_accepted(server.url, [event])
    settle(server.db, 60)
    assert deliveries_per_event(server, [event])["Uafterfuzz"] == 1


def test_database_connections_dropped_under_load_lose_nothing(server, db, postgres_url):
    if db.dialect.name != "postgresql":
        pytest.skip("dropping server connections is a PostgreSQL test")
    import psycopg

    events = [text_event(QUESTIONS[i % 3], user=f"Udrop{i % 10}") for i in range(60)]
    admin = psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True,
                            application_name="test-admin")

    def drop():
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'kyodo-desk' AND pid <> pg_backend_pid()")

    for i, event in enumerate(events):
        if i in (15, 30, 45):
            drop()
        send_until_accepted(server.url, [event])
    admin.close()
    settle(server.db, 90)
    with Session(server.db) as session:
        rows = session.exec(select(Inbox)).all()
    assert len(rows) == 60 and {r.status for r in rows} == {"done"}
    assert sum(deliveries_per_event(server, events).values()) == 60
