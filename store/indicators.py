"""Indicator figures: reports (with history), targets, counts derived from cases, the reminder ledger."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import (
    Case,
    CaseEvent,
    IndicatorReport,
    IndicatorTarget,
    Introduction,
    ReminderLedger,
    utcnow,
)


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


REALIZED = "取組化"  # an introduction's outcome when the match became a joint effort


def derived_count(session: Session, rule: str, start: date, end: date, tz: ZoneInfo) -> int:
    """How many records a derivation rule counts in [start, end) (local days): cases that first
    reached a status (reached:<status>) or were received (received:<kind>), introductions made
    (introduced: the plan's マッチング) or marked 取組化 (realized)."""
    counted = _counted(rule, *_instants(start, end, tz)).subquery()
    return session.exec(select(func.count()).select_from(counted)).one()


def derived_cases(session: Session, rule: str, start: date, end: date, tz: ZoneInfo) -> list[str]:
    """The reference numbers of the cases behind a derived count (each once), so that a figure can be traced."""
    counted = _counted(rule, *_instants(start, end, tz)).subquery()
    query = (select(Case.reference).where(col(Case.id).in_(select(counted.c.case_id))).order_by(col(Case.reference)))
    return list(session.exec(query))


def _instants(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


def _counted(rule: str, begin: datetime, finish: datetime):
    """One row (with its case_id) per counted record."""
    kind, _, value = rule.partition(":")
    if kind == "received":
        return select(col(Case.id).label("case_id")).where(Case.kind == value, Case.created_at >= begin,
                                                           Case.created_at < finish)
    if kind == "reached":
        first_reached = (select(CaseEvent.case_id, func.min(CaseEvent.at).label("first"))
                         .where(CaseEvent.status == value).group_by(col(CaseEvent.case_id)).subquery())
        return select(first_reached.c.case_id).where(first_reached.c.first >= begin, first_reached.c.first < finish)
    if kind == "introduced":
        return select(Introduction.case_id).where(Introduction.at >= begin, Introduction.at < finish)
    if kind == "realized":
        return select(Introduction.case_id).where(Introduction.outcome == REALIZED, col(Introduction.outcome_at) >= begin,
                                                  col(Introduction.outcome_at) < finish)
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
