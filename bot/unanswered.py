"""What citizens asked that the desk could not answer well, grouped for staff (`kb unanswered`,
and the weekly digest in the staff channel, through the reminders' ledger so it posts once):
declined questions, answers marked 違う, answers given with low confidence."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reminders import Post, Section
from knowledge.analysis import Analyzer
from knowledge.base import KnowledgeBase
from knowledge.calendar import is_business_day
from knowledge.grouping import group_questions
from store import indicators as figures
from store import notes

EXAMPLES = 5


@dataclass(frozen=True)
class UnansweredGroup:
    count: int
    questions: tuple[str, ...]  # distinct wordings, newest first (at most EXAMPLES)
    kinds: dict[str, int]  # declined / wrong / low_confidence → how many
    entries: dict[str, int]  # the entries that were offered → how many times
    last: datetime

    def as_json(self) -> dict:
        return {"count": self.count, "questions": list(self.questions), "kinds": self.kinds,
                "entries": self.entries, "last": self.last.isoformat()}


def grouped(session: Session, analyzer: Analyzer, since: datetime | None = None) -> list[UnansweredGroup]:
    """The unanswered questions since a moment, in groups of similar ones, the largest first."""
    rows = notes.unanswered(session, since)
    out = []
    for members in group_questions([row.question for row in rows], analyzer):
        picked = [rows[i] for i in members]
        out.append(UnansweredGroup(
            count=len(picked),
            questions=tuple(dict.fromkeys(row.question for row in picked))[:EXAMPLES],
            kinds=dict(Counter(row.kind for row in picked).most_common()),
            entries=dict(Counter(row.entry_id for row in picked if row.entry_id).most_common()),
            last=max(row.created_at for row in picked),
        ))
    return out


# --- the weekly digest for the staff channel -------------------------------------------------

DIGEST_JOB = "knowledge-digest"
DIGEST_AT = time(9, 0)
DIGEST_GROUPS = 10
DIGEST_EXAMPLES = 3
HOW_TO_FIX = ("直し方: `kyodo-desk kb faq add --question … --answer … --source … --by 名前` で回答を追加、"
              "`kyodo-desk kb faq link --question … --entry ID --by 名前` で既存の項目の聞き方に加えられます"
              "（数秒で窓口の回答に反映）。一覧は `kyodo-desk kb unanswered --since 日付`。")


def first_business_day_of_week(day: date) -> date | None:
    monday = day - timedelta(days=day.weekday())
    return next((d for d in (monday + timedelta(days=i) for i in range(5)) if is_business_day(d)), None)


def weekly_digest(session: Session, kb: KnowledgeBase, now: datetime, tz: ZoneInfo) -> Post | None:
    """On the week's first business day from 09:00: the past week's unanswered questions in groups,
    and the entries past their review date; None when not due, already posted or nothing to say."""
    local = now.astimezone(tz)
    today = local.date()
    year, week, _ = today.isocalendar()
    period = f"{year}-W{week:02d}"
    if today != first_business_day_of_week(today) or local.time() < DIGEST_AT or figures.posted(session, DIGEST_JOB, period):
        return None
    groups = grouped(session, kb.analyzer, now - timedelta(days=7))
    stale = [e for e in kb.entries if e.facts.overdue(today)]
    if not groups and not stale:
        return None
    sections = [Section((f"この1週間に窓口が答えられなかった質問: {sum(g.count for g in groups)}件"
                         f"（似た質問をまとめて{len(groups)}グループ、多い順）。", HOW_TO_FIX))]
    for group in groups[:DIGEST_GROUPS]:
        offered = f" ／ 提示した項目: {', '.join(group.entries)}" if group.entries else ""
        sections.append(Section((f"{group.count}件: " + " ／ ".join(f"「{q}」" for q in group.questions[:DIGEST_EXAMPLES])
                                 + offered,)))
    if stale:
        sections.append(Section(("見直しの時期を過ぎた項目: " + "、".join(
            f"{e.id}（{e.facts.review_by}）" for e in stale),)))
    return Post(DIGEST_JOB, period, f"答えられなかった質問のまとめ（{period}）", sections)
