"""The outbox: messages to send, written in the same transaction as the turn that caused them."""
from __future__ import annotations

from sqlmodel import Session, select

from store.models import Outbox


def enqueue(session: Session, *, channel: str, target: str, kind: str, payload: dict,
            reply_token: str | None = None, dedupe_key: str | None = None) -> Outbox:
    row = Outbox(channel=channel, target=target, kind=kind, payload=payload, reply_token=reply_token, dedupe_key=dedupe_key)
    session.add(row)
    return row


def pending(session: Session, channel: str | None = None) -> list[Outbox]:
    query = select(Outbox).where(Outbox.status == "pending")
    if channel:
        query = query.where(Outbox.channel == channel)
    return list(session.exec(query.order_by(Outbox.id)))
