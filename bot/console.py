"""The staff console (`kyodo-desk cases …`): the staff desk for an office without Slack.

Changes go through bot/casework.py, as the Slack desk's do, so they are recorded the same way
(the staff member's name as the actor) and reach the citizen the same way: queued in the outbox
for the server's sender (LINE) or for the web chat's next poll. Listings show what staff need to
pick a case; `details` shows the whole case, contact data included. Nothing here logs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import casework
from bot.casework import CaseworkError
from bot.channels import Channel
from bot.forms import FORMS
from store import case_status, cases, conversations, privacy, signals
from store.models import Case

SCOPES = ("open", "unassigned", "all")  # besides a single status
SUMMARY_CHARS = 40


@dataclass(frozen=True)
class Done:
    """What a change did: `reached` is whether a message to the citizen was queued."""
    case: Case
    reached: bool


def find(session: Session, reference: str) -> Case:
    case = cases.by_reference(session, reference.strip().upper())
    if case is None:
        raise CaseworkError(f"受付番号 {reference} の案件はありません。"
                            "`kyodo-desk cases list --status all` で確認できます。")
    return case


def check_status(status: str) -> str:
    if status not in case_status.FLOW:
        raise CaseworkError(f"「{status}」というステータスはありません。次のどれかです: {'・'.join(case_status.FLOW)}")
    return status


def listing(session: Session, status: str, limit: int) -> list[Case]:
    """`status`: open (not closed), unassigned (open, nobody has it), all, or one status; newest first."""
    if status in SCOPES:
        return cases.listing(session, status, limit=limit)
    return cases.with_status(session, check_status(status), limit=limit)


def kind_title(case: Case) -> str:
    form = FORMS.get(case.kind)
    return form.title if form else case.kind


ERASED_MARK = "（個人情報削除済み）"


def summary(case: Case) -> str:
    """The subject of a case in one short line (a proposal's title, or the start of its content)."""
    text = " ".join(str(case.answers.get("title") or case.answers.get("content") or "").split())
    if case.user_id == privacy.ERASED:
        text = ERASED_MARK + text
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


def overview(case: Case, tz: ZoneInfo) -> dict:
    """One case in a listing: what it is about and where it stands, no names or contact details."""
    return {"reference": case.reference, "kind": kind_title(case), "status": case.status,
            "assignee": case.assignee or "", "received": case.created_at.astimezone(tz).strftime("%Y-%m-%d"),
            "summary": summary(case)}


def details(session: Session, case: Case, tz: ZoneInfo) -> list[str]:
    """A case as staff read it: its answers (labelled as in the form), how to reach the citizen,
    and its history."""
    form = FORMS.get(case.kind)
    labels = {f.key: f.label for f in form.fields} if form else {}
    lines = [f"{case.reference}  {kind_title(case)}  {case.status}  担当: {case.assignee or '未定'}",
             f"受付: {_local(case.created_at, tz)}  更新: {_local(case.updated_at, tz)}  経路: {case.channel}", ""]
    lines += [f"{labels.get(key, key)}: {value}" for key, value in case.answers.items()]
    lines += ["", "経過:"]
    for event in cases.history(session, cases.id_of(case)):
        text = f" {event.text}" if event.text else ""
        lines.append(f"  {_local(event.at, tz)}  {event.kind:16} {event.actor}{text}")
    return lines


def reply(session: Session, channels: Mapping[str, Channel], reference: str, text: str, by: str,
          now: datetime) -> Done:
    case = find(session, reference)
    reached = casework.reply_to_citizen(session, channels, case, _staff(by), text, now)
    signals.notify(session, signals.OUTBOX)  # a server's sender in another process sends it now
    return Done(case, reached)


def set_status(session: Session, channels: Mapping[str, Channel], reference: str, status: str, note: str,
               by: str, now: datetime) -> Done:
    case = find(session, reference)
    reached = reachable(session, channels, case)
    casework.change_status(session, channels, case, _staff(by), check_status(status), note.strip(), now)
    signals.notify(session, signals.OUTBOX)
    return Done(case, reached)


def reachable(session: Session, channels: Mapping[str, Channel], case: Case) -> bool:
    """Whether a message to the case's citizen is queued (their channel is on, they did not
    unfollow, their data was not erased): the test bot/casework.py makes before it sends."""
    return (case.channel in channels and case.user_id not in ("", privacy.ERASED)
            and conversations.is_contact_active(session, case.channel, case.user_id))


def export_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """[start, end) of an export: `first`..`last` inclusive; by default from the start of the
    fiscal year (of `last`, or of today) up to today."""
    last = last or today
    fiscal_year = last.year if last.month >= 4 else last.year - 1
    first = first or date(fiscal_year, 4, 1)
    if first > last:
        raise CaseworkError(f"期間の始まり（{first}）が終わり（{last}）より後です。")
    return first, last + timedelta(days=1)


def _staff(by: str) -> str:
    name = " ".join(by.split())
    if not name:
        raise CaseworkError("--by に担当者の名前を入れてください（記録に残ります）。")
    return name


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
