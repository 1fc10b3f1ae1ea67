"""What a web chat session reads from the outbox: messages waiting for it (a staff reply, a status
notice), acknowledged by id once shown, and its recent turns, so a reloaded page can show them again.

Nobody sends web rows: a waiting message stays `pending` until the browser acknowledges it, so
reading them (GET) changes nothing and a message lost on the way is offered again.
"""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlmodel import Session

from store.db import table_of
from store.models import Outbox, utcnow
from store.outbox import PENDING, SENT

TURN = "turn"  # a turn already shown in the browser, kept for the page's history
_TABLE = table_of(Outbox)


def waiting_for(session: Session, channel: str, target: str, limit: int = 50) -> list[Row]:
    """Pending messages for one session, oldest first: (id, payload)."""
    return list(session.execute(
        select(_TABLE.c.id, _TABLE.c.payload)
        .where(_TABLE.c.channel == channel, _TABLE.c.target == target, _TABLE.c.status == PENDING)
        .order_by(_TABLE.c.id).limit(limit)).all())


def acknowledge(session: Session, channel: str, target: str, row_ids: list[int]) -> int:
    """Mark the session's own pending rows among `row_ids` as shown; how many were."""
    if not row_ids:
        return 0
    return session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.channel == channel, _TABLE.c.target == target, _TABLE.c.status == PENDING,
               _TABLE.c.id.in_(row_ids))
        .values(status=SENT, sent_at=utcnow(), attempts=_TABLE.c.attempts + 1)).rowcount


def record_turn(session: Session, channel: str, target: str, payload: dict) -> None:
    """A turn the browser has already shown (what the person sent and the answers)."""
    now = utcnow()
    session.execute(insert(_TABLE).values(channel=channel, target=target, kind=TURN, payload=payload, status=SENT,
                                          attempts=1, next_attempt_at=now, created_at=now, sent_at=now))


def recent_for(session: Session, channel: str, target: str, limit: int) -> list[Row]:
    """The session's last `limit` shown rows (turns and acknowledged messages), oldest first: (id, kind, payload)."""
    rows = session.execute(
        select(_TABLE.c.id, _TABLE.c.kind, _TABLE.c.payload)
        .where(_TABLE.c.channel == channel, _TABLE.c.target == target, _TABLE.c.status == SENT)
        .order_by(_TABLE.c.id.desc()).limit(limit)).all()
    return list(rows[::-1])
