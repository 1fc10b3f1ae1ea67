"""Removing personal data: one person on request, and closed cases past the retention period.
Case rows, their kinds, statuses and dates stay, so the indicator counts survive.

An erased person is named only by a keyed hash (HMAC-SHA256 with the audit key): in the audit
record, and in a tombstone that makes the worker drop their old events if the platform replays
them. The audit key is KYODO_AUDIT_KEY, or, when that is unset, a random key generated once and
kept in the database (DeskSecret)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, SQLModel, col, select

from store import groups, outbox
from store.cases import by_reference, record
from store.models import (
    Case,
    CaseEvent,
    Contact,
    Conversation,
    DeskSecret,
    Erasure,
    Inbox,
    Introduction,
    Outbox,
    PartnerGroup,
    PrivacyAudit,
    utcnow,
)

ERASED = "erased"
KEPT_ANSWERS = ("applicant_type",)  # a category, not a person: kept for statistics
ERASED_NOTE = "個人情報を削除しました（受付番号・種別・区分・経過の日時は統計のため残ります）"
SLACK = "slack"
ERASE_THREAD = "erase_thread"  # the Slack outbox kind: the desk's thread messages deleted, the card redrawn
_AUDIT_KEY = "audit_key"  # the DeskSecret holding the generated key


class AuditKey:
    """The key of the hashes that name erased people, resolved once per process."""

    def __init__(self, configured: str = ""):
        self._key = configured.encode() if configured else None

    def key(self, session: Session) -> bytes:
        if self._key is None:
            self._key = _kept_key(session)
        return self._key

    def subject(self, session: Session, channel: str, user_key: str) -> str:
        """A person (channel and conversation key, e.g. line / user:U…) as a keyed hash."""
        return hmac.new(self.key(session), f"{channel}:{user_key}".encode(), hashlib.sha256).hexdigest()


def _kept_key(session: Session) -> bytes:
    """The generated key; the first process to need it creates it (a concurrent one keeps the first)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(DeskSecret).values(name=_AUDIT_KEY, value=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.exec(select(DeskSecret.value).where(DeskSecret.name == _AUDIT_KEY)).one().encode()


def _delete(session: Session, model: type[SQLModel], *conditions: Any) -> int:
    """Delete the rows of `model` that match; how many there were."""
    return cast(CursorResult[Any], session.execute(delete(model).where(*conditions))).rowcount


@dataclass(frozen=True)
class Person:
    """A citizen as the desk knows them: a channel and their conversation key (user:U… on LINE,
    the session id on the web chat)."""
    channel: str
    user_key: str

    @property
    def outbox_targets(self) -> tuple[str, ...]:
        """The outbox addresses their messages: LINE pushes go to the bare user id."""
        bare = self.user_key.removeprefix("user:") if self.channel == "line" else self.user_key
        return (self.user_key, bare)


def line_person(user_id: str) -> Person:
    return Person("line", f"user:{user_id}")


def person_by_reference(session: Session, reference: str) -> Person | None:
    """The citizen of a case (on whichever channel); None for an unknown or already erased case."""
    case = by_reference(session, reference.strip().upper())
    if case is None or case.user_id in ("", ERASED):
        return None
    return Person(case.channel, case.user_id)


def _anonymize(session: Session, case: Case, now: datetime) -> None:
    case.answers = {k: v for k, v in case.answers.items() if k in KEPT_ANSWERS}
    case.user_id, case.relay_open, case.updated_at, case.check_code_hash = ERASED, False, now, None
    session.add(case)
    session.execute(update(CaseEvent).where(col(CaseEvent.case_id) == case.id).values(text=""))
    session.execute(update(Introduction).where(col(Introduction.case_id) == case.id).values(note=""))


def cases_of(session: Session, person: Person) -> list[Case]:
    return list(session.exec(select(Case).where(col(Case.channel) == person.channel, col(Case.user_id) == person.user_key)))


def erase_person(session: Session, person: Person, actor: str, now: datetime, audit_key: AuditKey) -> dict[str, int]:
    """Everything kyodo-desk holds about one person, gone (their cases kept as anonymous counts); a
    tombstone so that their old events, replayed, are dropped; an audit row says who did it and when."""
    their_cases = cases_of(session, person)
    for case in their_cases:
        _anonymize(session, case, now)
        record(session, case, actor=actor, kind="erased", text=ERASED_NOTE, now=now)
    counts = {"cases": len(their_cases), **_erase_staff_side(session, their_cases),
              **_erase_conversation(session, person),
              "group applicants": groups.forget_applicant(session, person.channel, person.user_key)}
    subject = audit_key.subject(session, person.channel, person.user_key)
    session.merge(Erasure(subject=subject, erased_at=now))
    session.add(PrivacyAudit(at=now, actor=actor, action="erase", subject=subject,
                             detail=", ".join(f"{k}={v}" for k, v in counts.items())))
    return counts


def _their_rows(person: Person) -> dict[str, tuple[type[SQLModel], tuple[Any, ...]]]:
    """Their state, contact flag, stored events and messages (queued, sent, and the web chat's history)."""
    return {
        "conversations": (Conversation, (col(Conversation.channel) == person.channel, col(Conversation.user_id) == person.user_key)),
        "contacts": (Contact, (col(Contact.channel) == person.channel, col(Contact.user_id) == person.user_key)),
        "events": (Inbox, (col(Inbox.channel) == person.channel, col(Inbox.user_key) == person.user_key)),
        "messages": (Outbox, (col(Outbox.channel) == person.channel, col(Outbox.target).in_(person.outbox_targets))),
    }


def _their_groups(person: Person) -> tuple[type[SQLModel], tuple[Any, ...]]:
    """The directory's groups naming them as applicant (cleared by groups.forget_applicant)."""
    return PartnerGroup, (col(PartnerGroup.applicant_channel) == person.channel,
                          col(PartnerGroup.applicant_user) == person.user_key)


def holds_anything(session: Session, person: Person) -> bool:
    """Whether the desk keeps anything of this person (a mistyped id holds nothing)."""
    return bool(cases_of(session, person)) or any(
        session.exec(select(model).where(*conditions).limit(1)).first() is not None
        for model, conditions in [*_their_rows(person).values(), _their_groups(person)])


def _erase_conversation(session: Session, person: Person) -> dict[str, int]:
    return {name: _delete(session, model, *conditions) for name, (model, conditions) in _their_rows(person).items()}


def _erase_staff_side(session: Session, their_cases: list[Case]) -> dict[str, int]:
    """The cases' Slack posts (queued or sent: they quote the person) and stored staff actions go;
    a Slack erasure is queued per case that has (or is about to have) a card: the desk's thread
    messages deleted, the card redrawn without the person. It waits for sends in flight."""
    if not their_cases:
        return {"staff_posts": 0, "staff_actions": 0}
    targets = [str(case.id) for case in their_cases]
    in_flight = {target: until for target, until in session.exec(
        select(Outbox.target, Outbox.lease_until).where(col(Outbox.channel) == SLACK, col(Outbox.target).in_(targets),
                                                        col(Outbox.status) == outbox.PENDING,
                                                        col(Outbox.lease_until).is_not(None)))}
    posts = _delete(session, Outbox, col(Outbox.channel) == SLACK, col(Outbox.target).in_(targets))
    queues = [f"case:{case.id}" for case in their_cases] + [f"thread:{c.slack_ts}" for c in their_cases if c.slack_ts]
    actions = _delete(session, Inbox, col(Inbox.channel) == SLACK, col(Inbox.user_key).in_(queues))
    for case in their_cases:
        if case.slack_ts or str(case.id) in in_flight:
            erasure = outbox.row(channel=SLACK, target=str(case.id), kind=ERASE_THREAD, payload={"case_id": case.id})
            erasure["next_attempt_at"] = max(erasure["next_attempt_at"], in_flight.get(str(case.id)) or utcnow())
            outbox.enqueue_many(session, [erasure])
    return {"staff_posts": posts, "staff_actions": actions}


def erased_at(session: Session, subjects: Iterable[str]) -> dict[str, datetime]:
    """When each of these people (keyed hashes) was erased; people never erased are absent."""
    wanted = set(subjects)
    if not wanted:
        return {}
    return {subject: at for subject, at in session.exec(
        select(Erasure.subject, Erasure.erased_at).where(col(Erasure.subject).in_(wanted)))}


def forget_events(session: Session, event_ids: list[int]) -> None:
    """Inbox rows dropped unread (an erased person's old events, replayed by the platform)."""
    if event_ids:
        _delete(session, Inbox, col(Inbox.id).in_(event_ids))


def apply_retention(session: Session, now: datetime, years: int, closed: frozenset[str],
                    transient_days: int = 30) -> dict[str, int]:
    """Anonymise closed cases untouched for `years` (their Slack threads cleared as on an erasure);
    drop delivered messages, handled events and idle conversations older than `transient_days`
    (they repeat what citizens typed)."""
    cutoff = now - timedelta(days=365 * years)
    old = list(session.exec(select(Case).where(col(Case.status).in_(closed), col(Case.updated_at) < cutoff,
                                               col(Case.user_id) != ERASED)))
    for case in old:
        _anonymize(session, case, now)
    transient = now - timedelta(days=transient_days)
    counts = {
        "cases": len(old),
        **_erase_staff_side(session, old),
        "messages": _delete(session, Outbox, col(Outbox.created_at) < transient,
                            (col(Outbox.status) == "sent")
                            | ((col(Outbox.channel) == "web") & (col(Outbox.status) == "pending"))),  # a page never polled again
        "events": _delete(session, Inbox, col(Inbox.status) != "pending", col(Inbox.received_at) < transient),
        "conversations": _delete(session, Conversation, col(Conversation.updated_at) < transient),
    }
    if any(counts.values()):
        session.add(PrivacyAudit(at=now, actor="scheduler", action="retention",
                                 detail=", ".join(f"{k}={v}" for k, v in counts.items())))
    return counts
