"""The inbox: every platform event is stored (once, by its event id) before the webhook is answered,
then processed in order per person by the worker."""
from __future__ import annotations

import json

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Session

from store import signals
from store.db import table_of
from store.models import Inbox, utcnow
from store.queues import CANDIDATES_PER_PLACE, WINDOW, heads, window_full

PENDING, DONE, IGNORED, FAILED = "pending", "done", "ignored", "failed"
MAX_ATTEMPTS = 5
_TABLE = table_of(Inbox)


def add_many(session: Session, channel: str, events: list[tuple[str, str, dict]], status: str = PENDING) -> set[str]:
    """Store (event id, user key, payload) events in this order; returns the ids that were new
    (the rest are redeliveries). An event handled on the spot is stored as done, only to
    recognise its redelivery."""
    if not events:
        return set()
    new = set(session.execute(*_insert(session.get_bind().dialect.name, channel, events, status)).scalars())
    if new and status == PENDING:
        signals.notify(session, signals.INBOX)
    return new


async def add_many_async(connection: AsyncConnection, channel: str, events: list[tuple[str, str, dict]],
                         under_pressure: bool = False) -> set[str]:
    """`add_many` of pending events on an async PostgreSQL connection in autocommit (the webhook's
    group commit): one statement, so one round trip, inserts, notifies (with `signals.PRESSURE`
    too when `under_pressure`) and commits. The events go as one JSON parameter, serialised in
    one call."""
    result = await connection.execute(_INSERT_AND_NOTIFY, dict(
        channel=channel, now=utcnow(), events=json.dumps([[*e] for e in events], ensure_ascii=False),
        pressure=signals.PRESSURE if under_pressure else ""))
    return {row.event_id for row in result}


# Rows are inserted in the order given (WITH ORDINALITY), so ids follow it; notifications of one
# transaction with the same payload are delivered once.
_INSERT_AND_NOTIFY = text(f"""
WITH new AS (
    INSERT INTO {_TABLE.name} (event_id, channel, user_key, payload, status, attempts, received_at)
    SELECT e->>0, :channel, e->>1, e->2, '{PENDING}', 0, :now
    FROM json_array_elements(CAST(:events AS json)) WITH ORDINALITY AS given(e, n)
    ORDER BY given.n
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id)
SELECT event_id, pg_notify('{signals.INBOX}', ''), CASE WHEN :pressure <> '' THEN pg_notify(:pressure, '') END
FROM new""")


def _insert(dialect: str, channel: str, events: list[tuple[str, str, dict]], status: str) -> tuple:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(_TABLE).on_conflict_do_nothing(index_elements=["event_id"]).returning(_TABLE.c.event_id)
    return statement, [dict(event_id=event_id, channel=channel, user_key=user_key, payload=payload, status=status,
                            attempts=0, received_at=now, processed_at=None if status == PENDING else now)
                       for event_id, user_key, payload in events]


def add(session: Session, *, channel: str, event_id: str, user_key: str, payload: dict, status: str = PENDING) -> bool:
    return event_id in add_many(session, channel, [(event_id, user_key, payload)], status)


def claim_batch(session: Session, limit: int) -> list[Row]:
    """The oldest pending events that are each their person's oldest pending event (so at most
    one per person), locked for this transaction.

    The candidates are the heads among the oldest pending events (see `queues.heads`), several
    times as many as wanted: on PostgreSQL, rows another worker holds are skipped and the next
    ones taken. An event waits while an older one of the same person is still pending, so each
    person's events run in order.
    """
    rows = _claim(session, limit, WINDOW)
    if len(rows) < limit and window_full(session, _TABLE, _TABLE.c.status == PENDING):
        rows = _claim(session, limit, None)
    return rows


def _claim(session: Session, limit: int, window: int | None) -> list[Row]:
    pending = _TABLE.c
    first = heads(_TABLE, (pending.user_key,), pending.status == PENDING, window=window)
    candidates = select(first.c.id).order_by(first.c.id).limit(limit * CANDIDATES_PER_PLACE)
    query = (select(*_TABLE.c).where(pending.id.in_(candidates.scalar_subquery()), pending.status == PENDING)
             .order_by(pending.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).all())


def finish_many(session: Session, ids: list[int], status: str = DONE) -> None:
    if ids:
        session.execute(update(_TABLE).where(_TABLE.c.id.in_(ids)).values(status=status, processed_at=utcnow()))


def record_failure(session: Session, row: Row, error: str) -> bool:
    """A turn that raised: counted, and given up (visible as failed) after MAX_ATTEMPTS. True when given up."""
    attempts = row.attempts + 1
    given_up = attempts >= MAX_ATTEMPTS
    session.execute(update(_TABLE).where(_TABLE.c.id == row.id).values(
        attempts=attempts, last_error=error[:500],
        **({"status": FAILED, "processed_at": utcnow()} if given_up else {})))
    return given_up
