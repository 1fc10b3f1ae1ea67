"""The weekly digest for the staff channel: the past week's unanswered questions in groups and the
entries past their review date, on the week's first business day from 09:00, through the
reminders' ledger so that it posts once."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reminders import Post, Section
from bot.unanswered import grouped
from knowledge.base import KnowledgeBase
from knowledge.calendar import is_business_day
from store import indicators as figures

DIGEST_JOB = "knowledge-digest"
DIGEST_AT = time(9, 0)
DIGEST_GROUPS = 10
DIGEST_EXAMPLES = 3
HOW_TO_FIX = ("直し方: `kyodo-desk kb faq add --question … --answer … --source … --by 名前` で回答を追加、"
              "`kyodo-desk kb faq link --question … --entry ID --by 名前` で既存の項目の聞き方に加えられます"
              "（数秒で窓口の回答に反映）。一覧は Slack の `/kyodo unanswered` か `kyodo-desk kb unanswered --since 日付`。")


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
                         f"（似た質問をまとめて{len(groups)}グループ、多い順）。", HOW_TO_FIX),
                        button=("一覧を見る", "unanswered_list", period))]
    for group in groups[:DIGEST_GROUPS]:
        offered = f" ／ 提示した項目: {', '.join(group.entries)}" if group.entries else ""
        sections.append(Section((f"{group.count}件: " + " ／ ".join(f"「{q}」" for q in group.questions[:DIGEST_EXAMPLES])
                                 + offered,)))
    if stale:
        sections.append(Section(("見直しの時期を過ぎた項目: " + "、".join(
            f"{e.id}（{e.facts.review_by}）" for e in stale),)))
    return Post(DIGEST_JOB, period, f"答えられなかった質問のまとめ（{period}）", sections)
