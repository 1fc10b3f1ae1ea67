"""The inbox and outbox queues on both databases: who is served first, that each person's
messages keep their order, that concurrent claimers never share a row, and that a batch of
turns isolates the one that fails."""
import asyncio
import importlib
import pkgutil
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.settings import Settings
from bot.channels import SendResult
from bot.intake import InboxWriter
from bot.messages import Text
from bot.runtime import Desk, TurnRequest
from bot.worker import OutboxSender
from store import inbox, leases, outbox, signals
from store.db import session_scope
from store.models import Conversation, Inbox, Outbox
from store.queues import WINDOW


def queue(db, *targets: str) -> list[int]:
    with session_scope(db) as session:
        outbox.enqueue_many(session, [outbox.row(channel="line", target=t, kind="push", payload={"n": i})
                                      for i, t in enumerate(targets)])
    with Session(db) as session:
        return [r.id for r in session.exec(select(Outbox).order_by(Outbox.id))]


def lease(db, limit: int = 10) -> list:
    with session_scope(db) as session:
        return outbox.lease_due(session, ("line",), datetime.now(UTC), limit)


def test_a_targets_second_message_waits_until_its_first_is_sent(db):
    a1, a2, b1 = queue(db, "A", "A", "B")
    assert [r.id for r in lease(db)] == [a1, b1]
    assert lease(db) == []  # leased rows are not handed out twice
    with session_scope(db) as session:
        outbox.mark_sent(session, [a1])
    assert [r.id for r in lease(db)] == [a2]


def test_a_message_waiting_to_retry_holds_back_the_later_ones_to_the_same_target(db):
    a1, a2 = queue(db, "A", "A")
    [row] = lease(db)
    with session_scope(db) as session:
        outbox.mark_retry(session, row.id, delay=timedelta(0), error="429")
    assert [r.id for r in lease(db)] == [a1]  # the same row again, never a2 before it
    with session_scope(db) as session:
        outbox.mark_failed(session, a1, "gave up")
    assert [r.id for r in lease(db)] == [a2]


def test_the_lease_limit_takes_the_oldest_targets_first(db):
    ids = queue(db, *[f"T{i}" for i in range(12)])
    assert [r.id for r in lease(db, limit=5)] == ids[:5]
    assert [r.id for r in lease(db, limit=5)] == ids[5:10]


def test_inbox_claims_each_persons_oldest_pending_event_only(db):
    with session_scope(db) as session:
        inbox.add_many(session, "line", [("e1", "user:U1", {}), ("e2", "user:U1", {}), ("e3", "user:U2", {})])
    with session_scope(db) as session:
        rows = inbox.claim_batch(session, 10)
        assert [r.event_id for r in rows] == ["e1", "e3"]
        inbox.finish_many(session, [rows[0].id])
    with session_scope(db) as session:
        assert [r.event_id for r in inbox.claim_batch(session, 10)] == ["e2", "e3"]


def test_a_flood_from_one_person_does_not_hide_everyone_queued_behind_it(db):
    flood = [(f"f{i}", "group:G1", {}) for i in range(WINDOW + 10)]
    with session_scope(db) as session:
        inbox.add_many(session, "line", flood + [(f"p{i}", f"user:P{i}", {}) for i in range(5)])
        outbox.enqueue_many(session, [outbox.row(channel="line", target="G1", kind="push", payload={}) for _ in flood]
                            + [outbox.row(channel="line", target=f"P{i}", kind="push", payload={}) for i in range(5)])
    with session_scope(db) as session:
        assert [r.event_id for r in inbox.claim_batch(session, 8)] == ["f0", "p0", "p1", "p2", "p3", "p4"]
    assert [r.target for r in lease(db, limit=8)] == ["G1", "P0", "P1", "P2", "P3", "P4"]


def test_two_workers_claiming_at_once_take_different_events(db):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: one claim waits for the other")
    with session_scope(db) as session:
        inbox.add_many(session, "line", [(f"e{i}", f"user:U{i}", {}) for i in range(8)])
    with session_scope(db) as first:
        taken = {r.event_id for r in inbox.claim_batch(first, 3)}
        with session_scope(db) as second:
            also = {r.event_id for r in inbox.claim_batch(second, 3)}
    assert len(taken) == len(also) == 3 and not taken & also


def test_group_commit_stores_concurrent_requests_and_answers_each(db):
    writer = InboxWriter(db, "line", order=lambda e: e[0])

    async def deliver():
        await writer.start()
        try:
            first = [writer.store([(f"r{r}-e{i}", f"user:U{r}", {"i": i}) for i in range(3)]) for r in range(20)]
            again = [writer.store([("r0-e0", "user:U0", {}), ("fresh", "user:U0", {})])]
            return await asyncio.gather(*first), await asyncio.gather(*again)
        finally:
            await writer.stop()

    stored, redelivered = asyncio.run(deliver())
    assert stored == [3] * 20 and redelivered == [1]
    with Session(db) as session:
        assert len(session.exec(select(Inbox)).all()) == 61


def test_a_request_that_cannot_be_stored_fails_alone(db):
    writer = InboxWriter(db, "line", order=lambda e: e[0])

    async def deliver():
        await writer.start()
        try:
            good = [writer.store([(f"ok{i}", "user:U1", {"i": i})]) for i in range(5)]
            bad = writer.store([("bad", "user:U2", {"not json": {1, 2}})])
            return await asyncio.gather(*good, bad, return_exceptions=True)
        finally:
            await writer.stop()

    outcomes = asyncio.run(deliver())
    assert outcomes[:5] == [1] * 5 and isinstance(outcomes[5], Exception)
    with Session(db) as session:
        assert {r.event_id for r in session.exec(select(Inbox))} == {f"ok{i}" for i in range(5)}


def test_a_failing_turn_in_a_batch_writes_nothing_and_spares_the_others(db, kb):
    desk = Desk(db, kb, Settings().desk)

    def broken(replies):
        raise ValueError("rendering failed")

    def rows_for(user):
        return lambda replies: [outbox.row(channel="line", target=user, kind="push", payload={"n": len(replies)})]

    with session_scope(db) as session:
        outcomes = desk.turns(session, [TurnRequest("line", "user:A", Text("公民館の休館日は？"), outbox=rows_for("A")),
                                        TurnRequest("line", "user:B", Text("公民館の休館日は？"), outbox=broken),
                                        TurnRequest("line", "user:C", Text("相談したい"), outbox=rows_for("C"))])
    assert isinstance(outcomes[1], ValueError) and all(isinstance(o, list) and o for o in (outcomes[0], outcomes[2]))
    with Session(db) as session:
        assert {c.user_id for c in session.exec(select(Conversation))} == {"user:A", "user:C"}
        assert sorted(o.target for o in session.exec(select(Outbox))) == ["A", "C"]


def test_migrations_build_exactly_the_tables_the_code_declares(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import store

    for module in pkgutil.iter_modules(store.__path__):  # every module that may declare a table
        importlib.import_module(f"store.{module.name}")

    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if "apscheduler" not in str(d)] == []


def test_work_stored_by_one_process_wakes_the_loops_of_another(db):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs in one process, where the loops are woken directly")
    woken = {signals.INBOX: threading.Event(), signals.OUTBOX: threading.Event()}
    listener = signals.Listener(db, {channel: event.set for channel, event in woken.items()})
    listener.start()
    try:
        assert all(event.wait(10) for event in woken.values())  # on connecting: work stored while not listening
        for event in woken.values():
            event.clear()
        with session_scope(db) as session:
            inbox.add_many(session, "line", [("redelivered-later", "user:U1", {})], status=inbox.DONE)
        assert not woken[signals.INBOX].wait(0.5)  # nothing to do: nobody woken
        with session_scope(db) as session:
            inbox.add_many(session, "line", [("e1", "user:U1", {})])
        assert woken[signals.INBOX].wait(10) and not woken[signals.OUTBOX].is_set()
        queue(db, "A")  # by a worker, whose own sender is woken directly: nobody else
        assert not woken[signals.OUTBOX].wait(0.5)
        signals.announce(db, signals.OUTBOX)  # by a web process (a staff action), which has no sender
        assert woken[signals.OUTBOX].wait(10)
    finally:
        listener.stop()


def test_the_webhook_writer_wakes_the_loops_of_another_process(db):
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs in one process, where the loops are woken directly")
    woken = threading.Event()
    listener = signals.Listener(db, {signals.INBOX: woken.set})
    listener.start()
    writer = InboxWriter(db, "line", order=lambda e: e[0])

    async def deliver():
        await writer.start()
        try:
            return await writer.store([("w1", "user:U1", {"text": "こんにちは\\u0000"})])
        finally:
            await writer.stop()
    try:
        assert woken.wait(10)
        woken.clear()
        assert asyncio.run(deliver()) == 1
        assert woken.wait(10)
    finally:
        listener.stop()
    with Session(db) as session:
        assert session.exec(select(Inbox)).one().payload == {"text": "こんにちは\\u0000"}


class _Recorder:
    """A channel that records what it is asked to send and says it was sent."""
    name = "line"

    def __init__(self):
        self.sent: list[int] = []

    def send(self, row):
        self.sent.append(row.id)
        return SendResult("sent")


def _lease_as_a_sender_that_dies(db, holder: int) -> list[int]:
    with session_scope(db) as session:
        return [r.id for r in outbox.lease_due(session, ("line",), datetime.now(UTC), 10, holder=holder)]


def test_a_starting_sender_takes_back_at_once_the_rows_of_a_dead_one_but_never_a_live_ones(db):
    queue(db, "A", "B")
    other = leases.new_holder()
    life = leases.hold_life(db, other)  # PostgreSQL: the other process is alive while it holds this
    held = _lease_as_a_sender_that_dies(db, other)
    channel = _Recorder()
    sender = OutboxSender(db, {"line": channel})
    if life is not None:
        assert sender.take_back() == 0 and lease(db) == []  # alive: its leases stand
        leases.end_life(life)  # the other process dies
        sender._taking_back = True
    sender.drain()  # takes back first, then sends
    assert channel.sent == held
    with Session(db) as session:
        rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [r.status for r in rows] == ["sent", "sent"] and all(r.lease_holder is None for r in rows)
    assert all(r.last_error.startswith(outbox.OUTCOME_UNKNOWN) for r in rows)  # the next attempt is told


def test_a_one_off_sender_records_every_send_before_it_returns(db):
    queue(db, "A", "A", "B")
    channel = _Recorder()
    OutboxSender(db, {"line": channel}, take_back=False).drain()
    with Session(db) as session:
        statuses = [r.status for r in session.exec(select(Outbox).order_by(Outbox.id))]
    assert statuses == ["sent"] * 3 and len(channel.sent) == 3  # the second to A too: nothing left leased
