"""What an entry says beyond its text: the sources it cites, the kinds of question it answers,
its dated facts (an application round that closes, a period that ends) and when to review it.

Dated facts are compared with the day of the question, so an answer never presents a closed
round as open or an ended plan period as current.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The kinds of question an entry can answer; see knowledge/kinds.py for how they are recognised.
KINDS = ("where", "when", "how_much", "article", "count", "phone", "who", "how", "what", "can", "why", "difference")
FIELDS = ("cites", "kinds", "still_answers", "closes", "period", "review_by")


@dataclass(frozen=True)
class DatedFact:
    label: str  # what ends, as a citizen reads it: 「2026年度第2回の受付」「この計画の期間（2016〜2020年度）」
    ends: dt.date  # the last day it holds
    closing: bool  # True: a deadline (受付…終了しました); False: a period (…終了しています)

    def note(self, today: dt.date) -> str:
        """A sentence for the top of the answer, comparing the fact with today."""
        if today <= self.ends:
            return f"{self.label}は{japanese_date(self.ends)}までです。" if self.closing else ""
        if self.closing:
            return f"{self.label}は{japanese_date(self.ends)}で終了しました。"
        return f"{self.label}は終了しています。"


@dataclass(frozen=True)
class EntryFacts:
    cites: tuple[str, ...] = ()  # ids in the folder's sources.yaml
    kinds: tuple[str, ...] = ()  # kinds of question it answers, beyond what its text shows
    still_answers: tuple[str, ...] = ()  # of an `unconfirmed` entry: the kinds its body does answer (article)
    dated: tuple[DatedFact, ...] = ()
    review_by: dt.date | None = None  # after this day, the answer says the information may be stale

    def notes(self, today: dt.date) -> tuple[str, ...]:
        return tuple(note for fact in self.dated if (note := fact.note(today)))

    def overdue(self, today: dt.date) -> bool:
        return self.review_by is not None and today > self.review_by


def japanese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def parse_facts(raw: dict, entry_id: str) -> tuple[EntryFacts, list[str]]:
    """The optional fields of one entry, and a message for each one that is malformed."""
    problems: list[str] = []
    cites = _strings(raw.get("cites"), "cites", problems)
    kinds = _strings(raw.get("kinds"), "kinds", problems)
    still_answers = _strings(raw.get("still_answers"), "still_answers", problems)
    problems.extend(f"kind {k!r} is not one of {', '.join(KINDS)}" for k in (*kinds, *still_answers) if k not in KINDS)
    if still_answers and not raw.get("unconfirmed"):
        problems.append("still_answers is only for an entry marked unconfirmed")
    dated = []
    for key, closing in (("closes", True), ("period", False)):
        if raw.get(key) is not None:
            fact = _dated(raw[key], key, closing, problems)
            if fact:
                dated.append(fact)
    review_by = _date(raw.get("review_by"), "review_by", problems) if raw.get("review_by") is not None else None
    facts = EntryFacts(cites, kinds, still_answers, tuple(dated), review_by)
    return facts, [f"{entry_id}: {p}" for p in problems]


def _strings(value: object, name: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{name} must be a list of ids")
        return ()
    return tuple(v.strip() for v in value)


def _dated(value: object, key: str, closing: bool, problems: list[str]) -> DatedFact | None:
    if not isinstance(value, dict) or not str(value.get("label") or "").strip() or value.get("ends") is None:
        problems.append(f"{key} needs label: and ends: (YYYY-MM-DD)")
        return None
    ends = _date(value["ends"], f"{key}.ends", problems)
    return DatedFact(str(value["label"]).strip(), ends, closing) if ends else None


def _date(value: object, name: str, problems: list[str]) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{name} {value!r} is not a date (YYYY-MM-DD)")
        return None
