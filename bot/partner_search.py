"""Searching the directory of groups in memory: BM25 over what each group is and does, with the
fields, areas and kinds a question names as filters.

The index is built from the table's rows (GroupCard, a plain copy) and rebuilt when the table
changes (bot/partners.py watches a stamp). A query is read twice: the vocabulary of
partner-fields.yaml finds the fields, areas and kinds it names (「北区で防災をやっている団体」→
field 防災, area 北区), and the rest of it is analysed like a knowledge question (Sudachi, the
office's synonyms) and scored against each group's name, offers and seeks.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from knowledge.analysis import Analyzer, normalize
from knowledge.partner_vocabulary import Mentions, PartnerVocabulary

PAGE_SIZE = 5
# Who the person is, said first: 「大学生です。」「町内会の役員ですが、」「高校生だけど」
_INTRODUCTION = re.compile(r"^[^。！？!?]{1,30}?(です|でございます|ですが|なんですが|だけど|なんだけど|をしています|をしております)"
                           r"[。、!！]")
# …or named as theirs: 「うちの町内会、若い人がおらん」「私たちのNPOと組める企業」 (up to the next particle)
_OWN = re.compile(r"(?:(?<![そこあどの])うち|私たち|わたしたち|僕ら|ぼくら|我々|われわれ|自分たち|弊社|当法人)"
                  r"の?[^、。！？!?\sでがはをにもとや]{0,10}")
FIELD_WEIGHT = 3.0  # per field of the question the group works in
AREA_WEIGHT = 1.5  # the group works in the very area named (市内全域 counts, but less)
CITYWIDE_WEIGHT = 0.5
# Among groups equal on the fields and areas named, those whose own words say them (「防災士の会」 for 防災,
# 「子ども食堂を開いています」 for 子ども食堂) first: a tie-break, well below a field's weight.
NAMED_WORDS_WEIGHT = 0.2
BM25_K1, BM25_B = 1.2, 0.75
PUBLIC = "公開"


@dataclass(frozen=True)
class GroupCard:
    """One group as the directory shows it (a copy of its row, safe to share between threads)."""
    id: int
    name: str
    kind: str
    fields: tuple[str, ...]
    areas: tuple[str, ...]
    offers: str
    seeks: str
    contact: str
    contact_public: bool
    url: str
    confirmed_on: date | None
    status: str

    @property
    def public_contact(self) -> str:
        """What a citizen may be told: the contact itself, or nothing (then: through the centre)."""
        return self.contact if self.contact_public else ""


@dataclass(frozen=True)
class Hit:
    group: GroupCard
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[Hit, ...]
    total: int  # groups that qualify, over all pages
    next_cursor: str | None  # pass back for the next page; None on the last one
    understood: Mentions  # the fields, areas and kinds read from the question


class InvalidCursor(ValueError):
    """A cursor this directory did not hand out."""


class GroupIndex:
    def __init__(self, cards: list[GroupCard], vocabulary: PartnerVocabulary, analyzer: Analyzer):
        self.cards, self.vocabulary, self.analyzer = cards, vocabulary, analyzer
        n = len(cards)
        self.public = np.fromiter((c.status == PUBLIC for c in cards), dtype=bool, count=n)
        self._fields = _masks(n, ((i, f) for i, c in enumerate(cards) for f in c.fields))
        self._areas = _masks(n, ((i, a) for i, c in enumerate(cards) for a in c.areas))
        self._kinds = _masks(n, ((i, c.kind) for i, c in enumerate(cards)))
        self._postings, self.terms_of = self._bm25_postings([self.text_terms(_document(c)) for c in cards])
        # Among equals, the most recently confirmed group first (then the newest): a total order, stable pages.
        order = sorted(range(n), key=lambda i: (cards[i].confirmed_on or date.min, cards[i].id))
        self._tiebreak = np.zeros(n)
        self._tiebreak[order] = np.arange(n) / max(n, 1) * 1e-3

    def text_terms(self, text: str) -> list[str]:
        generic = self.vocabulary.generic_words
        return [t for t in self.analyzer.terms(text) if t not in generic]

    def _bm25_postings(self, documents: list[list[str]]):
        counts = [Counter(terms) for terms in documents]
        average = sum(len(d) for d in documents) / max(len(documents), 1) or 1.0
        by_term: dict[str, list[tuple[int, float]]] = {}
        for doc, counter in enumerate(counts):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * len(documents[doc]) / average)
            for term, tf in counter.items():
                by_term.setdefault(term, []).append((doc, tf * (BM25_K1 + 1) / (tf + norm)))
        n = len(documents)
        postings = {}
        for term, items in by_term.items():
            idf = math.log(1 + (n - len(items) + 0.5) / (len(items) + 0.5))
            postings[term] = (np.array([d for d, _ in items], dtype=np.int64),
                              np.array([w * idf for _, w in items]))
        return postings, [frozenset(c) for c in counts]

    def text_scores(self, terms: list[str]) -> np.ndarray:
        scores = np.zeros(len(self.cards))
        for term in dict.fromkeys(terms):
            posting = self._postings.get(term)
            if posting is not None:
                scores[posting[0]] += posting[1]  # a term occurs once per posting: no repeated indices
        return scores

    def search(self, query: str, cursor: str | None = None, page_size: int = PAGE_SIZE,
               include_hidden: bool = False) -> SearchPage:
        """Public groups (every group, for staff: `include_hidden`) for a question, best first."""
        offset = _offset(cursor)
        understood = self._sought(query)
        terms = self.text_terms(understood.rest)
        if not (terms or understood.fields or understood.areas or understood.kinds):
            return SearchPage((), 0, None, understood)
        mask, bonus = self.facet_scores(understood, include_hidden)
        text = self.text_scores(terms) + NAMED_WORDS_WEIGHT * self.text_scores(self._field_terms(query, understood))
        if terms and not (understood.fields or understood.areas or understood.kinds):
            mask &= text > 0  # words alone: only groups that have them
        candidates = np.flatnonzero(mask)
        ranked = _top(candidates, (text + bonus + self._tiebreak)[candidates], offset + page_size + 1)
        page = ranked[offset:offset + page_size]
        hits = tuple(Hit(self.cards[i], float(text[i] + bonus[i]), self.reasons(i, understood, terms)) for i in page)
        more = len(candidates) > offset + page_size
        return SearchPage(hits, len(candidates), str(offset + page_size) if more else None, understood)

    def _field_terms(self, query: str, understood: Mentions) -> list[str]:
        """The words the question names its fields with, as typed (子ども食堂, not only 子ども)."""
        folded = normalize(query)
        typed = [w for f in understood.fields for w in (f, *self.vocabulary.fields.get(f, ())) if normalize(w) in folded]
        return self.text_terms(" ".join(typed))

    def _sought(self, query: str) -> Mentions:
        """What the question names, less the kind of group the person says they are (「大学生です。」
        looks for partners, not for schools); their ward and fields still count."""
        understood = self.vocabulary.mentions(query)
        text = normalize(query)
        introduction = _INTRODUCTION.match(text)
        said_of_self = [introduction.group()] if introduction else []
        rest = _OWN.sub("、", text[introduction.end():] if introduction else text)
        said_of_self += _OWN.findall(text)
        if not said_of_self or not understood.kinds:
            return understood
        asked = set(self.vocabulary.mentions(rest).kinds)
        own = set(self.vocabulary.mentions("、".join(said_of_self)).kinds) - asked
        return replace(understood, kinds=tuple(k for k in understood.kinds if k not in own))

    def facet_scores(self, understood: Mentions, include_hidden: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Which public groups (or all, `include_hidden`) qualify for the fields, areas and kinds named, and their bonus."""
        n = len(self.cards)
        mask, bonus = (np.ones(n, dtype=bool) if include_hidden else self.public.copy()), np.zeros(n)
        if understood.fields:
            matched = sum((self._field(f).astype(np.int8) for f in understood.fields), np.zeros(n, dtype=np.int8))
            mask &= matched > 0
            bonus += FIELD_WEIGHT * matched
        if understood.areas:
            exact = np.logical_or.reduce([self._area(a) for a in understood.areas])
            citywide = self._area(self.vocabulary.citywide)
            mask &= exact | citywide
            bonus += AREA_WEIGHT * exact + CITYWIDE_WEIGHT * (citywide & ~exact)
        if understood.kinds:
            mask &= np.logical_or.reduce([self._kinds.get(k, np.zeros(n, dtype=bool)) for k in understood.kinds])
        return mask, bonus

    def _field(self, name: str) -> np.ndarray:
        return self._fields.get(name, np.zeros(len(self.cards), dtype=bool))

    def _area(self, name: str) -> np.ndarray:
        return self._areas.get(name, np.zeros(len(self.cards), dtype=bool))

    def reasons(self, i: int, understood: Mentions, terms: list[str]) -> tuple[str, ...]:
        card, out = self.cards[i], []
        fields = [f for f in understood.fields if f in card.fields]
        if fields:
            out.append("分野: " + "・".join(fields))
        areas = [a for a in understood.areas if a in card.areas]
        if areas or (understood.areas and self.vocabulary.citywide in card.areas):
            out.append("地域: " + "・".join(areas or [self.vocabulary.citywide]))
        words = [t for t in dict.fromkeys(terms) if t in self.terms_of[i]]
        if words:
            out.append("ことば: " + "・".join(words[:3]))
        return tuple(out)


def _document(card: GroupCard) -> str:
    return "\n".join((card.name, card.offers, card.seeks))


def _masks(n: int, pairs) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    for i, name in pairs:
        masks.setdefault(name, np.zeros(n, dtype=bool))[i] = True
    return masks


def _top(candidates: np.ndarray, keys: np.ndarray, count: int) -> list[int]:
    """The `count` candidates with the highest keys, best first."""
    if len(candidates) > count:
        part = np.argpartition(-keys, count - 1)[:count]
        candidates, keys = candidates[part], keys[part]
    return [int(candidates[j]) for j in np.argsort(-keys, kind="stable")]


def _offset(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise InvalidCursor(f"not a page cursor: {cursor[:20]!r}")
    return int(cursor)
