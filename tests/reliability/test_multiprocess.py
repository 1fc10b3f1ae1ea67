"""Two `serve` processes on one PostgreSQL: one is killed with SIGKILL mid-conversation while the
other runs on. Nothing is lost or sent twice, and the scheduler moves to the survivor."""
import signal
import time
import uuid
from collections import Counter
from functools import partial

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from store.db import make_engine
from store.models import Case, Conversation, Inbox, Outbox
from tests.support.line_semantics import emulate_line
from tests.support.live import post_webhook, start_serve, text_event, wait_until

STEPS = ["相談したい", "同意する", "個人", "山田", "空き家を地域の居場所にしたい", "なし", "LINE", "なし", "送信"]
USERS = [f"Umulti{i}" for i in range(6)]


@pytest.fixture
def schema_url(postgres_url):
    schema = f"mp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def scheduler_holder_pid(engine) -> int | None:
    """The pid of the process whose scheduler lease is still valid, if any."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT holder, expires_at > now() FROM lease WHERE name = 'scheduler'")).first()
    return int(row[0].split(":")[1]) if row and row[1] else None


def deliver_like_line(ports: list[int], event: dict, n: int) -> None:
    """Post one event, spreading events over the live processes; like LINE, redeliver until one answers 200."""
    for attempt in range(100):
        port = ports[(n + attempt) % len(ports)]
        try:
            if post_webhook(f"http://127.0.0.1:{port}", [event]).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("no process accepted the event")


def nothing_pending(engine) -> bool:
    with Session(engine) as session:
        return (not session.exec(select(Inbox).where(Inbox.status == "pending")).first()
                and not session.exec(select(Outbox).where(Outbox.status == "pending", Outbox.channel == "line")).first())


def converse_killing_the_leader(procs: dict, leader: int, events: dict[str, list[dict]]) -> None:
    """Every user goes through the form; at step 4 the scheduler's process dies (SIGKILL)."""
    ports = [port for _proc, port in procs.values()]
    n = 0
    for step in range(len(STEPS)):
        if step == 4:
            victim, victim_port = procs[leader]
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            ports.remove(victim_port)
        for user in USERS:
            deliver_like_line(ports, events[user][step], n)
            n += 1
        time.sleep(0.3)  # each person waits for the answer before typing again


def test_kill_9_of_one_process_while_another_runs(schema_url, line_api, tmp_path):
    state = emulate_line(line_api)
    cache = str(tmp_path / "cache")
    a, port_a = start_serve(schema_url, line_api.url, cache, KYODO_SCHEDULER_LEASE_SECONDS="3")
    b, port_b = start_serve(schema_url, line_api.url, cache, KYODO_SCHEDULER_LEASE_SECONDS="3")
    procs = {a.pid: (a, port_a), b.pid: (b, port_b)}
    engine = make_engine(schema_url)
    events = {user: [text_event(step, user=user) for step in STEPS] for user in USERS}
    try:
        leader = wait_until(lambda: scheduler_holder_pid(engine), 20)
        converse_killing_the_leader(procs, leader, events)
        survivor_pid = next(pid for pid in procs if pid != leader)
        assert wait_until(lambda: scheduler_holder_pid(engine) == survivor_pid, 20)
        wait_until(lambda: nothing_pending(engine), 90)
    finally:
        for proc, _port in procs.values():
            proc.kill()
            proc.wait(10)
    with Session(engine) as session:
        cases = session.exec(select(Case)).all()
        conversations = session.exec(select(Conversation)).all()
        inbox_rows = session.exec(select(Inbox)).all()
    engine.dispose()
    assert sorted(c.user_id for c in cases) == sorted(f"user:{u}" for u in USERS)
    assert len({c.reference for c in cases}) == len(USERS)
    assert {c.version for c in conversations} == {len(STEPS)}  # every event applied exactly once, in order
    assert len(inbox_rows) == len(USERS) * len(STEPS) and {r.status for r in inbox_rows} == {"done"}
    token_user = {e["replyToken"]: u for u, evs in events.items() for e in evs}
    per_user = Counter(token_user.get(who, who) for _kind, who, _m in state["delivered"])
    assert per_user == Counter({u: len(STEPS) for u in USERS})


def delivered_at_least(state: dict, count: int) -> bool:
    return len(state["delivered"]) >= count


def test_a_web_process_and_a_worker_process_side_by_side(schema_url, line_api, tmp_path):
    """`serve --role web` only stores and acks; `serve --role worker` answers what it stored."""
    state = emulate_line(line_api)
    cache = str(tmp_path / "cache")
    web, web_port = start_serve(schema_url, line_api.url, cache, role="web")
    worker, worker_port = start_serve(schema_url, line_api.url, cache, role="worker")
    users = USERS[:3]
    try:
        assert httpx.get(f"http://127.0.0.1:{web_port}/healthz").json()["role"] == "web"
        assert httpx.get(f"http://127.0.0.1:{worker_port}/healthz").json()["role"] == "worker"
        assert post_webhook(f"http://127.0.0.1:{worker_port}", [text_event("相談したい")]).status_code == 404
        for answered, step in enumerate(STEPS, start=1):
            for user in users:
                assert post_webhook(f"http://127.0.0.1:{web_port}", [text_event(step, user=user)]).status_code == 200
            wait_until(partial(delivered_at_least, state, len(users) * answered), 30, "replies")
    finally:
        for proc in (web, worker):
            proc.kill()
            proc.wait(10)
    engine = make_engine(schema_url)
    with Session(engine) as session:
        cases = session.exec(select(Case)).all()
    engine.dispose()
    assert sorted(c.user_id for c in cases) == sorted(f"user:{u}" for u in users)
    assert len(state["delivered"]) == len(users) * len(STEPS)
