"""The outbox: messages to send, written in the same transaction as the turn that caused them.

A sender leases due rows for a short time, sends outside any transaction, then marks them sent,
to retry (with backoff) or failed. A lease that runs out (the sender died) makes the row due again.
Messages to one target go out in the order they were queued: a row is due only when no older
row to the same target is still pending, so no two senders ever hold rows of one target.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Row
from sqlmodel import Session

from store.models import Outbox, utcnow
from store.queues import CANDIDATES_PER_PLACE, WINDOW, heads, window_full

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE = timedelta(seconds=60)  # longer than a leased row can take to send (10 s timeout)
_TABLE = Outbox.__table__


def row(*, channel: str, target: str, kind: str, payload: dict, reply_token: str | None = None,
        dedupe_key: str | None = None) -> dict:
    """The values of one message to queue (see `enqueue_many`)."""
    now = utcnow()
    return dict(channel=channel, target=target, kind=kind, payload=payload, reply_token=reply_token,
                dedupe_key=dedupe_key, status=PENDING, attempts=0, next_attempt_at=now, created_at=now)


def enqueue_many(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(_TABLE), rows)


def enqueue(session: Session, **values) -> None:
    enqueue_many(session, [row(**values)])


def lease_due(session: Session, channels: tuple[str, ...], now: datetime, limit: int) -> list[Row]:
    """Lease the oldest due rows that are first in their target's queue, in one statement.

    The candidates are the heads among the oldest pending rows (see `queues.heads`), several
    times as many as wanted: on PostgreSQL, rows another sender is leasing are skipped and the
    next ones taken, and a row leased meanwhile no longer qualifies.
    """
    rows = _lease(session, channels, now, limit, WINDOW)
    if len(rows) < limit and window_full(session, _TABLE, _TABLE.c.status == PENDING, _TABLE.c.channel.in_(channels)):
        rows = sorted(rows + _lease(session, channels, now, limit - len(rows), None), key=lambda r: r.id)
    return rows


def _lease(session: Session, channels: tuple[str, ...], now: datetime, limit: int, window: int | None) -> list[Row]:
    pending = _TABLE.c
    first = heads(_TABLE, (pending.channel, pending.target), pending.status == PENDING, pending.channel.in_(channels),
                  also=(pending.next_attempt_at, pending.lease_until), window=window)
    candidates = (select(first.c.id).where(first.c.next_attempt_at <= now)
                  .where(or_(first.c.lease_until.is_(None), first.c.lease_until < now))
                  .order_by(first.c.id).limit(limit * CANDIDATES_PER_PLACE))
    chosen = (select(pending.id).where(pending.id.in_(candidates.scalar_subquery()), pending.status == PENDING)
              .where(or_(pending.lease_until.is_(None), pending.lease_until < now))
              .order_by(pending.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (update(_TABLE).where(_TABLE.c.id.in_(chosen.correlate(None).scalar_subquery()))
                 .values(lease_until=now + LEASE).returning(*_TABLE.c))
    return sorted(session.execute(statement).all(), key=lambda r: r.id)


def _finish(session: Session, row_ids: list[int], **values) -> None:
    if row_ids:
        session.execute(update(_TABLE).where(_TABLE.c.id.in_(row_ids))
                        .values(attempts=_TABLE.c.attempts + 1, lease_until=None, **values))


def mark_sent(session: Session, row_ids: list[int]) -> None:
    _finish(session, row_ids, status=SENT, sent_at=utcnow())


def mark_retry(session: Session, row_id: int, delay: timedelta, error: str, drop_reply_token: bool = False) -> None:
    extra = {"reply_token": None} if drop_reply_token else {}
    _finish(session, [row_id], next_attempt_at=utcnow() + delay, last_error=error[:500], **extra)


def mark_failed(session: Session, row_id: int, error: str) -> None:
    _finish(session, [row_id], status=FAILED, last_error=error[:500])
