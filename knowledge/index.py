"""The search index: BM25 (bm25s) over several fields of each entry, fused, with a confidence.

Fields: `text` (terms of title and body), `title`, `questions` (how citizens ask, FAQ entries)
and `bigram` (character bigrams of everything). Their scores are summed with weights. The
confidence says how much of the question the best entry actually covers: the share of the
question's term weight (IDF) found in it, with bigram coverage as a second opinion for words
the dictionary does not know. A question about something the knowledge base never mentions
(ごみ, 印鑑) leaves most of its weight uncovered, so the desk declines instead of guessing.

Ranking prefers, among the close candidates, an entry that answers the kind of question asked
(knowledge/kinds.py): 「いつ」 favours the entry with the dates. The confidence here is the
coverage; knowledge/calibration.py turns it, with the margin and the kind, into a probability.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import bm25s
import numpy as np

from knowledge.analysis import Analysis, Analyzer, Unit, bigrams, normalize
from knowledge.entries import Entry
from knowledge.kana import KanaReader
from knowledge.kinds import defined_term, entry_kinds

# Chosen by coordinate search on the tuning sets without their phrasings (bench/calibrate.py --unphrased),
# one half of the sets choosing and the other confirming.
FIELD_WEIGHTS = {"text": 0.5, "title": 0.45, "questions": 0.8, "source": 0.2, "pairs": 0.5, "bigram": 0.15,
                 "title_bigram": 0.3, "reading_bigram": 0.6}
IDENTIFIER_WEIGHT = 4.0
TERM_COVERAGE_SHARE = 0.75
# A dictionary word the knowledge base never uses (図書館, 住民票) is a topic outside the desk:
# it weighs more than an unknown string, which is more often a typo left to the bigrams.
FOREIGN_TOPIC_WEIGHT = 2.0
PREDICATE_WEIGHT = 0.35  # verbs and adjectives: people paraphrase them (閉まる / 休館)
SHORT_WORD_WEIGHT = 0.3  # one-character words (前, 元, め) say little
PART_CREDIT = 0.7  # a compound the entry lacks, whose parts it has (専門学校 / 専修学校)
KANA_CREDIT = 0.8  # a word in kana whose reading the entry has (こうみんかん / 公民館)
KIND_BONUS = 0.19  # score bonus for an entry that answers the kind of question asked
# ... larger where few entries answer that kind: comparing things (asked how they differ), giving a
# reason (asked why), or naming an article (asked 「何条？」, the ordinance's entries compete with the
# FAQs retelling them)
RARE_KIND_BONUS = {"difference": 0.5, "why": 0.5, "article": 0.5}
# Up to this many entries a question's BM25 scores are read from the matrices and summed in one
# bincount; a larger index (a synthetic benchmark) is scored by bm25s field by field, in place,
# which copies less of its long postings
SMALL_INDEX = 5000
RERANK_POOL = 10  # candidates the kind bonus may reorder
DEFINITION_BONUS = 1.0  # for the entry that defines the term a 'what is' question asks about


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    confidence: float  # coverage of the question by the top entry (0..1)
    query_terms: tuple[str, ...]
    kind: str | None = None  # the kind of question (knowledge/kinds.py)
    kind_match: bool = False  # the top entry answers that kind
    defines: bool = False  # the top entry defines the term asked about (「協働とは」 for 「協働ってなに」)
    foreign: bool = False  # the question names a topic (a dictionary noun) no entry mentions

    @property
    def unconfirmed_top(self) -> bool:
        """The best entry only says the sources do not give what it is asked: declined whatever the score
        (unless asked what its body does say: 「協働の原則は何条？」 of the articles whose text it lacks)."""
        top = self.hits[0].entry if self.hits else None
        return bool(top and top.unconfirmed and self.kind not in top.facts.still_answers)

    @property
    def margin(self) -> float:
        """How far the top entry leads the runner-up, as a share of its score."""
        if not self.hits:
            return 0.0
        second = self.hits[1].score if len(self.hits) > 1 else 0.0
        return (self.hits[0].score - second) / self.hits[0].score


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
    nouns: list[tuple[str, str]]  # (reading, word) of its written nouns: for questions typed in hiragana

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
        nouns=analyzer.written_nouns(f"{entry.title}\n{entry.body}"),
    )


@dataclass(frozen=True)
class IndexParts:
    """What an index is made of once its entries are analysed (saved by knowledge/index_cache.py)."""
    entries: list[Entry]
    retrievers: dict[str, bm25s.BM25]  # one per field of FIELD_WEIGHTS
    doc_terms: list[frozenset[str]]
    doc_bigrams: list[frozenset[str]]
    readings: list[str]
    kinds: list[frozenset[str]]  # the kinds of question each entry answers
    definitions: dict[str, list[int]]  # a defined term → the entries defining it
    kana: KanaReader = field(default_factory=KanaReader)  # the knowledge's nouns by reading
    lone_words: dict[str, list[int]] = field(default_factory=dict)  # a word asked alone → the entries introducing it


class KnowledgeIndex:
    def __init__(self, entries: list[Entry], documents: list[DocumentFields]):
        retrievers: dict[str, bm25s.BM25] = {}
        for name in FIELD_WEIGHTS:
            retriever = bm25s.BM25()
            retriever.index([doc.field(name) for doc in documents], show_progress=False)
            retrievers[name] = retriever
        definitions: dict[str, list[int]] = {}
        lone_words: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            term = defined_term(entry)
            if term:
                definitions.setdefault(term, []).append(i)
            for word in dict.fromkeys(map(normalize, entry.defines)):
                lone_words.setdefault(word, []).append(i)
        self._set_up(IndexParts(entries, retrievers, [frozenset(d.text) | frozenset(d.questions) for d in documents],
                                [frozenset(d.bigram) for d in documents], [d.reading for d in documents],
                                [entry_kinds(e) for e in entries], definitions,
                                KanaReader.of(pair for d in documents for pair in d.nouns), lone_words))

    @classmethod
    def build(cls, entries: list[Entry], analyzer: Analyzer) -> KnowledgeIndex:
        return cls(entries, [analyze_entry(e, analyzer) for e in entries])

    @classmethod
    def restore(cls, parts: IndexParts) -> KnowledgeIndex:
        """The index from its saved parts, without analysing any entry again."""
        index = cls.__new__(cls)
        index._set_up(parts)
        return index

    def parts(self) -> IndexParts:
        return IndexParts(self.entries, dict(self._bm25), self._doc_terms, self._doc_bigrams, self._doc_readings,
                          self._kinds, self._definitions, self.kana, self._lone_words)

    def _set_up(self, parts: IndexParts) -> None:
        self.entries = parts.entries
        self.by_id = {e.id: e for e in parts.entries}
        self._bm25 = parts.retrievers
        if any(r.nonoccurrence_array is not None for r in parts.retrievers.values()):
            raise ValueError("bm25_scores reads the lucene variant only (no score for absent tokens)")
        self._matrices = {name: (r.vocab_dict, r.scores["indptr"].tolist(), r.scores["indices"], r.scores["data"])
                          for name, r in parts.retrievers.items()} if len(parts.entries) <= SMALL_INDEX else {}
        self._posting_cache: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self._doc_terms, self._doc_bigrams, self._doc_readings = parts.doc_terms, parts.doc_bigrams, parts.readings
        self._kinds, self._definitions, self.kana = parts.kinds, parts.definitions, parts.kana
        self._lone_words = parts.lone_words
        n = len(parts.entries)
        df: dict[str, int] = {}
        for terms in self._doc_terms:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        self._idf = {t: _idf(n, c) for t, c in df.items()}
        self._idf_unknown = _idf(n, 0)

    def search(self, query: Analysis, k: int = 5, kind: str | None = None, term: str | None = None,
               factors: np.ndarray | None = None) -> SearchResult:
        """The best k entries; `factors` (one per entry, knowledge/score_factors.py) scale their scores."""
        terms = tuple(dict.fromkeys(query.terms))
        grams = list(dict.fromkeys(query.bigrams))
        if not terms and not grams:
            return SearchResult([], 0.0, terms)
        scores = self.bm25_scores(query, terms, grams)
        if factors is not None:
            scores *= factors
        defining = self._defining(term)
        top = self._ranked(scores, k, kind, defining)
        hits = [Hit(self.entries[i], float(scores[i])) for i in top if scores[i] > 0]
        first = int(top[0])
        return SearchResult(
            hits, self._confidence(first, query, grams) if hits else 0.0, terms, kind,
            # a 'what is' question about a term no entry defines (ESD) is not answered by a definition of another
            kind_match=bool(hits) and kind in self._kinds[first] and not (kind == "what" and term and not defining),
            defines=bool(hits) and first in defining,
            foreign=any(self._foreign(unit) for unit in query.units),
        )

    def bm25_scores(self, query: Analysis, terms: tuple[str, ...], grams: list[str]) -> np.ndarray:
        """Each entry's BM25 scores over the fields, weighted and summed: for the knowledge base's size
        read straight from the bm25s matrices in one bincount (bm25s's own get_scores adds each token
        with np.add.at, which was the larger part of a question's time)."""
        asked = [(name, weight, self._query_tokens(name, query, terms, grams)) for name, weight in FIELD_WEIGHTS.items()]
        identifiers = [u.form for u in query.units if u.identifier]
        if identifiers:  # 第10条 names one article: entries titled or sourced by it come first
            asked += [(name, IDENTIFIER_WEIGHT, identifiers) for name in ("title", "source")]
        if len(self.entries) > SMALL_INDEX:
            return sum((weight * self._bm25[name].get_scores(tokens) for name, weight, tokens in asked if tokens),
                       np.zeros(len(self.entries), dtype=np.float32))
        docs, values = [], []
        for name, weight, tokens in asked:
            postings = [p for p in map(self._postings(name), tokens) if p is not None]
            if postings:
                docs += [entries for entries, _ in postings]
                values.append(weight * np.concatenate([scores for _, scores in postings]))
        if not docs:
            return np.zeros(len(self.entries))
        return np.bincount(np.concatenate(docs), np.concatenate(values), len(self.entries))

    def _postings(self, name: str) -> Callable[[str], tuple[np.ndarray, np.ndarray] | None]:
        """A token's entries and scores in a field (views of the bm25s matrix), kept once read:
        questions reuse the same few thousand tokens. Only the field's own tokens are kept, so odd
        input cannot grow it; None for a token the field lacks."""
        cache = self._posting_cache.setdefault(name, {})
        vocab, starts, field_docs, field_values = self._matrices[name]

        def posting(token: str) -> tuple[np.ndarray, np.ndarray] | None:
            found = cache.get(token)
            if found is None and token in vocab:
                i = vocab[token]
                found = cache[token] = (field_docs[starts[i]:starts[i + 1]], field_values[starts[i]:starts[i + 1]])
            return found
        return posting

    def knows(self, term: str) -> bool:
        """Whether an entry uses the (normalized) term."""
        return term in self._idf

    def defined(self, term: str) -> bool:
        return bool(self._defining(term))

    def defined_terms(self) -> tuple[str, ...]:
        """Every term an entry defines, by its title or its `defines`."""
        return tuple(dict.fromkeys([*self._definitions, *self._lone_words]))

    def _defining(self, term: str | None) -> list[int]:
        """The entries defining the term asked about (by their title, or a word they introduce:
        `defines`), or the longest term defined by a title that it ends with (市民協働 → 協働)."""
        if not term:
            return []
        if term in self._lone_words:
            return self._lone_words[term]
        for start in range(len(term) - 1):
            found = self._definitions.get(term[start:])
            if found:
                return found
        return []

    def _ranked(self, scores: np.ndarray, k: int, kind: str | None, defining: list[int]) -> np.ndarray:
        """The best k documents, best first: an entry answering the kind asked gets a bonus, and
        the entry defining the term asked about a larger one; asked a kind few entries answer (how
        things differ, why, which article), those entries compete however far down they are."""
        pool = min(max(k, RERANK_POOL), len(self.entries))
        answering = [i for i, shown in enumerate(self._kinds) if kind in shown and scores[i] > 0] \
            if kind in RARE_KIND_BONUS else []
        top = np.array(sorted({*np.argpartition(-scores, pool - 1)[:pool].tolist(), *defining, *answering}))
        for i in top:
            if kind and kind in self._kinds[i]:
                scores[i] *= 1 + RARE_KIND_BONUS.get(kind, KIND_BONUS)
        best = float(scores[top].max())
        for i in defining:
            scores[i] += best * DEFINITION_BONUS
        top = top[np.argsort(-scores[top], kind="stable")]
        return top[:min(k, len(self.entries))]

    def _foreign(self, unit: Unit) -> bool:
        """A dictionary noun of two or more characters that no entry uses, nor its parts (図書館)."""
        return unit.form not in self._idf and len(unit.surface) > 1 and self._unknown_topic(unit)

    def _unknown_topic(self, unit: Unit) -> bool:
        """A dictionary noun naming something (not 大変, not kana, not an English word: "poor") of which
        no entry uses even a part."""
        return (unit.content and unit.in_dictionary and not unit.kana_only and not unit.describes
                and not unit.english_word and not any(len(p) > 1 and p in self._idf for p in unit.parts))

    @staticmethod
    def _query_tokens(field: str, query: Analysis, terms: tuple[str, ...], grams: list[str]) -> list[str]:
        if field in ("bigram", "title_bigram"):
            return grams
        if field == "reading_bigram":
            return list(dict.fromkeys(query.reading_bigrams))
        if field == "pairs":
            return word_pairs(query.forms)
        return list(terms)

    def _confidence(self, doc: int, query: Analysis, grams: list[str]) -> float:
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
        gram_cov = len(self._doc_bigrams[doc].intersection(grams)) / len(grams) if grams else 0.0
        if not units:
            return gram_cov * (1 - TERM_COVERAGE_SHARE)
        return TERM_COVERAGE_SHARE * term_cov + (1 - TERM_COVERAGE_SHARE) * gram_cov

    def _unit_weight(self, unit: Unit) -> float:
        idf = self._idf.get(unit.form)
        if idf is None:
            idf = self._idf_unknown * (FOREIGN_TOPIC_WEIGHT if self._unknown_topic(unit) else 1.0)
        if not unit.content:
            return idf * PREDICATE_WEIGHT
        return idf * (SHORT_WORD_WEIGHT if len(unit.surface) == 1 else 1.0)


def word_pairs(units: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(units, units[1:], strict=False)]


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
