"""Cases: creation with a per-fiscal-year reference number, lookups, history."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from knowledge.calendar import fiscal_year_of
from store.case_status import RECEIVED
from store.conversations import Conflict
from store.models import Case, CaseEvent, ReferenceCounter


def next_reference(session: Session, prefix: str, year: int) -> str:
    bumped = session.execute(
        update(ReferenceCounter)
        .where(col(ReferenceCounter.prefix) == prefix, col(ReferenceCounter.fiscal_year) == year)
        .values(last=col(ReferenceCounter.last) + 1)
        .returning(col(ReferenceCounter.last))
    ).scalar_one_or_none()
    if bumped is None:
        session.add(ReferenceCounter(prefix=prefix, fiscal_year=year, last=1))
        try:
            session.flush()
        except IntegrityError as exc:  # another process created this year's counter first
            raise Conflict from exc
        bumped = 1
    return f"{prefix}-{year}-{bumped:04d}"


def create(session: Session, *, kind: str, prefix: str, answers: dict, channel: str, user_id: str,
           now: datetime, tz: ZoneInfo) -> Case:
    year = fiscal_year_of(now.astimezone(tz).date())
    case = Case(reference=next_reference(session, prefix, year), kind=kind, fiscal_year=year, channel=channel,
                user_id=user_id, answers=answers, status=RECEIVED, created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=id_of(case), at=now, actor=f"{channel}:citizen", kind="submitted", text="",
                          status=RECEIVED))
    return case


def id_of(case: Case) -> int:
    """The id of a stored case (a case has none only until its first flush)."""
    if case.id is None:
        raise ValueError("the case has not been stored yet")
    return case.id


def for_user(session: Session, channel: str, user_id: str) -> list[Case]:
    return list(session.exec(
        select(Case).where(col(Case.channel) == channel, col(Case.user_id) == user_id)
        .order_by(col(Case.created_at).desc())
    ))


def by_reference(session: Session, reference: str) -> Case | None:
    return session.exec(select(Case).where(col(Case.reference) == reference)).first()


def history(session: Session, case_id: int) -> list[CaseEvent]:
    return list(session.exec(select(CaseEvent).where(col(CaseEvent.case_id) == case_id).order_by(col(CaseEvent.id))))


def latest_reply(session: Session, case_id: int) -> CaseEvent | None:
    """The newest message staff sent the citizen on the case, if any."""
    return session.exec(select(CaseEvent).where(col(CaseEvent.case_id) == case_id, col(CaseEvent.kind) == "reply")
                        .order_by(col(CaseEvent.id).desc())).first()


def references_of(session: Session, case_ids: Iterable[int]) -> dict[int, str]:
    """Reference numbers by case id."""
    ids = list(set(case_ids))
    if not ids:
        return {}
    found = dict(session.exec(select(col(Case.id), col(Case.reference)).where(col(Case.id).in_(ids))).all())
    return {case_id: found[case_id] for case_id in ids if case_id in found}


def by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def open_relays(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Per (channel, user id): the reference of the case whose staff thread the person's messages
    currently go to (the latest, if several)."""
    if not keys:
        return {}
    rows = session.execute(
        select(col(Case.channel), col(Case.user_id), col(Case.reference))
        .where(tuple_(col(Case.channel), col(Case.user_id)).in_(keys), col(Case.relay_open) == True)  # noqa: E712
        .order_by(col(Case.updated_at))
    ).all()
    return {(r.channel, r.user_id): r.reference for r in rows}


def record(session: Session, case: Case, *, actor: str, kind: str, text: str = "", now: datetime,
           staff: bool = False, status: str | None = None) -> CaseEvent:
    event = CaseEvent(case_id=id_of(case), at=now, actor=actor, kind=kind, text=text, status=status)
    case.updated_at = now
    if staff:
        case.last_staff_action_at = now
    session.add(case)
    session.add(event)
    return event


def listing(session: Session, scope: str, staff_id: str | None = None, limit: int = 50) -> list[Case]:
    """Cases for staff: mine (assigned to staff_id and open), open, unassigned, or all; newest first."""
    from store.case_status import CLOSED

    query = select(Case)
    if scope in ("mine", "open", "unassigned"):
        query = query.where(col(Case.status).not_in(CLOSED))
    if scope == "mine":
        query = query.where(col(Case.assignee) == staff_id)
    if scope == "unassigned":
        query = query.where(col(Case.assignee).is_(None))
    return list(session.exec(query.order_by(col(Case.created_at).desc()).limit(limit)))


def created_between(session: Session, start: datetime, end: datetime) -> list[Case]:
    return list(session.exec(select(Case).where(col(Case.created_at) >= start, col(Case.created_at) < end)
                             .order_by(col(Case.id))))


def by_slack_thread(session: Session, channel: str, thread_ts: str) -> Case | None:
    return session.exec(select(Case).where(col(Case.slack_channel) == channel, col(Case.slack_ts) == thread_ts)).first()


def place_card(session: Session, case_id: int, channel: str, ts: str) -> None:
    case = session.get_one(Case, case_id)
    case.slack_channel, case.slack_ts = channel, ts
    session.add(case)


def with_status(session: Session, status: str, limit: int = 50) -> list[Case]:
    """Cases in one status, newest first."""
    return list(session.exec(select(Case).where(col(Case.status) == status)
                             .order_by(col(Case.created_at).desc()).limit(limit)))
