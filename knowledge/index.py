"""The search index: BM25 (bm25s) over several fields of each entry, fused, with a confidence.

Fields: `text` (terms of title and body), `title`, `questions` (how citizens ask, FAQ entries)
and `bigram` (character bigrams of everything). Their scores are summed with weights. The
confidence says how much of the question the best entry actually covers: the share of the
question's term weight (IDF) found in it, with bigram coverage as a second opinion for words
the dictionary does not know. A question about something the knowledge base never mentions
(ごみ, 印鑑) leaves most of its weight uncovered, so the desk declines instead of guessing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import bm25s
import numpy as np

from knowledge.analysis import Analysis, Analyzer, Unit, bigrams
from knowledge.entries import Entry

FIELD_WEIGHTS = {"text": 1.0, "title": 0.6, "questions": 0.8, "source": 0.15, "pairs": 0.5, "bigram": 0.15,
                 "title_bigram": 0.3, "reading_bigram": 0.3}
IDENTIFIER_WEIGHT = 2.0
TERM_COVERAGE_SHARE = 0.75
# A dictionary word the knowledge base never uses (図書館, 住民票) is a topic outside the desk:
# it weighs more than an unknown string, which is more often a typo left to the bigrams.
FOREIGN_TOPIC_WEIGHT = 2.0
PREDICATE_WEIGHT = 0.35  # verbs and adjectives: people paraphrase them (閉まる / 休館)
SHORT_WORD_WEIGHT = 0.3  # one-character words (前, 元, め) say little
PART_CREDIT = 0.7
KANA_CREDIT = 0.8  # a word in kana whose reading the entry has (こうみんかん / 公民館)  # a compound the entry lacks, whose parts it has (専門学校 / 専修学校)


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    confidence: float
    query_terms: tuple[str, ...]


@dataclass(frozen=True)
class DocumentFields:
    text: list[str]
    title: list[str]
    source: list[str]  # 「条例 第10条」「基本施策11」: people cite these
    pairs: list[str]  # adjacent words: rewards the question's phrase, not just its words
    questions: list[str]
    bigram: list[str]
    title_bigram: list[str]
    reading_bigram: list[str]  # of the katakana reading: finds じちかい in 自治会
    reading: str

    def field(self, name: str) -> list[str]:
        return getattr(self, name)


def analyze_entry(entry: Entry, analyzer: Analyzer) -> DocumentFields:
    questions = "\n".join(entry.questions)
    text = analyzer.analyze(f"{entry.title}\n{entry.body}\n{questions}")
    return DocumentFields(
        text=analyzer.terms(f"{entry.title}\n{entry.body}"),
        pairs=word_pairs(text.forms),
        title=analyzer.terms(entry.title),
        source=analyzer.terms(entry.source),
        questions=analyzer.terms(questions),
        bigram=bigrams(f"{entry.title}\n{entry.body}\n{questions}"),
        title_bigram=bigrams(entry.title),
        reading_bigram=bigrams(text.reading),
        reading=text.reading,
    )


class KnowledgeIndex:
    def __init__(self, entries: list[Entry], documents: list[DocumentFields]):
        self.entries = entries
        self.by_id = {e.id: e for e in entries}
        self._bm25: dict[str, bm25s.BM25] = {}
        for name in FIELD_WEIGHTS:
            retriever = bm25s.BM25()
            retriever.index([doc.field(name) for doc in documents], show_progress=False)
            self._bm25[name] = retriever
        self._doc_terms = [frozenset(d.text) | frozenset(d.questions) for d in documents]
        self._doc_bigrams = [frozenset(d.bigram) for d in documents]
        self._doc_readings = [d.reading for d in documents]
        n = len(documents)
        df: dict[str, int] = {}
        for terms in self._doc_terms:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        self._idf = {t: _idf(n, c) for t, c in df.items()}
        self._idf_unknown = _idf(n, 0)

    @classmethod
    def build(cls, entries: list[Entry], analyzer: Analyzer) -> KnowledgeIndex:
        return cls(entries, [analyze_entry(e, analyzer) for e in entries])

    def search(self, query: Analysis, k: int = 5) -> SearchResult:
        terms = tuple(dict.fromkeys(query.terms))
        grams = list(dict.fromkeys(query.bigrams))
        if not terms and not grams:
            return SearchResult([], 0.0, terms)
        scores = np.zeros(len(self.entries), dtype=np.float32)
        for name, weight in FIELD_WEIGHTS.items():
            tokens = self._query_tokens(name, query, terms, grams)
            if tokens:
                scores += weight * self._bm25[name].get_scores(tokens)
        identifiers = [u.form for u in query.units if u.identifier]
        if identifiers:  # 第10条 names one article: entries titled or sourced by it come first
            for name in ("title", "source"):
                scores += IDENTIFIER_WEIGHT * self._bm25[name].get_scores(identifiers)
        k = min(k, len(self.entries))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = [Hit(self.entries[i], float(scores[i])) for i in top if scores[i] > 0]
        confidence = self._confidence(int(top[0]), query) if hits else 0.0
        return SearchResult(hits, confidence, terms)

    @staticmethod
    def _query_tokens(field: str, query: Analysis, terms: tuple[str, ...], grams: list[str]) -> list[str]:
        if field in ("bigram", "title_bigram"):
            return grams
        if field == "reading_bigram":
            return list(dict.fromkeys(query.reading_bigrams))
        if field == "pairs":
            return word_pairs(query.forms)
        return list(terms)

    def _confidence(self, doc: int, query: Analysis) -> float:
        units = list({u.form: u for u in query.units}.values())
        present = self._doc_terms[doc]
        total = covered = 0.0
        for unit in units:
            weight, share = self._unit_weight(unit), 1.0 if unit.form in present else 0.0
            if not share and unit.kana_only and len(unit.reading) >= 3 and unit.reading in self._doc_readings[doc]:
                share = KANA_CREDIT
            if not share and unit.parts:
                share = PART_CREDIT * sum(len(p) > 1 and p in present for p in unit.parts) / len(unit.parts)
            total += weight
            covered += weight * share
        term_cov = covered / total if total else 0.0
        grams = set(query.bigrams)
        gram_cov = len(grams & self._doc_bigrams[doc]) / len(grams) if grams else 0.0
        if not units:
            return gram_cov * (1 - TERM_COVERAGE_SHARE)
        return TERM_COVERAGE_SHARE * term_cov + (1 - TERM_COVERAGE_SHARE) * gram_cov

    def _unit_weight(self, unit: Unit) -> float:
        idf = self._idf.get(unit.form)
        if idf is None:
            known_parts = any(len(p) > 1 and p in self._idf for p in unit.parts)
            foreign = unit.content and unit.in_dictionary and not known_parts and not unit.kana_only
            idf = self._idf_unknown * (FOREIGN_TOPIC_WEIGHT if foreign else 1.0)
        if not unit.content:
            return idf * PREDICATE_WEIGHT
        return idf * (SHORT_WORD_WEIGHT if len(unit.surface) == 1 else 1.0)


def word_pairs(units: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(units, units[1:])]


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
