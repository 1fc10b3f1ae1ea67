"""The inbox: every platform event is stored (once, by its event id) before the webhook is answered,
then processed in order per person by the worker."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row

from sqlmodel import Session

from store.models import Inbox, utcnow
from store.queues import CANDIDATES_PER_PLACE, heads

PENDING, DONE, IGNORED, FAILED = "pending", "done", "ignored", "failed"
MAX_ATTEMPTS = 5
_TABLE = Inbox.__table__


def add_many(session: Session, channel: str, events: list[tuple[str, str, dict]], status: str = PENDING) -> set[str]:
    """Store (event id, user key, payload) events in this order; returns the ids that were new
    (the rest are redeliveries). An event handled on the spot is stored as done, only to
    recognise its redelivery."""
    if not events:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(_TABLE).on_conflict_do_nothing(index_elements=["event_id"]).returning(_TABLE.c.event_id)
    return set(session.execute(statement, [
        dict(event_id=event_id, channel=channel, user_key=user_key, payload=payload, status=status, attempts=0,
             received_at=now, processed_at=None if status == PENDING else now)
        for event_id, user_key, payload in events
    ]).scalars())


def add(session: Session, *, channel: str, event_id: str, user_key: str, payload: dict, status: str = PENDING) -> bool:
    return event_id in add_many(session, channel, [(event_id, user_key, payload)], status)


def claim_batch(session: Session, limit: int) -> list[Row]:
    """The oldest pending events that are each their person's oldest pending event (so at most
    one per person), locked for this transaction.

    The candidates come from one pass over the pending events (linear whatever the planner
    knows), several times as many as wanted: on PostgreSQL, rows another worker holds are
    skipped and the next ones taken. An event waits while an older one of the same person is
    still pending, so each person's events run in order.
    """
    pending = _TABLE.c
    first = heads(_TABLE, (pending.user_key,), pending.status == PENDING)
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
