"""Scoring the knowledge answers on a question set (the format of shared/eval/dev-questions.jsonl)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.analysis import fold
from knowledge.answers import Answer, answer_from_entry
from knowledge.base import KnowledgeBase
from knowledge.entries import Entry


def satisfies(text: str, expect: list[list[str]]) -> bool:
    folded = fold(text)
    return all(any(fold(alt) in folded for alt in group) for group in expect)


@dataclass
class Case:
    id: str
    q: str
    expect: list[list[str]] | None
    confidence: float
    top1: bool  # the entry answered with (or, declined, the best entry) holds the expected facts
    top3: bool
    abstained: bool
    offered: bool = False  # declined, with an entry holding the expected facts among its 「もしかして」 buttons
    not_in_sources: bool = False  # in the desk's remit, but the sources do not answer it
    maybe: bool = False  # declined with 「もしかして」 buttons, right or not


@dataclass
class Report:
    cases: list[Case] = field(default_factory=list)

    @property
    def answerable(self) -> list[Case]:
        return [c for c in self.cases if c.expect is not None]

    @property
    def out_of_scope(self) -> list[Case]:
        return [c for c in self.cases if c.expect is None]

    @staticmethod
    def rate(cases: list[Case], predicate) -> float:
        return sum(1 for c in cases if predicate(c)) / len(cases) if cases else 0.0

    def at_threshold(self, threshold: float) -> tuple[float, float]:
        """(top-1 hit rate, share of out-of-scope questions declined) at this confidence threshold."""
        top1 = self.rate(self.answerable, lambda c: c.top1 and c.confidence >= threshold)
        declined = self.rate(self.out_of_scope, lambda c: c.confidence < threshold)
        return top1, declined

    def reliability(self, threshold: float) -> tuple[float, int]:
        """(share of the answers given that are right, number of answers given) at this threshold:
        an answer to a question outside the desk counts as wrong."""
        given = [c for c in self.cases if c.confidence >= threshold]
        return self.rate(given, lambda c: c.top1), len(given)


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def answer_text(answer: Answer) -> str:
    """What the eval format scores: the answer plus its source titles."""
    return answer.text + "\n" + "\n".join(s["title"] for s in answer.sources)


def evaluate(kb: KnowledgeBase, questions: list[dict], today: dt.date | None = None) -> Report:
    """Each question asked on the day `today` (default: the machine's date)."""
    report = Report()
    for item in questions:
        expect = None if item.get("abstain") else item["expect"]
        answer = kb.ask(item["q"], today=today)
        hits = kb.search(item["q"], k=3).hits
        passing = [holds(kb, h.entry, expect, today) for h in hits]
        offered = any(holds(kb, kb.entry(m.id), expect, today) for m in answer.maybe)
        given = kb.entry(answer.entry_id) if answer.entry_id and not answer.abstained else None
        top1 = holds(kb, given, expect, today) if given else bool(passing and passing[0])  # the entry answered with
        report.cases.append(Case(
            item["id"], item["q"], expect, answer.confidence,
            top1=top1, top3=any(passing), abstained=answer.abstained, offered=offered,
            not_in_sources=bool(item.get("not_in_sources")), maybe=bool(answer.maybe),
        ))
    return report


def holds(kb: KnowledgeBase, entry: Entry | None, expect: list[list[str]] | None, today: dt.date | None = None) -> bool:
    """Whether the entry, as an answer, holds the expected facts."""
    return entry is not None and expect is not None and satisfies(
        answer_text(answer_from_entry(entry, kb.context(today))), expect)
