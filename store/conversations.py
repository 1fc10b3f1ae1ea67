"""Conversation state per (channel, user), saved with optimistic concurrency."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store.models import Contact, Conversation, utcnow


class Conflict(Exception):
    """Another turn for the same person committed first; redo this turn on the new state."""


def load(session: Session, channel: str, user_id: str) -> tuple[dict, int]:
    row = session.get(Conversation, (channel, user_id))
    return (dict(row.state), row.version) if row else ({}, 0)


def save(session: Session, channel: str, user_id: str, state: dict, version: int) -> None:
    if version == 0:
        session.add(Conversation(channel=channel, user_id=user_id, state=state, version=1))
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict from exc
        return
    result = session.execute(
        update(Conversation)
        .where(Conversation.channel == channel, Conversation.user_id == user_id, Conversation.version == version)
        .values(state=state, version=version + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise Conflict


def set_contact_active(session: Session, channel: str, user_id: str, active: bool) -> None:
    contact = session.get(Contact, (channel, user_id))
    if contact is None:
        session.add(Contact(channel=channel, user_id=user_id, active=active))
    else:
        contact.active, contact.updated_at = active, utcnow()
        session.add(contact)


def is_contact_active(session: Session, channel: str, user_id: str) -> bool:
    contact = session.exec(select(Contact).where(Contact.channel == channel, Contact.user_id == user_id)).first()
    return contact is None or contact.active
