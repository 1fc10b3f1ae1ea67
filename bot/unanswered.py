"""What citizens asked that the desk could not answer well, grouped for staff (`kb unanswered`,
`/kyodo unanswered` and the weekly digest, bot/digest.py): declined questions, answers marked 違う,
answers given with low confidence."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from knowledge.base import KnowledgeBase, phrasing_key
from knowledge.grouping import group_questions
from store import notes
from store import overlay as staff_rows
from store.overlay import ANSWER, LINK, ROUTE

EXAMPLES = 5
SHOWN_CHARS = 200  # of a question in a listing: a 5,000-character paste is cut
KIND_NAMES = {"declined": "お答えできず", "partial": "一部お答えできず", "wrong": "違う", "low_confidence": "自信が低い回答"}


@dataclass(frozen=True)
class UnansweredGroup:
    count: int
    questions: tuple[str, ...]  # distinct wordings, newest first (at most EXAMPLES)
    kinds: dict[str, int]  # declined / partial / wrong / low_confidence → how many
    entries: dict[str, int]  # the entries that were offered → how many times
    last: datetime
    handled: str = ""  # what staff made of it after its newest question: an entry id, 対象外, or "" (not yet)

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(q if len(q) <= SHOWN_CHARS else q[:SHOWN_CHARS] + "…" for q in self.questions)

    @property
    def handled_note(self) -> str:
        return f"（対応済み: {self.handled}）" if self.handled else ""

    def as_json(self) -> dict:
        return {"count": self.count, "questions": list(self.questions), "kinds": self.kinds,
                "entries": self.entries, "last": self.last.isoformat(), "handled": self.handled}


def grouped(session: Session, kb: KnowledgeBase, since: datetime | None = None) -> list[UnansweredGroup]:
    """The unanswered questions since a moment, in groups of similar ones, the largest first, each
    marked with what staff have since made of it (in `kb`, the files with the staff-made knowledge)."""
    rows = notes.unanswered(session, since)
    changes = staff_rows.rows(session)
    tied_at = {phrasing_key(r.question): r.created_at for r in changes if r.kind in (LINK, ANSWER)}
    routed_at = {r.title: r.created_at for r in changes if r.kind == ROUTE}
    out = []
    for members in group_questions([row.question for row in rows], kb.analyzer):
        picked = [rows[i] for i in members]
        questions = tuple(dict.fromkeys(row.question for row in picked))[:EXAMPLES]
        last = max(row.created_at for row in picked)
        fixes = (_staff_fix(kb, q, tied_at, routed_at) for q in questions)
        out.append(UnansweredGroup(
            count=len(picked),
            questions=questions,
            handled=next((what for what, when in filter(None, fixes) if when >= last), ""),
            kinds=dict(Counter(row.kind for row in picked).most_common()),
            entries=dict(Counter(row.entry_id for row in picked if row.entry_id).most_common()),
            last=last,
        ))
    return out


def _staff_fix(kb: KnowledgeBase, question: str, tied_at: dict[str, datetime],
               routed_at: dict[str, datetime]) -> tuple[str, datetime] | None:
    """What staff made of a question (the entry they tied it to, or 対象外) and when; a group counts as
    handled only by a fix newer than its newest question (違う on the fixed answer keeps it listed)."""
    key = phrasing_key(question)
    entry_id = kb.staff_phrasings.get(key)
    if entry_id and kb.entry(entry_id) is not None and key in tied_at:
        return entry_id, tied_at[key]
    for route, _ in kb.routing.matches(question):
        if route.staff and route.topic in routed_at:
            return "対象外", routed_at[route.topic]
    return None

