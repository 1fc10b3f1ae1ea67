"""The outbox: messages to send, written in the same transaction as the turn that caused them.

A sender leases due rows for a short time, sends outside any transaction, then marks them sent,
to retry (with backoff) or failed. A lease that runs out (the sender died) makes the row due again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

from store.models import Outbox, utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE = timedelta(seconds=60)  # longer than a leased batch can take to send (5 × 10 s timeout)


def enqueue(session: Session, *, channel: str, target: str, kind: str, payload: dict,
            reply_token: str | None = None, dedupe_key: str | None = None) -> Outbox:
    row = Outbox(channel=channel, target=target, kind=kind, payload=payload, reply_token=reply_token, dedupe_key=dedupe_key)
    session.add(row)
    return row


def lease_due(session: Session, channels: tuple[str, ...], now: datetime, limit: int = 20) -> list[Outbox]:
    query = (
        select(Outbox)
        .where(Outbox.status == PENDING, Outbox.channel.in_(channels), Outbox.next_attempt_at <= now)
        .where(or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
        .order_by(Outbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    for row in rows:
        row.lease_until = now + LEASE
        session.add(row)
    return rows


def mark_sent(session: Session, row_id: int) -> None:
    row = session.get(Outbox, row_id)
    row.status, row.sent_at, row.lease_until = SENT, utcnow(), None
    row.attempts += 1
    session.add(row)


def mark_retry(session: Session, row_id: int, delay: timedelta, error: str) -> None:
    row = session.get(Outbox, row_id)
    row.attempts += 1
    row.next_attempt_at, row.lease_until, row.last_error = utcnow() + delay, None, error[:500]
    session.add(row)


def mark_failed(session: Session, row_id: int, error: str) -> None:
    row = session.get(Outbox, row_id)
    row.attempts += 1
    row.status, row.lease_until, row.last_error = FAILED, None, error[:500]
    session.add(row)


def drop_reply_token(session: Session, row_id: int) -> None:
    row = session.get(Outbox, row_id)
    row.reply_token = None
    session.add(row)


def pending_for(session: Session, channel: str, target: str) -> list[Outbox]:
    """Messages waiting for one web-chat session (staff replies, notices), oldest first."""
    return list(session.exec(
        select(Outbox).where(Outbox.channel == channel, Outbox.target == target, Outbox.status == PENDING).order_by(Outbox.id)
    ))
