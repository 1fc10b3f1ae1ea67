"""The background loops give way to the webhooks under a burst: while requests pile up (in this
process or, told by NOTIFY, in a web process) they pause, and they resume when it passes."""
import asyncio
import threading
import time

import pytest

from bot import worker as worker_module
from bot.worker import Loop, Pressure
from store import inbox, signals
from store.db import make_async_engine
from tests.support.live import wait_until


class Counting(Loop):
    def __init__(self):
        super().__init__("counting")
        self.steps = 0

    def step(self) -> bool:
        self.steps += 1
        return self.steps < 1000  # busy: only giving way slows it


def test_a_loop_pauses_while_requests_pile_up_and_resumes_after(monkeypatch):
    monkeypatch.setattr(worker_module, "GIVE_WAY_PAUSE", 30)
    piling_up = threading.Event()
    piling_up.set()
    pressure = Pressure()
    pressure.local = piling_up.is_set
    loop = Counting()
    loop.give_way = pressure
    loop.start()
    try:
        time.sleep(0.5)
        assert loop.steps == 1  # one step, then it waits for the pile to go
        piling_up.clear()
        wait_until(lambda: loop.steps > 100, 10, "steps after the pressure ends")
    finally:
        loop.stop()


def test_pressure_felt_from_another_process_lasts_a_moment(monkeypatch):
    monkeypatch.setattr(worker_module, "GIVE_WAY_PAUSE", 0.2)
    pressure = Pressure()
    assert not pressure()
    pressure.felt()
    assert pressure()
    wait_until(lambda: not pressure(), 5, "the pressure to pass")


def test_a_web_process_under_pressure_tells_the_others(db):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs in one process")
    felt, stored = threading.Event(), threading.Event()
    listener = signals.Listener(db, {signals.PRESSURE: felt.set, signals.INBOX: stored.set})
    listener.start()
    engine = make_async_engine(db)

    async def add(event_id: str, under_pressure: bool):
        async with engine.connect() as connection:
            await inbox.add_many_async(connection, "line", [(event_id, "user:U1", {})], under_pressure=under_pressure)

    try:
        assert stored.wait(10)  # listening
        felt.clear(), stored.clear()
        asyncio.run(add("calm", False))
        assert stored.wait(10) and not felt.wait(0.5)
        asyncio.run(add("busy", True))
        assert felt.wait(10)
    finally:
        listener.stop()
        asyncio.run(engine.dispose())


def test_an_unknown_serve_role_is_refused_rather_than_running_nothing(db, kb):
    from app.server import create_app
    from app.settings import Settings
    from bot.runtime import Desk

    with pytest.raises(ValueError, match="worker"):
        create_app(Settings(), Desk(db, kb, Settings().desk), role="wrker")


def test_sends_whose_record_failed_are_recorded_later_not_sent_again(db, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session, select

    from bot.channels import SendResult
    from bot.worker import OutboxSender
    from store import outbox
    from store.db import session_scope
    from store.models import Outbox

    sent = []

    class Counting:
        def send(self, row):
            sent.append(row.id)
            return SendResult("sent")

    real_mark_sent, failures = outbox.mark_sent, []

    def mark_sent_once_failing(session, ids):
        if not failures:
            failures.append(ids)
            raise OperationalError("UPDATE outbox", {}, Exception("connection dropped"))
        real_mark_sent(session, ids)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent_once_failing)
    with session_scope(db) as session:
        outbox.enqueue(session, channel="line", target="U1", kind="push", payload={"messages": []})
    sender = OutboxSender(db, {"line": Counting()})
    sender.start()
    try:
        def recorded():
            with Session(db) as session:
                return session.exec(select(Outbox)).one().status == outbox.SENT
        wait_until(recorded, 15, "the send recorded")
    finally:
        sender.stop()
    assert failures and len(sent) == 1
