"""Queries the staff desk needs beyond single cases: overdue cases and the CSV export."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.calendar import business_days_between
from bot.forms import FORMS
from store import cases
from store.models import Case

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
    """Cases received in [start, end) as CSV, UTF-8 with a BOM so that Excel reads it as such."""
    rows = cases.created_between(session, datetime.combine(start, time(), tz), datetime.combine(end, time(), tz))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for case in rows:
        answers = case.answers
        form = FORMS.get(case.kind)
        writer.writerow([
            case.reference, form.title if form else case.kind, case.status,
            case.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), case.updated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            case.assignee or "", answers.get("applicant_type", ""), answers.get("name") or answers.get("group_name", ""),
            answers.get("area", ""), answers.get("contact_method", ""),
            answers.get("contact") or " / ".join(v for v in (answers.get("phone"), answers.get("email")) if v),
            answers.get("content", ""),
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8"), len(rows)
