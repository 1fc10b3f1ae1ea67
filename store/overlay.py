"""The staff-made knowledge overlay: answers written by staff, questions linked to entries, and
topics marked 対象外 (a route: its topic in `title`, its words in `question`, separated by 、).

Rows are never deleted: a retired row keeps its text, and every change (add, retire) is logged
with who, when and the row as it was before. The log's newest id is the overlay's version: every
process compares it with the version it answers from (and on PostgreSQL a NOTIFY says it moved).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, func
from sqlmodel import Field, Session, SQLModel, col, select

from store import signals
from store.models import UTCDateTime, utcnow

ANSWER, LINK, ROUTE = "answer", "link", "route"


class KnowledgeOverlay(SQLModel, table=True):
    __tablename__ = "knowledge_overlay"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # answer | link | route
    entry_id: str = Field(default="", max_length=64)  # answer: its own id (staff-N); link: the entry linked to
    question: str = Field(default="", max_length=500)
    title: str = Field(default="", max_length=80)
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))  # as long as staff need
    source: str = Field(default="", max_length=200)
    cites: str = Field(default="", max_length=64)
    as_of: str = Field(default="", max_length=10)
    review_by: str = Field(default="", max_length=10)
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    retired_by: str | None = Field(default=None, max_length=128)
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    def snapshot(self) -> dict:
        return {name: getattr(self, name) for name in ("kind", "entry_id", "question", "title", "answer", "source",
                                                       "cites", "as_of", "review_by", "retired_by")}


class KnowledgeOverlayChange(SQLModel, table=True):
    __tablename__ = "knowledge_overlay_change"
    id: int | None = Field(default=None, primary_key=True)  # the overlay's version after this change
    overlay_id: int = Field(foreign_key="knowledge_overlay.id")
    action: str = Field(max_length=8)  # add | retire
    by: str = Field(max_length=128)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    previous: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


def add(session: Session, row: KnowledgeOverlay, now: datetime) -> KnowledgeOverlay:
    """Stores a new row (an answer gets the id staff-N); logs and announces the change."""
    row.created_at = now
    session.add(row)
    session.flush()
    if row.kind == ANSWER:
        row.entry_id = f"staff-{row.id}"
    _changed(session, row, "add", row.created_by, now, None)
    return row


def retire(session: Session, overlay_id: int, by: str, now: datetime) -> KnowledgeOverlay | None:
    """Takes a row out of the answers (kept, marked retired); None when there is no such live row."""
    row = session.get(KnowledgeOverlay, overlay_id)
    if row is None or row.retired_at is not None:
        return None
    previous = row.snapshot()
    row.retired_by, row.retired_at = by, now
    session.add(row)
    _changed(session, row, "retire", by, now, previous)
    return row


def _changed(session: Session, row: KnowledgeOverlay, action: str, by: str, now: datetime,
             previous: dict | None) -> None:
    assert row.id is not None
    session.add(KnowledgeOverlayChange(overlay_id=row.id, action=action, by=by, at=now, previous=previous))
    session.flush()
    signals.notify(session, signals.KNOWLEDGE)


def rows(session: Session, include_retired: bool = False) -> list[KnowledgeOverlay]:
    query = select(KnowledgeOverlay).order_by(col(KnowledgeOverlay.id))
    if not include_retired:
        query = query.where(col(KnowledgeOverlay.retired_at).is_(None))
    return list(session.exec(query))


def version(session: Session) -> int:
    """The overlay's version: the newest change's id (0: never changed)."""
    return int(session.exec(select(func.max(KnowledgeOverlayChange.id))).one() or 0)
