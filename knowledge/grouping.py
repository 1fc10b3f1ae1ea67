"""Grouping questions that ask the same thing, for staff: a greedy pass by word overlap.

Each question's words are its content terms (knowledge/analysis.py: Sudachi normalized forms,
the office's synonyms folded), so 「申込み」 and 「申し込み」 count as one word. A question joins
the first group whose words it shares enough of; otherwise it starts a group.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.analysis import Analyzer, fold

SIMILAR = 0.5  # shared words / the smaller question's words


@dataclass
class Group:
    members: list[int] = field(default_factory=list)  # indexes into the questions, in their order
    words: set[str] = field(default_factory=set)  # the first question's words


def words_of(question: str, analyzer: Analyzer) -> set[str]:
    """The content words of a question (its folded text when it has none, so that 'ok' and 'ok' match)."""
    units = analyzer.analyze(question).units
    return {u.form for u in units if u.content and u.form not in analyzer.question_words} or {fold(question)}


def group_questions(questions: list[str], analyzer: Analyzer, similar: float = SIMILAR) -> list[list[int]]:
    """Indexes of the questions, grouped; the largest group first (ties: the earliest first)."""
    groups: list[Group] = []
    for i, question in enumerate(questions):
        words = words_of(question, analyzer)
        home = next((g for g in groups if _overlap(words, g.words) >= similar), None)
        if home is None:
            home = Group(words=words)
            groups.append(home)
        home.members.append(i)
    ordered = sorted(groups, key=lambda g: (-len(g.members), g.members[0]))
    return [g.members for g in ordered]


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0
