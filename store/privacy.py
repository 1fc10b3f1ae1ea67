"""Removing personal data: one person on request, and closed cases past the retention period.
Case rows, their kinds, statuses and dates stay, so the indicator counts survive."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from store import outbox
from store.models import Case, CaseEvent, Contact, Conversation, Inbox, Outbox, PrivacyAudit

ERASED = "erased"
KEPT_ANSWERS = ("applicant_type",)  # a category, not a person: kept for statistics


def subject_of(channel: str, user_id: str) -> str:
    return hashlib.sha256(f"kyodo-desk:{channel}:{user_id}".encode()).hexdigest()[:16]


def _anonymize(session: Session, case: Case, now: datetime) -> None:
    case.answers = {k: v for k, v in case.answers.items() if k in KEPT_ANSWERS}
    case.user_id, case.relay_open, case.updated_at = ERASED, False, now
    session.add(case)
    session.execute(update(CaseEvent).where(CaseEvent.case_id == case.id).values(text=""))


def erase_person(session: Session, channel: str, user_id: str, actor: str, now: datetime) -> dict[str, int]:
    """Everything kyodo-desk holds about one person, gone; an audit row says who did it and when."""
    user_key = f"user:{user_id}" if channel == "line" else user_id
    their_cases = list(session.exec(select(Case).where(Case.channel == channel, Case.user_id == user_key)))
    for case in their_cases:
        _anonymize(session, case, now)
        if case.slack_ts:  # the staff card is redrawn without the person
            outbox.enqueue(session, channel="slack", target=str(case.id), kind="card", payload={"case_id": case.id})
    counts = {
        "cases": len(their_cases),
        "conversations": session.execute(delete(Conversation).where(Conversation.channel == channel, Conversation.user_id == user_key)).rowcount,
        "contacts": session.execute(delete(Contact).where(Contact.channel == channel, Contact.user_id == user_key)).rowcount,
        "events": session.execute(delete(Inbox).where(Inbox.channel == channel, Inbox.user_key == user_key)).rowcount,
        "messages": session.execute(delete(Outbox).where(Outbox.channel == channel, Outbox.target.in_((user_id, user_key)))).rowcount,
    }
    session.add(PrivacyAudit(at=now, actor=actor, action="erase", subject=subject_of(channel, user_id),
                             detail=", ".join(f"{k}={v}" for k, v in counts.items())))
    return counts


def apply_retention(session: Session, now: datetime, years: int, closed: frozenset[str],
                    transient_days: int = 30) -> dict[str, int]:
    """Anonymise closed cases untouched for `years`; drop delivered messages, handled events and idle
    conversations older than `transient_days` (they repeat what citizens typed)."""
    cutoff = now - timedelta(days=365 * years)
    old = list(session.exec(select(Case).where(Case.status.in_(closed), Case.updated_at < cutoff, Case.user_id != ERASED)))
    for case in old:
        _anonymize(session, case, now)
    transient = now - timedelta(days=transient_days)
    counts = {
        "cases": len(old),
        "messages": session.execute(delete(Outbox).where(
            (Outbox.status == "sent") | ((Outbox.channel == "web") & (Outbox.status == "pending")),  # a page never polled again
            Outbox.created_at < transient)).rowcount,
        "events": session.execute(delete(Inbox).where(Inbox.status != "pending", Inbox.received_at < transient)).rowcount,
        "conversations": session.execute(delete(Conversation).where(Conversation.updated_at < transient)).rowcount,
    }
    if any(counts.values()):
        session.add(PrivacyAudit(at=now, actor="scheduler", action="retention",
                                 detail=", ".join(f"{k}={v}" for k, v in counts.items())))
    return counts
