"""Questions the desk could not answer well, kept for staff: declined questions, answers marked
違う, answers given with low confidence (and 役に立った, for the record). Phone numbers and e-mail
addresses are masked before anything is stored, no user id is kept, and rows go after 90 days."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, delete
from sqlmodel import Field, Session, SQLModel, col, select

from store.case_codes import looks_like_code
from store.db import rows_affected
from store.models import UTCDateTime, utcnow

KEPT_DAYS = 90
MAX_QUESTION = 500
UNANSWERED_KINDS = ("declined", "partial", "wrong", "low_confidence")
KINDS = (*UNANSWERED_KINDS, "helpful")
_ALNUM = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_EMAIL = re.compile(rf"[{_ALNUM}._%+\-．＿]+[@＠][{_ALNUM}\-]+(?:[.．][{_ALNUM}\-]+)+")
_PHONE_LIKE = re.compile(r"\+?\d[\d\s()\-‐‑–—−ー－]{7,}\d")
_DIGITS_IN_A_PHONE = 10
# A word that may be a check or registration code (a key to someone's case): never kept
_WORD = re.compile(rf"(?<![{_ALNUM}\-－])[{_ALNUM}]+(?:[\-－][{_ALNUM}]+)?(?![{_ALNUM}\-－])")


class QuestionNote(SQLModel, table=True):
    __tablename__ = "question_note"
    __table_args__ = (Index("ix_question_note_created_at", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # declined | partial | wrong | low_confidence | helpful
    question: str = Field(default="", max_length=MAX_QUESTION)  # masked
    entry_id: str = Field(default="", max_length=64)  # the entry that was offered ('' for a decline)
    confidence: float = 0.0
    channel: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def mask_personal(text: str) -> str:
    """The text with e-mail addresses, phone numbers (10 digits or more) and codes replaced by marks."""
    text = _WORD.sub(lambda m: "［コード］" if looks_like_code(m.group()) else m.group(), _EMAIL.sub("［メール］", text or ""))
    return _PHONE_LIKE.sub(
        lambda m: "［電話番号］" if sum(c.isdigit() for c in m.group()) >= _DIGITS_IN_A_PHONE else m.group(), text)


_PHONE = re.compile(r"(?<![\d\-－ー])[0０]\d{1,4}[\-－ー]?\d{1,4}[\-－ー]?\d{3,4}(?![\d\-－ー])")


def names_contact(text: str, known: str = "") -> bool:
    """Whether a text holds an e-mail address or a phone number (a 0 and 10 or 11 digits; not `known`,
    the desk's own number, nor a date or a range of them)."""
    numbers = (m.group() for m in _PHONE.finditer(text) if m.group() != known)
    return bool(_EMAIL.search(text)) or any(10 <= sum(c.isdigit() for c in n) <= 11 for n in numbers)


def add(session: Session, kind: str, question: str, entry_id: str, confidence: float, channel: str,
        now: datetime) -> QuestionNote:
    if kind not in KINDS:
        raise ValueError(f"unknown note kind {kind!r}")
    note = QuestionNote(kind=kind, question=mask_personal(question)[:MAX_QUESTION], entry_id=entry_id[:64],
                        confidence=round(confidence, 4), channel=channel[:16], created_at=now)
    session.add(note)
    return note


def unanswered(session: Session, since: datetime | None = None) -> list[QuestionNote]:
    """Declined, 違う and low-confidence notes, newest first."""
    query = select(QuestionNote).where(col(QuestionNote.kind).in_(UNANSWERED_KINDS))
    if since is not None:
        query = query.where(col(QuestionNote.created_at) >= since)
    return list(session.exec(query.order_by(col(QuestionNote.created_at).desc(), col(QuestionNote.id).desc())))


def prune(session: Session, now: datetime, days: int = KEPT_DAYS) -> int:
    """Removes notes older than `days`; the number removed."""
    return rows_affected(session.execute(delete(QuestionNote)
                                         .where(col(QuestionNote.created_at) < now - timedelta(days=days))))
