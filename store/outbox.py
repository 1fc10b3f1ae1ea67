"""The outbox: messages to send, written in the same transaction as the turn that caused them.

A sender leases due rows for a few seconds, renews the lease while the send is in flight, sends
outside any transaction, then marks each row sent, to retry (with backoff) or failed as soon as
its send returns. A lease names its holder (a number per sender process): a process that starts
takes back the rows of a holder known to be dead (`take_back`) at once; otherwise a lease that
runs out (the holder hung) makes the row due again.
Messages to one target go out in the order they were queued: a row is due only when no older
row to the same target is still pending, so no two senders ever hold rows of one target.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import false, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlmodel import Session

from store.db import rows_affected, table_of
from store.models import Outbox, utcnow
from store.queues import CANDIDATES_PER_PLACE, WINDOW, heads, window_full

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE = timedelta(seconds=10)  # renewed every few seconds while the send is in flight
# A row taken back from a dead sender may have reached the platform: its next attempt says so
# (a LINE reply whose token is then refused was delivered; see handlers/line.py).
OUTCOME_UNKNOWN = "reply outcome unknown: "
_TABLE = table_of(Outbox)


class OutboxRow(Protocol):
    """What a sender reads of a leased row (`lease_due` hands out Core rows with the outbox's columns)."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> dict: ...
    @property
    def reply_token(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_error(self) -> str | None: ...


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


def lease_due(session: Session, channels: tuple[str, ...], now: datetime, limit: int, holder: int | None = None) -> list[Row]:
    """Lease the oldest due rows that are first in their target's queue, in one statement.

    The candidates are the heads among the oldest pending rows (see `queues.heads`), several
    times as many as wanted: on PostgreSQL, rows another sender is leasing are skipped and the
    next ones taken, and a row leased meanwhile no longer qualifies.
    """
    rows = _lease(session, channels, now, limit, WINDOW, holder)
    if len(rows) < limit and window_full(session, _TABLE, _TABLE.c.status == PENDING, _TABLE.c.channel.in_(channels)):
        rows = sorted(rows + _lease(session, channels, now, limit - len(rows), None, holder), key=lambda r: r.id)
    return rows


def _lease(session: Session, channels: tuple[str, ...], now: datetime, limit: int, window: int | None,
           holder: int | None) -> list[Row]:
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
                 .values(lease_until=now + LEASE, lease_holder=holder).returning(*_TABLE.c))
    return sorted(session.execute(statement).all(), key=lambda r: r.id)


def renew(session: Session, row_ids: list[int], holder: int | None, now: datetime) -> None:
    """Keep the lease on rows whose sends are still in flight."""
    if row_ids:
        session.execute(update(_TABLE).where(_TABLE.c.id.in_(row_ids), _TABLE.c.status == PENDING,
                                             _TABLE.c.lease_holder == holder).values(lease_until=now + LEASE))


def holders(session: Session, channels: tuple[str, ...], now: datetime) -> set[int | None]:
    """The holders of the leases still running on these channels' rows."""
    return set(session.execute(select(_TABLE.c.lease_holder).distinct().where(
        _TABLE.c.status == PENDING, _TABLE.c.channel.in_(channels), _TABLE.c.lease_until >= now)).scalars())


def take_back(session: Session, channels: tuple[str, ...], dead: set[int | None], now: datetime) -> int:
    """Make the rows leased by dead holders due at once; returns how many. Their sends were in
    flight when the holder died: the outcome is unknown, and the next attempt is told so."""
    if not dead:
        return 0
    holder = _TABLE.c.lease_holder
    held = or_(holder.in_([h for h in dead if h is not None]), holder.is_(None) if None in dead else false())
    taken = session.execute(update(_TABLE).where(_TABLE.c.status == PENDING, _TABLE.c.channel.in_(channels),
                                                 _TABLE.c.lease_until >= now, held)
                            .values(lease_until=None, lease_holder=None,
                                    last_error=OUTCOME_UNKNOWN + "in flight when its sender stopped"))
    return rows_affected(taken)


def _finish(session: Session, row_ids: list[int], **values) -> None:
    if row_ids:
        session.execute(update(_TABLE).where(_TABLE.c.id.in_(row_ids))
                        .values(attempts=_TABLE.c.attempts + 1, lease_until=None, lease_holder=None, **values))


def mark_sent(session: Session, row_ids: list[int]) -> None:
    _finish(session, row_ids, status=SENT, sent_at=utcnow())


def mark_retry(session: Session, row_id: int, delay: timedelta, error: str, drop_reply_token: bool = False) -> None:
    extra = {"reply_token": None} if drop_reply_token else {}
    _finish(session, [row_id], next_attempt_at=utcnow() + delay, last_error=error[:500], **extra)


def mark_failed(session: Session, row_id: int, error: str) -> None:
    _finish(session, [row_id], status=FAILED, last_error=error[:500])
