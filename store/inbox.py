"""The inbox: every platform event is stored (once, by its event id) before the webhook is answered,
then processed in order per person by the worker."""
from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from store.models import Inbox, utcnow

PENDING, DONE, IGNORED, FAILED = "pending", "done", "ignored", "failed"
_OLDER = aliased(Inbox)
MAX_ATTEMPTS = 5


def add(session: Session, *, channel: str, event_id: str, user_key: str, payload: dict, status: str = PENDING) -> bool:
    """Store an event; False when it was already stored (a redelivery). An event handled on the
    spot is stored as done, only to recognise its redelivery."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Inbox).values(
        event_id=event_id, channel=channel, user_key=user_key, payload=payload, status=status, attempts=0,
        received_at=utcnow(), processed_at=None if status == PENDING else utcnow(),
    ).on_conflict_do_nothing(index_elements=["event_id"]).returning(Inbox.id)
    return session.execute(statement).scalar_one_or_none() is not None


def claim_batch(session: Session, limit: int) -> list[Inbox]:
    """The oldest pending events whose people have no older pending event (so at most one per
    person), locked for this transaction.

    On PostgreSQL, rows another worker holds are skipped; an event waits while an older one of
    the same person is still pending, so each person's events run in order.
    """
    older = _OLDER
    query = (
        select(Inbox)
        .where(Inbox.status == PENDING)
        .where(~exists().where(older.user_key == Inbox.user_key, older.status == PENDING, older.id < Inbox.id))
        .order_by(Inbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Inbox)
    return list(session.exec(query))


def finish(session: Session, row: Inbox, status: str = DONE, error: str | None = None) -> None:
    row.status, row.processed_at, row.last_error = status, utcnow(), error
    session.add(row)


def record_failure(session: Session, row: Inbox, error: str) -> None:
    """A turn that raised: counted, and given up (visible as failed) after MAX_ATTEMPTS."""
    row.attempts += 1
    row.last_error = error[:500]
    if row.attempts >= MAX_ATTEMPTS:
        row.status, row.processed_at = FAILED, utcnow()
    session.add(row)
