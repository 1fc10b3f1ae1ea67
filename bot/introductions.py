"""Introductions (紹介): staff link a case with a group of the directory once both sides agreed —
the plan's マッチング — and later mark one 取組化 when it became an actual joint effort.

Every function runs inside the caller's transaction (the inbox worker's for a Slack action, the
CLI's own for `kyodo-desk groups introduce`): the introduction, the case's history and the lines
for its Slack thread are committed together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import casework
from bot.casework import CaseworkError
from store import cases
from store import groups as table
from store.models import Case, Introduction

REALIZED = "取組化"
FOLLOW_UP_AFTER = timedelta(days=30)  # an introduction with no outcome after this long is listed for follow-up
NOTE_MAX = 1000


class NotIntroducible(CaseworkError, LookupError):
    """The case or the group cannot be introduced (told to staff in Slack, to the CLI as a LookupError)."""


@dataclass(frozen=True)
class IntroductionView:
    """An introduction as the case card and App Home show it."""
    id: int
    case_id: int
    case_reference: str
    group_name: str
    staff: str
    at: datetime
    outcome: str


def introduce(session: Session, case: Case, group_id: int, staff: str, note: str, now: datetime) -> Introduction:
    """Record that `staff` introduced group `group_id` to `case` (both sides agreed); one マッチング."""
    group = table.get(session, group_id)
    if group is None or group.status == "終了":
        raise NotIntroducible(f"団体（ID {group_id}）は名簿にないか、活動を終了しています。")
    if any(row.group_id == group_id for row in table.introductions_for_case(session, case.id or 0)):
        raise NotIntroducible(f"{case.reference} には「{group.name}」をすでに紹介しています。")
    note = note.strip()[:NOTE_MAX]
    row = table.record_introduction(session, case.id or 0, group_id, staff, now, note)
    cases.record(session, case, actor=staff, kind="introduced", text=group.name, now=now, staff=True)
    memo = f"\nメモ: {casework.slack_escape(note)}" if note else ""
    casework.post_in_thread(session, case, f"<@{staff}> が「{casework.slack_escape(group.name)}」を紹介しました"
                                           f"（双方の合意を確認済み・マッチング）。{memo}")
    return row


def mark_realized(session: Session, introduction_id: int, staff: str, now: datetime) -> Introduction:
    """The introduction led to an actual joint effort (取組化): counted for the plan's second indicator."""
    row = table.introduction(session, introduction_id)
    case = cases.by_id(session, row.case_id) if row else None
    if row is None or case is None:
        raise NotIntroducible(f"紹介記録（ID {introduction_id}）が見つかりません。")
    if row.outcome == REALIZED:
        raise NotIntroducible("この紹介はすでに「取組化」として記録されています。")
    table.set_outcome(session, row, REALIZED, staff, now)
    name = table.names_of(session, [row.group_id]).get(row.group_id, "")
    cases.record(session, case, actor=staff, kind="realized", text=name, now=now, staff=True)
    casework.post_in_thread(session, case, f"<@{staff}> が「{casework.slack_escape(name)}」との紹介を"
                                           "*取組化*（実際の取組につながった）として記録しました。")
    return row


def for_case(session: Session, case_id: int) -> list[IntroductionView]:
    return _views(session, table.introductions_for_case(session, case_id))


def awaiting_outcome(session: Session, now: datetime) -> list[IntroductionView]:
    """Introductions older than FOLLOW_UP_AFTER with no outcome yet (App Home's follow-up list)."""
    return _views(session, table.without_outcome_since(session, now - FOLLOW_UP_AFTER))


def _views(session: Session, rows: list[Introduction]) -> list[IntroductionView]:
    names = table.names_of(session, (r.group_id for r in rows))
    references = cases.references_of(session, (r.case_id for r in rows))
    return [IntroductionView(r.id or 0, r.case_id, references.get(r.case_id, "?"), names.get(r.group_id, "?"), r.staff,
                             r.at, r.outcome) for r in rows]
