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
HOW_TO_FIX = ("直し方: 各グループのボタンで、既存の回答の聞き方に加える・新しい回答を作る・対象外（市の窓口を案内）にできます"
              "（数秒で窓口の回答に反映）。コマンドなら `kyodo-desk kb faq add` / `kb faq link`。"
              "一覧は Slack の `/kyodo unanswered` か `kyodo-desk kb unanswered --since 日付`。")
QUESTION_MAX = 500  # the question rides in the buttons' value (Slack allows 2,000 characters)
FIXES = (("既存の回答に結びつける", "unanswered_link"), ("新しい回答を作る", "unanswered_answer"), ("対象外", "unanswered_route"))


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
    groups = [g for g in grouped(session, kb, now - timedelta(days=7)) if not g.handled]  # staff fixed those already
    stale = [e for e in kb.entries if e.facts.overdue(today)]
    if not groups and not stale:
        return None
    sections = [Section((f"この1週間に窓口が答えられなかった質問: {sum(g.count for g in groups)}件"
                         f"（似た質問をまとめて{len(groups)}グループ、多い順）。", HOW_TO_FIX),
                        button=("一覧を見る", "unanswered_list", period))]
    for group in groups[:DIGEST_GROUPS]:
        offered = f" ／ 提示した項目: {', '.join(group.entries)}" if group.entries else ""
        question = group.questions[0][:QUESTION_MAX]
        sections.append(Section((f"{group.count}件: " + " ／ ".join(f"「{q}」" for q in group.questions[:DIGEST_EXAMPLES])
                                 + offered,), actions=tuple((label, action, question) for label, action in FIXES)))
    if stale:
        sections.append(Section(("見直しの時期を過ぎた項目: " + "、".join(
            f"{e.id}（{e.facts.review_by}）" for e in stale),)))
    return Post(DIGEST_JOB, period, f"答えられなかった質問のまとめ（{period}）", sections)
