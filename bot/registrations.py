"""Staff decisions on a group's registration (団体登録, a case of kind "group"): 承認 puts the group
in the directory (公開, confirmed today), 修正依頼 asks the applicant to fix something, 却下 declines
kindly. Each is a status change on the case, recorded like any other, and the applicant is told
through the case's usual reply path. Runs inside the caller's transaction (the inbox worker's).
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session

from bot import casework
from bot.casework import CaseworkError
from bot.partners import validate_row
from bot.runtime import Desk
from knowledge.partner_vocabulary import PartnerVocabulary, load_partner_vocabulary
from store import case_codes, case_status
from store import groups as table
from store.models import Case

GROUP_KIND = "group"  # the case kind of a registration
APPROVE, REVISE, REJECT = "承認", "修正依頼", "却下"
DECISIONS = {APPROVE: case_status.DONE, REVISE: case_status.DISCUSSING, REJECT: case_status.DECLINED}
NEEDS_REASON = frozenset({REVISE, REJECT})
YES = "はい"
_CHANGED_ID = re.compile(r"（団体ID ([0-9]{1,12})）$")  # the form's `changes` answer


@lru_cache(maxsize=4)
def _vocabulary(folder: str) -> PartnerVocabulary:
    return load_partner_vocabulary(Path(folder))


def decide(session: Session, desk: Desk, case: Case, staff_id: str, decision: str, reason: str, now: datetime) -> None:
    """Carry out 承認 / 修正依頼 / 却下 on a registration case (CaseworkError when it cannot be done)."""
    if case.kind != GROUP_KIND:
        raise CaseworkError(f"{case.reference} は団体登録の申請ではありません。")
    if decision not in DECISIONS:
        raise CaseworkError(f"「{decision}」という決定はありません（{' / '.join(DECISIONS)}）。")
    reason = reason.strip()
    if decision in NEEDS_REASON and not reason:
        raise CaseworkError(f"{decision}の理由を入力してください。")
    name = str(case.answers.get("name", ""))
    if decision == APPROVE:
        _publish(session, desk, case, staff_id, now)
    notice = applicant_notice(decision, case.reference, name, reason)
    casework.decide(session, desk.channels, case, staff_id, DECISIONS[decision], f"{decision} {reason}".strip(),
                    notice, now)


def group_row(answers: dict, vocabulary: PartnerVocabulary) -> tuple[dict | None, list[str]]:
    """The directory row a registration's answers make, or what is wrong with them."""
    cells = {key: str(answers.get(key) or "") for key in ("name", "kind", "fields", "areas", "offers", "seeks",
                                                        "contact", "url")}
    cells["public"] = "true" if str(answers.get("contact_public", "")).strip() == YES else "false"
    return validate_row(cells, vocabulary)


def _publish(session: Session, desk: Desk, case: Case, staff_id: str, now: datetime) -> None:
    row, problems = group_row(case.answers, _vocabulary(str(desk.knowledge.folder)))
    if row is None:
        raise CaseworkError(f"{case.reference} の登録内容をそのまま掲載できません: " + "; ".join(problems)
                            + "（「修正依頼」で申請者に確認してください）")
    today = now.astimezone(desk.config.tz).date()
    values = {**row, "applicant_channel": case.channel, "applicant_user": case.user_id, "status": table.PUBLIC,
              "confirmed_on": today, "confirm_asked_on": None}
    changed = _changed_group(session, case)
    if changed is None:  # a new entry: one registered on the web chat is opened later with its code
        codes = {} if case.answers.get("changes") else case_codes.opening(case)
        table.upsert(session, [{**values, **codes}], staff_id, now)
    elif not table.update_entry(session, changed, values, staff_id, now):
        raise CaseworkError(f"{case.reference}: 「{row['name']}」という名前の団体はすでに名簿にあります"
                            "（「修正依頼」で申請者に確認してください）")


def _changed_group(session: Session, case: Case) -> int | None:
    """The entry a change (団体情報の変更) updates: the applicant's own group, even when renamed."""
    named = _CHANGED_ID.search(str(case.answers.get("changes", "")))
    if named is None:
        return None
    group = table.of_applicant(session, int(named.group(1)), case.channel, case.user_id)
    return group.id if group is not None else None


def applicant_notice(decision: str, reference: str, name: str, reason: str) -> str:
    """What the applicant is told, in polite Japanese."""
    group = f"「{name}」" if name else "団体"
    if decision == APPROVE:
        return (f"【{reference}】{group}の団体登録を承認しました。団体検索に掲載しましたので、ご確認ください。"
                "登録内容の変更は「団体情報の変更」、掲載の取りやめは「団体の登録をやめる」と送ってください。")
    if decision == REVISE:
        return (f"【{reference}】{group}の団体登録について、次の点の修正をお願いします。\n{reason}\n"
                "お手数ですが、修正のうえ、もう一度お申し込みください。")
    return (f"【{reference}】{group}の団体登録をお申し込みいただき、ありがとうございました。"
            f"申し訳ありませんが、今回は掲載を見送らせていただきます。\n{reason}\n"
            "ご不明な点は、お気軽にご相談ください。")
