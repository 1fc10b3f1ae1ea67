"""Indicator figures: reports (with history), targets, counts derived from cases, the reminder ledger."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import Case, CaseEvent, IndicatorReport, IndicatorTarget, ReminderLedger, utcnow


def report(session: Session, indicator_id: str, period: str, value: float, by: str, note: str = "",
           at: datetime | None = None) -> IndicatorReport:
    row = IndicatorReport(indicator_id=indicator_id, period=period, value=value, note=note, reported_by=by,
                          reported_at=at or utcnow())
    session.add(row)
    return row


def current(session: Session, indicator_id: str, period: str) -> IndicatorReport | None:
    """The newest report for this indicator and period (a correction replaces, history stays)."""
    return session.exec(
        select(IndicatorReport).where(col(IndicatorReport.indicator_id) == indicator_id,
                                      col(IndicatorReport.period) == period)
        .order_by(col(IndicatorReport.reported_at).desc(), col(IndicatorReport.id).desc())
    ).first()


def history(session: Session, indicator_id: str) -> list[IndicatorReport]:
    return list(session.exec(select(IndicatorReport).where(col(IndicatorReport.indicator_id) == indicator_id)
                             .order_by(col(IndicatorReport.id))))


def set_target(session: Session, indicator_id: str, value: float, by: str) -> None:
    session.add(IndicatorTarget(indicator_id=indicator_id, value=value, set_by=by))


def target(session: Session, indicator_id: str) -> float | None:
    row = session.exec(select(IndicatorTarget).where(col(IndicatorTarget.indicator_id) == indicator_id)
                       .order_by(col(IndicatorTarget.id).desc())).first()
    return row.value if row else None


def derived_count(session: Session, rule: str, start: date, end: date, tz: ZoneInfo) -> int:
    """Cases that first reached a status (reached:<status>) or were received (received:<kind>) in [start, end)."""
    begin, finish = datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)
    kind, _, value = rule.partition(":")
    if kind == "received":
        return session.exec(select(func.count()).select_from(Case).where(
            col(Case.kind) == value, col(Case.created_at) >= begin, col(Case.created_at) < finish)).one()
    if kind == "reached":
        first_reached = (select(CaseEvent.case_id, func.min(CaseEvent.at).label("first"))
                         .where(col(CaseEvent.status) == value).group_by(col(CaseEvent.case_id)).subquery())
        return session.exec(select(func.count()).select_from(first_reached).where(
            first_reached.c.first >= begin, first_reached.c.first < finish)).one()
    raise ValueError(f"unknown derivation rule {rule!r}")


def first_case_at(session: Session) -> datetime | None:
    """When the desk's case records begin (the first case received), or None with no case yet."""
    return session.exec(select(Case.created_at).order_by(col(Case.created_at)).limit(1)).first()


def claim_post(session: Session, job: str, period: str, now: datetime) -> bool:
    """Record that `job` posts for `period`; False when it already did (here or in another process)."""
    try:
        with session.begin_nested():
            session.add(ReminderLedger(job=job, period=period, posted_at=now))
    except IntegrityError:
        return False
    return True


def posted(session: Session, job: str, period: str) -> bool:
    return session.get(ReminderLedger, (job, period)) is not None
