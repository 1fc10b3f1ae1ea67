"""Conversation state per (channel, user), saved with optimistic concurrency."""
from __future__ import annotations

from sqlalchemy import bindparam, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from store.db import table_of
from store.models import Contact, Conversation, utcnow

Key = tuple[str, str]  # (channel, user id)
_TABLE = table_of(Conversation)


class Conflict(Exception):
    """Another turn for the same person committed first; redo this turn on the new state."""


def load_many(session: Session, keys: list[Key], lock: bool = False) -> dict[Key, tuple[dict, int]]:
    """State and version per person (absent: never spoken). `lock` holds the rows on PostgreSQL
    until the transaction ends, so no other turn can change them in between."""
    if not keys:
        return {}
    query = select(_TABLE.c.channel, _TABLE.c.user_id, _TABLE.c.state, _TABLE.c.version).where(
        tuple_(_TABLE.c.channel, _TABLE.c.user_id).in_(keys))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {(r.channel, r.user_id): (dict(r.state), r.version) for r in session.execute(query)}


def save_many(session: Session, saves: list[tuple[Key, dict, int]]) -> None:
    """Write (key, new state, version it was read at) for several people; Conflict when any of
    them changed since it was read."""
    now = utcnow()
    new = [dict(channel=k[0], user_id=k[1], state=state, version=1, updated_at=now) for k, state, v in saves if v == 0]
    seen = [dict(k_channel=k[0], k_user=k[1], k_version=v, new_state=state, new_version=v + 1)
            for k, state, v in saves if v != 0]
    if new:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        created = session.execute(insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.user_id), new).all()
        if len(created) != len(new):
            raise Conflict
    if seen:
        statement = (update(_TABLE)
                     .where(_TABLE.c.channel == bindparam("k_channel"), _TABLE.c.user_id == bindparam("k_user"),
                            _TABLE.c.version == bindparam("k_version"))
                     .values(state=bindparam("new_state"), version=bindparam("new_version"), updated_at=now))
        if session.connection().execute(statement, seen).rowcount != len(seen):
            raise Conflict


def save(session: Session, channel: str, user_id: str, state: dict, version: int) -> None:
    save_many(session, [((channel, user_id), state, version)])


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
