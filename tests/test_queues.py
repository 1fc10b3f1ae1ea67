"""The inbox and outbox queues on both databases: who is served first, that each person's
messages keep their order, that concurrent claimers never share a row, and that a batch of
turns isolates the one that fails."""
import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from bot.intake import InboxWriter
from bot.messages import Text
from bot.runtime import Desk, TurnRequest
from bot.settings import Settings
from store import inbox, outbox
from store.db import session_scope
from store.models import Conversation, Inbox, Outbox


def queue(db, *targets: str) -> list[int]:
    with session_scope(db) as session:
        outbox.enqueue_many(session, [outbox.row(channel="line", target=t, kind="push", payload={"n": i})
                                      for i, t in enumerate(targets)])
    with Session(db) as session:
        return [r.id for r in session.exec(select(Outbox).order_by(Outbox.id))]


def lease(db, limit: int = 10) -> list:
    with session_scope(db) as session:
        return outbox.lease_due(session, ("line",), datetime.now(timezone.utc), limit)


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
    writer.start()

    async def deliver():
        first = [writer.store([(f"r{r}-e{i}", f"user:U{r}", {"i": i}) for i in range(3)]) for r in range(20)]
        again = [writer.store([("r0-e0", "user:U0", {}), ("fresh", "user:U0", {})])]
        return await asyncio.gather(*first), await asyncio.gather(*again)

    try:
        stored, redelivered = asyncio.run(deliver())
    finally:
        writer.stop()
    assert stored == [3] * 20 and redelivered == [1]
    with Session(db) as session:
        assert len(session.exec(select(Inbox)).all()) == 61


def test_a_request_that_cannot_be_stored_fails_alone(db):
    writer = InboxWriter(db, "line", order=lambda e: e[0])
    writer.start()

    async def deliver():
        good = [writer.store([(f"ok{i}", "user:U1", {"i": i})]) for i in range(5)]
        bad = writer.store([("bad", "user:U2", {"not json": {1, 2}})])
        return await asyncio.gather(*good, bad, return_exceptions=True)

    try:
        outcomes = asyncio.run(deliver())
    finally:
        writer.stop()
    assert outcomes[:5] == [1] * 5 and isinstance(outcomes[5], Exception)
    with Session(db) as session:
        assert {r.event_id for r in session.exec(select(Inbox))} == {f"ok{i}" for i in range(5)}


def test_a_failing_turn_in_a_batch_writes_nothing_and_spares_the_others(db, kb):
    desk = Desk(db, kb, Settings())

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

    import store.models  # noqa: F401  (declares the tables)

    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if "apscheduler" not in str(d)] == []
