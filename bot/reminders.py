"""What the scheduler posts, decided from the clock: the monthly indicator reminder (first
business day, 09:00), the nudge for missing figures (3 business days later), and the daily
list of overdue cases (business days, 09:30). Each post is claimed in the ledger first, so it
goes out once whatever runs it twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.indicators import (
    MONTHLY,
    Indicator,
    fiscal_period,
    month_period,
    months_of_fiscal_year,
    period_bounds,
    previous_month,
)
from bot.staffdesk import overdue
from knowledge.calendar import add_business_days, first_business_day, fiscal_year_of, is_business_day
from store import indicators as figures
from store import outbox

REMIND_AT, OVERDUE_AT = time(9, 0), time(9, 30)
NUDGE_AFTER_BUSINESS_DAYS = 3
TRACED_CASES = 20  # reference numbers listed under a derived count (the rest: ほかN件)


@dataclass(frozen=True)
class Section:
    """One part of a staff-channel post: lines of text, people to mention, and the indicator
    (with its period, "id|period") that a 報告する button next to it reports."""
    lines: tuple[str, ...]
    mentions: tuple[str, ...] = ()
    report: str | None = None
    report_label: str = "報告する"
    button: tuple[()] | tuple[str, str, str] = ()  # another button beside the lines: (label, action id, value)
    actions: tuple[tuple[str, str, str], ...] = ()  # a row of buttons under the lines, each (label, action id, value)

    def as_payload(self) -> dict:
        return {"lines": list(self.lines), "mentions": list(self.mentions), "report": self.report,
                "report_label": self.report_label, "button": list(self.button),
                "actions": [list(action) for action in self.actions]}


@dataclass
class Post:
    job: str
    period: str
    text: str
    sections: list[Section] = field(default_factory=list)

    def plain_text(self) -> str:
        return "\n".join(line for section in self.sections for line in section.lines)


@dataclass(frozen=True)
class Line:
    indicator: Indicator
    period: str
    value: float | None
    previous: float | None
    previous_period: str
    year_to_date: float | None
    target: float | None
    cases: tuple[str, ...] = ()  # a derived count's cases (reference numbers), so the figure can be traced

    @property
    def missing(self) -> bool:
        return self.value is None and not self.indicator.derived


def value_for(session: Session, indicator: Indicator, period: str, tz: ZoneInfo) -> float | None:
    """Derived indicators are counted; the others are the newest report (a fiscal year of a monthly count is its sum)."""
    if indicator.derived:
        start, end = period_bounds(period)
        return float(figures.derived_count(session, indicator.derived, start, end, tz))
    if period.startswith("FY") and indicator.frequency == MONTHLY:
        months = [figures.current(session, indicator.id, m) for m in months_of_fiscal_year(int(period[2:]))]
        reported = [r.value for r in months if r]
        return sum(reported) if reported else None
    row = figures.current(session, indicator.id, period)
    return row.value if row else None


def due_period(indicator: Indicator, today: date) -> str | None:
    """The period a reminder on `today` asks about: last month, or (in April) the fiscal year just ended."""
    if indicator.frequency == MONTHLY:
        return month_period(*previous_month(today))
    return fiscal_period(today.year - 1) if today.month == 4 else None


def lines(session: Session, registry: list[Indicator], today: date, tz: ZoneInfo) -> list[Line]:
    out = []
    for indicator in registry:
        period = due_period(indicator, today)
        if period is None:
            continue
        start, end = period_bounds(period)
        if indicator.frequency == MONTHLY:
            previous_period = month_period(*previous_month(start))
            fy = fiscal_year_of(start)
            months = months_of_fiscal_year(fy)
            so_far = [value_for(session, indicator, m, tz) for m in months[: months.index(period) + 1]]
            known = [v for v in so_far if v is not None]
            year_to_date = sum(known) if known else None
        else:
            previous_period, year_to_date = fiscal_period(int(period[2:]) - 1), None
        target = figures.target(session, indicator.id)
        behind = (tuple(figures.derived_cases(session, indicator.derived, start, end, tz)) if indicator.derived
                  else ())
        out.append(Line(indicator, period, value_for(session, indicator, period, tz),
                        value_for(session, indicator, previous_period, tz), previous_period, year_to_date,
                        target if target is not None else indicator.target, behind))
    return out


def _progress(line: Line) -> str:
    if line.target in (None, 0):
        return "目標未設定"
    basis = line.year_to_date if line.year_to_date is not None else line.value
    return "—" if basis is None else f"目標 {line.indicator.format(line.target)} に対し {basis / line.target:.0%}"


def _traced(line: Line) -> tuple[str, ...]:
    if not line.cases:
        return ()
    more = f" ほか{len(line.cases) - TRACED_CASES}件" if len(line.cases) > TRACED_CASES else ""
    return ("対象の案件: " + "、".join(line.cases[:TRACED_CASES]) + more,)


def reminder_sections(items: list[Line]) -> list[Section]:
    sections = [Section(("自動で数えられる指標は記入不要です。その他は「報告する」から入力してください。",))]
    for line in items:
        ind = line.indicator
        now_text = (f"今回（{line.period}）: {ind.format(line.value)}" + ("（案件記録から集計）" if ind.derived else "")
                    if line.value is not None else f"今回（{line.period}）: 未報告")
        sections.append(Section((
            f"{ind.name}（{ind.policy}・{ind.source}）",
            now_text,
            f"前回（{line.previous_period}）: {ind.format(line.previous)}"
            + (f" ／ 年度累計: {ind.format(line.year_to_date)}" if line.year_to_date is not None else ""),
            f"基準値: {ind.format(ind.baseline_value)}" + (f"（{ind.baseline_year}）" if ind.baseline_year else "")
            + f" ／ {_progress(line)}",
            *_traced(line),
        ), report=None if ind.derived else f"{ind.id}|{line.period}"))
    return sections


def monthly_reminder(session: Session, registry: list[Indicator], now: datetime, tz: ZoneInfo) -> Post | None:
    local = now.astimezone(tz)
    today = local.date()
    if today != first_business_day(today.year, today.month) or local.time() < REMIND_AT:
        return None
    items = lines(session, registry, today, tz)
    if not items:
        return None
    year, month = previous_month(today)
    label = f"{year}年{month}月分" + ("・前年度分" if today.month == 4 else "")
    return Post("indicator-reminder", month_period(today.year, today.month), f"成果指標の報告のお願い（{label}）",
                reminder_sections(items))


def nudge(session: Session, registry: list[Indicator], now: datetime, tz: ZoneInfo) -> Post | None:
    local = now.astimezone(tz)
    today = local.date()
    first = first_business_day(today.year, today.month)
    if today != add_business_days(first, NUDGE_AFTER_BUSINESS_DAYS) or local.time() < REMIND_AT:
        return None
    missing = [line for line in lines(session, registry, today, tz) if line.missing]
    if not missing:
        return None
    sections = [Section(("成果指標の報告がまだの項目があります。お手数ですが入力をお願いします。",))]
    for line in missing:
        who = "" if line.indicator.responsible else " — （担当未設定）"
        sections.append(Section((f"{line.indicator.name}（{line.period}）{who}",), tuple(line.indicator.responsible),
                                report=f"{line.indicator.id}|{line.period}",
                                report_label=f"報告する: {line.indicator.name}"))
    return Post("indicator-nudge", month_period(today.year, today.month), "成果指標の未報告のお知らせ", sections)


def overdue_cases(session: Session, now: datetime, tz: ZoneInfo, days: int) -> Post | None:
    local = now.astimezone(tz)
    if not is_business_day(local.date()) or local.time() < OVERDUE_AT:
        return None
    late = overdue(session, now, days, tz)
    if not late:
        return None
    lead = Section((f"{days}営業日以上、職員の対応が記録されていない案件が {len(late)} 件あります。",))
    rows = [Section((f"{c.reference} {c.status}" + ("" if c.assignee else " — 担当未定"),),
                    (c.assignee,) if c.assignee else ()) for c in late[:40]]
    return Post("overdue-cases", local.date().isoformat(), f"対応が止まっている案件 {len(late)} 件", [lead, *rows])


def due_posts(session: Session, registry: list[Indicator], now: datetime, tz: ZoneInfo, overdue_days: int) -> list[Post]:
    candidates = [monthly_reminder(session, registry, now, tz), nudge(session, registry, now, tz),
                  overdue_cases(session, now, tz, overdue_days)]
    return [post for post in candidates if post is not None and not figures.posted(session, post.job, post.period)]


def publish(session: Session, post: Post, now: datetime) -> bool:
    """Claim the post in the ledger and queue it for the staff channel, in the caller's transaction."""
    if not figures.claim_post(session, post.job, post.period, now):
        return False
    payload = {"text": post.text, "sections": [section.as_payload() for section in post.sections]}
    outbox.enqueue(session, channel="slack", target="staff", kind="post", payload=payload,
                   dedupe_key=f"post:{post.job}:{post.period}")
    return True
