"""The staff desk's services for the Slack listeners: lookups, overdue cases, the CSV export, the
yearly report, reported figures, and staff actions handed to the inbox worker."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import casework, csvsafe, introductions, staffactions
from bot.forms import FORMS, SKIPPED
from bot.indicators import Indicator, figure_problem, load_indicators, value_problem
from bot.introductions import IntroductionView
from bot.partner_search import SearchPage
from bot.partners import GroupDirectory, Suggestion, card_of
from bot.runtime import Desk
from bot.staff_knowledge import KnowledgeEditor
from bot.unanswered import UnansweredGroup, grouped
from knowledge.calendar import business_days_between, fiscal_year_of
from store import cases
from store import groups as groups_table
from store import indicators as figures
from store.db import session_scope
from store.models import Case, CaseEvent

REOPEN = "この成果指標・期間には記録できません。リマインダーのボタンから開き直してください。"

EXPORT_COLUMNS = ["受付番号", "種別", "ステータス", "受付日時", "更新日時", "担当", "相談者区分", "名前・団体", "地域",
                  "連絡方法", "連絡先", "内容"]


def overdue(session: Session, now: datetime, days: int, tz: ZoneInfo) -> list[Case]:
    """Open cases with no staff action (or none since receipt) for `days` business days or more."""
    today = now.astimezone(tz).date()
    late = []
    for case in cases.listing(session, "open", limit=1000):
        since = (case.last_staff_action_at or case.created_at).astimezone(tz).date()
        if business_days_between(since, today) >= days:
            late.append(case)
    return late


def parse_period(text: str, today: date) -> tuple[date, date, str] | None:
    """「2026-04」 a month, 「2026」 or 「FY2026」 a fiscal year (April–March), 「2026-04-01..2026-06-30」 a range;
    empty: the current fiscal year. Returns (start, end exclusive, label)."""
    text = text.strip()
    fy_now = today.year if today.month >= 4 else today.year - 1
    if not text:
        text = f"FY{fy_now}"
    if m := re.fullmatch(r"(?:FY|fy|年度)?(\d{4})(?:年度)?", text):
        year = int(m.group(1))
        return date(year, 4, 1), date(year + 1, 4, 1), f"FY{year}"
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            return None
        end = date(year + (month == 12), month % 12 + 1, 1)
        return date(year, month, 1), end, f"{year}-{month:02d}"
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|〜|~)\s*(\d{4}-\d{2}-\d{2})", text):
        try:
            start, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError:
            return None
        return (start, last + timedelta(days=1), f"{start}..{last}") if start <= last else None
    return None


def export_csv(session: Session, start: date, end: date, tz: ZoneInfo) -> tuple[bytes, int]:
    """Cases received in [start, end) as CSV (bot/csvsafe.py: UTF-8 with a BOM, no formulas)."""
    rows = cases.created_between(session, datetime.combine(start, time(), tz), datetime.combine(end, time(), tz))
    return csvsafe.to_bytes([EXPORT_COLUMNS, *(_export_row(case, tz) for case in rows)]), len(rows)


def _export_row(case: Case, tz: ZoneInfo) -> list[str]:
    answers = case.answers
    form = FORMS.get(case.kind)
    return [
        case.reference, form.title if form else case.kind, case.status,
        case.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), case.updated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        case.assignee or "", answers.get("applicant_type", ""), answers.get("name") or answers.get("group_name", ""),
        answers.get("area", ""), answers.get("contact_method", ""),
        answers.get("contact") or " / ".join(v for v in (answers.get("phone"), answers.get("email")) if v and v != SKIPPED),
        answers.get("content", ""),
    ]


SUGGESTED_FOR = ("consultation", "proposal")  # the case kinds whose card suggests partner groups
SUGGESTIONS = 3
CASE_TEXT_KEYS = ("title", "issue", "content", "area")
NAMED_GROUP = re.compile(r"団体ID\s*(\d{1,9})")


@dataclass(frozen=True)
class Home:
    mine: list[Case]
    unassigned: list[Case]
    overdue: list[Case]
    overdue_days: int
    follow_up: list[IntroductionView] = field(default_factory=list)  # introductions with no outcome after 30 days


@dataclass(frozen=True)
class CasePartners:
    """What a case card shows about partners: groups to suggest, and the introductions made."""
    suggestions: list[Suggestion]
    introduced: list[IntroductionView]


@dataclass(frozen=True)
class Export:
    content: bytes
    count: int
    label: str


@dataclass(frozen=True)
class AnnualReport:
    fiscal_year: int
    markdown: str
    csv: Path
    chart: Path


class StaffDesk:
    """What the Slack listeners ask of the desk, each call in a transaction of its own: lookups
    for cards, modals, App Home and /kyodo, the exports, and staff actions to store (carried out
    by the inbox worker, bot/staffactions.py). `on_stored` wakes the worker."""

    def __init__(self, desk: Desk, on_stored: Callable[[], None] = lambda: None):
        self.desk, self.on_stored = desk, on_stored
        self.tz = desk.config.tz
        self.registry = load_indicators(Path(desk.knowledge.folder))
        self.knowledge = KnowledgeEditor(desk)

    def today(self) -> date:
        return self.desk.clock().astimezone(self.tz).date()

    def case(self, case_id: object) -> Case | None:
        """The case a button or modal names; None for a missing case or an id that is no id."""
        text = str(case_id).strip()
        if not (text.isascii() and text.isdigit() and len(text) < 12):
            return None
        with session_scope(self.desk.db) as session:
            return cases.by_id(session, int(text))

    def case_by_reference(self, reference: str) -> Case | None:
        with session_scope(self.desk.db) as session:
            return cases.by_reference(session, reference.strip().upper())

    def place_card(self, case_id: int, channel: str, ts: str) -> None:
        """Where the case's card went (its thread holds the history)."""
        with session_scope(self.desk.db) as session:
            cases.place_card(session, case_id, channel, ts)

    def history(self, case_id: int) -> list[CaseEvent]:
        with session_scope(self.desk.db) as session:
            return cases.history(session, case_id)

    def unanswered(self) -> list[UnansweredGroup]:
        """What the desk could not answer well (the last 90 days), in groups of similar questions."""
        with session_scope(self.desk.db) as session:
            return grouped(session, self.desk.knowledge)

    def listing(self, scope: str, staff_id: str) -> list[Case]:
        with session_scope(self.desk.db) as session:
            return cases.listing(session, scope, staff_id)

    def home(self, staff_id: str) -> Home:
        days = self.desk.config.overdue_business_days
        with session_scope(self.desk.db) as session:
            return Home(cases.listing(session, "mine", staff_id), cases.listing(session, "unassigned"),
                        overdue(session, self.desk.clock(), days, self.tz), days,
                        introductions.awaiting_outcome(session, self.desk.clock()))

    @cached_property
    def groups(self) -> GroupDirectory:
        """The directory of groups (loaded on first use: most requests never need it)."""
        return GroupDirectory.for_folder(self.desk.db, Path(self.desk.knowledge.folder), self.tz)

    def partners_for(self, case: Case) -> CasePartners:
        """Up to three groups suggested for a consultation or proposal (none already introduced to
        it), by its content, area and applicant kind; and the introductions made for it."""
        with session_scope(self.desk.db) as session:
            introduced = introductions.for_case(session, case.id or 0)
        if case.kind not in SUGGESTED_FOR:
            return CasePartners([], introduced)
        answers = case.answers
        text = "\n".join(str(answers[key]) for key in CASE_TEXT_KEYS if answers.get(key))
        names = {view.group_name for view in introduced}
        chosen = self._wanted_group(answers.get("group"))
        found = self.groups.suggest(text, answers.get("area"), answers.get("applicant_type"),
                                    k=SUGGESTIONS + len(names) + len(chosen))
        ranked = chosen + [s for s in found if s.group.id not in {c.group.id for c in chosen}]
        return CasePartners([s for s in ranked if s.group.name not in names][:SUGGESTIONS], introduced)

    def _wanted_group(self, named: object) -> list[Suggestion]:
        """The group the citizen asked to meet (この団体とつながりたい: "name（団体ID n）"), first on the card."""
        match = NAMED_GROUP.search(str(named or ""))
        if match is None:
            return []
        with session_scope(self.desk.db) as session:
            group = groups_table.get(session, int(match.group(1)))
            card = card_of(group) if group is not None and group.status != "終了" else None
        return [Suggestion(card, float("inf"), ("相談者が希望した団体",))] if card else []

    def group_name(self, group_id: int) -> str | None:
        with session_scope(self.desk.db) as session:
            return groups_table.names_of(session, [group_id]).get(group_id)

    def search_groups(self, query: str, cursor: str | None = None) -> SearchPage:
        """The whole directory for staff, non-public entries included (InvalidCursor for a forged cursor)."""
        return self.groups.search(query, cursor, include_hidden=True)

    def export(self, period_text: str) -> Export | None:
        """The cases of a period as CSV; None when the period cannot be read."""
        period = parse_period(period_text, self.today())
        if period is None:
            return None
        start, end, label = period
        with session_scope(self.desk.db) as session:
            content, count = export_csv(session, start, end, self.tz)
        return Export(content, count, label)

    def annual_report(self, year_text: str, folder: Path) -> AnnualReport:
        """The yearly indicator report written to `folder`; by default the last finished fiscal year."""
        from bot import report  # matplotlib, and bot.report reads bot.reminders, which reads this module

        year_text = year_text.strip()
        year = int(year_text) if year_text.isascii() and year_text.isdigit() else fiscal_year_of(self.today()) - 1
        with session_scope(self.desk.db) as session:
            md, csv_path, png = report.write(session, self.registry, year, self.tz, folder,
                                             self.desk.knowledge.profile.city)
        return AnnualReport(year, md.read_text(encoding="utf-8"), csv_path, png)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.registry if i.id == indicator_id), None)

    def record_figure(self, indicator_id: str, period: str, value: float, staff_id: str, note: str) -> str | None:
        """Store a reported figure and queue its confirmation to the staff member, in one
        transaction (done before Slack is answered); otherwise why not, for the staff member."""
        indicator = self.indicator(indicator_id)
        if indicator is None:
            return REOPEN
        problem = figure_problem(indicator, period, value, self.today())
        if problem and problem != value_problem(indicator, value):
            return REOPEN  # the button's period (a stale button): nothing to correct in the modal
        if problem:
            return problem
        with session_scope(self.desk.db) as session:
            figures.report(session, indicator_id, period, value, staff_id, note, at=self.desk.clock())
            memo = f"\n備考: {casework.slack_escape(note)}" if note else ""
            staffactions.tell_staff(session, staff_id, f"{indicator_id} の {period} の値 {value:g} を記録しました。{memo}")
        self.on_stored()
        return None

    def submit(self, action_id: str, action: staffactions.StaffAction) -> None:
        """Keep a staff action for the worker (call before answering Slack)."""
        if staffactions.store(self.desk.db, action_id, action):
            self.on_stored()

    def ask(self, question: str) -> str:
        return self.desk.knowledge.ask(question).text

