"""The knowledge base a desk answers from: one city's folder, its index (cached) and `ask`."""
from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import logging
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from knowledge import analysis, calibration, facts, index_cache, kana, kinds
from knowledge import entries as entries_module
from knowledge import index as index_module
from knowledge.analysis import Analysis, Analyzer, normalize
from knowledge.answers import (
    ANSWER_THRESHOLD,
    ENGLISH_MAYBE_TEXT,
    RELATED_LIMIT,
    Answer,
    Context,
    Related,
    answer_from_entry,
    compose,
    decline,
    unconfirmed,
    with_gaps,
    with_nearby,
)
from knowledge.calibration import Features
from knowledge.english import ENGLISH_NOTE, JAPANESE_CHARACTER, LATIN_LETTER, Glossary, in_english
from knowledge.entries import Entry, require_entries
from knowledge.grants import GrantGuide, load_grants
from knowledge.index import DocumentFields, Hit, KnowledgeIndex, SearchResult, analyze_entry
from knowledge.overlay import Overlay, laid_over
from knowledge.profile import CityProfile, load_city, load_vocabulary
from knowledge.rewording import Rewording
from knowledge.routing import Route, RoutingTable, load_routing
from knowledge.score_factors import Gates, ProgramNames, ScoreFactors
from knowledge.sources import Source, load_sources

log = logging.getLogger(__name__)

DEFAULT_FOLDER = Path(__file__).parent / "okayama"
SURE = 0.9  # how sure the asking sentences of a long question must be to be answered on their own
VAGUE_MAX_CHARS = 8  # a question this short naming no topic asks nothing in particular (「どこにありますか」)
ASKING_NOUNS = frozenset({"幾ら", "何円", "何時", "何日", "何月", "何人", "何件", "何回", "何年"})  # name no topic
_NOT_WORD = re.compile(r"[\s\W_]+")
AMOUNT_WORDS = frozenset({"補助金", "上限", "補助率", "幾ら", "金額"})  # 「補助金はいくらまで？」 names no program: all apply
# 「それって、ボランティアとはどう違うんですか？」 compares something said before with one thing: the desk keeps
# no earlier answer to know what 「それ」 is, so it asks for both rather than describing the one named
_POINTS_BACK = re.compile(r"^(じゃあ|じゃぁ|では|なら|ちなみに|あと|それなら)?[、,]?"
                          r"(それ|これ|そっち|こっち|そちら|こちら)(って|は|と|とは)")
# 「それって個人でも申し込めますか？」 asks who may take part in something said before, named nowhere
_BARE_BACK_REFERENCE = re.compile(r"^(じゃあ|じゃぁ|では|なら|ちなみに|あと|ほんなら)?[、,]?(それ|あれ)(って|は|も|[、,])"
                                  r"(?!そうと|さておき|(大事|大切|ええ|いい)(じゃ|だ|です|けど))")
BACK_REFERENCE_MAX_CHARS = 30  # longer, the question names what it is about besides 「それ」
UNSAID_SUBJECT_TEXT = ("何についてのご質問でしょうか。この窓口では前のやり取りを引き継げないため、「それ」が何を指すか"
                       "分かりませんでした。「区づくり推進事業は個人でも申し込めますか？」のように、何についてかを添えて"
                       "もう一度お送りください。")
VAGUE_COMPARISON_TEXT = ("何と何の違いをお知りになりたいですか。「協働提案と市民協働推進事業の違い」のように、"
                         "比べたいものを両方書いて、もう一度お送りください。")
UNCOMPARED = 0.5  # the most a 「AとBの違い」 answer from an entry comparing nothing may be trusted (below the threshold)


@dataclass(frozen=True)
class Assessment:
    result: SearchResult
    features: Features
    confidence: float  # calibrated; 0 for a routed topic the knowledge base does not answer
    route: Route | None  # the routing table's topic the question names
    outside: bool  # a routed topic the best entry does not speak of: declined whatever the score
    query: Analysis = field(default_factory=Analysis)  # the question as searched (read and respelled)
    gaps: tuple[Route, ...] = ()  # parts of the question the desk does not answer, answered without them


@dataclass
class KnowledgeBase:
    folder: Path
    profile: CityProfile
    analyzer: Analyzer
    index: KnowledgeIndex
    threshold: float = ANSWER_THRESHOLD
    routing: RoutingTable = field(default_factory=RoutingTable)
    grants: GrantGuide = field(default_factory=GrantGuide)  # 助成金ナビ (grants.yaml)
    registry: dict[str, Source] = field(default_factory=dict)
    _texts: dict[str, str] = field(default_factory=dict)  # normalized title, body and questions by id
    files: tuple[Entry, ...] = ()  # the folder's entries, without staff-made knowledge
    _documents: dict[str, tuple[Entry, DocumentFields]] = field(default_factory=dict)  # shared by its overlays
    overlay_version: int = 0  # of the staff-made knowledge laid over the files (0: none)
    staff_phrasings: dict[str, str] = field(default_factory=dict)  # a question staff tied to an entry (folded) → its id
    scoring: ScoreFactors = field(default_factory=ScoreFactors)  # programs and gates (knowledge/score_factors.py)
    glossary: Glossary = field(default_factory=Glossary)  # English questions
    rewording: Rewording = field(default_factory=Rewording)  # dialect and formal wordings made plain
    _defined_words: tuple[KnowledgeIndex, dict[tuple[str, ...], str]] | None = None  # for the index it was built from

    @property
    def entries(self) -> list[Entry]:
        return self.index.entries

    def entry(self, entry_id: str) -> Entry | None:
        return self.index.by_id.get(entry_id)

    def context(self, today: dt.date | None = None) -> Context:
        return Context(self.profile, today or dt.date.today(), self.registry)

    def ask(self, question: str, today: dt.date | None = None) -> Answer:
        """The answer to a question on the day `today` (default: the machine's date)."""
        text = (question or "").strip()
        if not text or not (JAPANESE_CHARACTER.search(text) or LATIN_LETTER.search(text) or any(c.isdigit() for c in text)):
            return decline(self.profile, "empty")
        assessed = self.assess(text)
        picked = self.entry(self.staff_phrasings.get(phrasing_key(text), ""))
        if picked is not None:
            answer = self._staff_answered(picked, assessed, today)
        elif self._vague(text, assessed):
            answer = decline(self.profile, "vague")
        elif self._compares_the_unsaid(text, assessed):
            answer = replace(decline(self.profile, "vague"), text=VAGUE_COMPARISON_TEXT)
        elif self._leans_on_the_unsaid(text, assessed):
            answer = replace(decline(self.profile, "vague"), text=UNSAID_SUBJECT_TEXT)
        else:
            answer = self._answered(assessed, today)
        if not in_english(text):
            return answer
        if answer.declined and answer.route is None and answer.reason != "vague":  # unsure of the English read
            english = decline(self.profile, "not_japanese", assessed.confidence)
            return replace(english, text=ENGLISH_MAYBE_TEXT, maybe=answer.maybe) if answer.maybe else english
        return replace(answer, text=f"{ENGLISH_NOTE}\n{answer.text}", body=f"{ENGLISH_NOTE}\n{answer.body}")

    def _answered(self, assessed: Assessment, today: dt.date | None) -> Answer:
        result, confidence, route = assessed.result, assessed.confidence, assessed.route
        if route and (confidence < self.threshold or assessed.outside):
            sources = tuple({"id": h.entry.id, "title": h.entry.title, "score": round(h.score, 4)} for h in result.hits[:3])
            declined = decline(self.profile, "out_of_scope", confidence, sources, route)
            return with_nearby(declined, result) if route.in_remit else declined
        answer = self._composed(result, confidence, today)
        return with_gaps(answer, self.profile, assessed.gaps) if assessed.gaps and not answer.declined else answer

    def _staff_answered(self, entry: Entry, assessed: Assessment, today: dt.date | None) -> Answer:
        """A question staff tied to an entry (`kb faq link`, or the question of a staff answer) is answered
        from it, whatever the search ranks first and wherever a route would send it: staff decided."""
        found = {h.entry.id: h.score for h in assessed.result.hits}
        others = [h for h in assessed.result.hits if h.entry.id != entry.id]
        top = Hit(entry, found.get(entry.id, 0.0))
        return self._composed(replace(assessed.result, hits=[top, *others]), 1.0, today)  # an unconfirmed one still declines

    @staticmethod
    def _vague(text: str, assessed: Assessment) -> bool:
        """A short question naming only the kind of thing asked, nothing it is about (「いつ？」「いくらですか」
        「何時から？」): the person is asked what about, rather than told the desk cannot answer."""
        if (assessed.route is not None and not assessed.route.in_remit) or len(_NOT_WORD.sub("", text)) > VAGUE_MAX_CHARS:
            return False
        return not any(u.content and len(u.surface) > 1 and u.form not in ASKING_NOUNS for u in assessed.query.units)

    def _compares_the_unsaid(self, text: str, assessed: Assessment) -> bool:
        folded = normalize(text)
        if kinds.question_kind(text) != "difference" or not _POINTS_BACK.search(folded):
            return False
        return len(self._named_terms(folded)) < 2

    def _leans_on_the_unsaid(self, text: str, assessed: Assessment) -> bool:
        """A short question about 「それ」 said before, naming nothing the desk knows of besides."""
        folded = normalize(text)
        return (assessed.route is None and len(text) <= BACK_REFERENCE_MAX_CHARS and bool(_BARE_BACK_REFERENCE.search(folded))
                and not self._named_terms(folded))

    def _named_terms(self, folded: str) -> list[str]:
        """The terms the desk defines that a question names, the longest only (協働提案, not 協働 too)."""
        named = [t for t in self.index.defined_terms() if len(t) > 1 and t in folded]
        return [t for t in named if not any(t != other and t in other for other in named)]

    def _composed(self, result: SearchResult, confidence: float, today: dt.date | None) -> Answer:
        """The answer from the best entry, or, from one saying the sources do not give what it is
        asked (the centre's hours), a decline in its words: nothing is answered, staff see the question."""
        answer = compose(result, self.entry, self.context(today), confidence, self.threshold)
        if answer.declined or not result.unconfirmed_top:
            return answer
        return unconfirmed(self.profile, result.hits[0].entry, result, confidence, answer.sources)

    def assess(self, text: str) -> Assessment:
        """The search for a question and what the desk makes of it, before any wording. A long
        question's background dilutes how well the best entry matches it; when the desk would decline
        it and its asking sentences alone find the same entry more surely, that is how sure the desk is."""
        whole = self._assessed(text)
        if whole.route is not None and whole.outside:
            return self._without_gap(text, whole)
        asking = kinds.asking_part(text)
        if asking and whole.route is None and whole.result.hits and whole.confidence < self.threshold:
            focused = self._assessed(asking)
            if self._vouches(focused, whole):
                return replace(whole, features=focused.features, confidence=focused.confidence)
            if self._speaks_for_itself(focused):
                return focused
        return whole

    def _speaks_for_itself(self, focused: Assessment) -> bool:
        """The asking sentences alone find an entry surely (another than the whole question's), naming
        topics of their own: the background only misled the search."""
        return focused.route is None and focused.confidence >= SURE and self._names_topics(focused)

    def _names_topics(self, assessed: Assessment) -> bool:
        """The text searched names at least two of the knowledge's words: a topic of its own, not only a
        word like 必要 that leans on the rest of the question."""
        topics = {u.form for u in assessed.query.units if u.content and self.index.knows(u.form)}
        return len(topics) >= 2

    def _without_gap(self, text: str, whole: Assessment) -> Assessment:
        """A question one of whose parts the desk does not answer (or its sources do not give) is answered
        on its other parts, when they find an answer surely by themselves; otherwise it is declined with
        its route."""
        matched = self.routing.match(text)
        parts = kinds.other_asks(text, matched[1]) if matched else None
        if parts is None or whole.route is None:
            return whole
        rest, unanswered, rest_leads = parts
        answered = self.assess(rest)
        leans_back = not rest_leads and not self._names_topics(answered)  # 「転入届は…。必要なものも」
        if answered.outside or answered.confidence < self.threshold or leans_back:
            return whole
        named = tuple(route for route, _ in self.routing.matches(unanswered))  # 「参加費や日程も」: both
        return replace(answered, gaps=tuple(dict.fromkeys((whole.route, *named, *answered.gaps))))

    def _vouches(self, focused: Assessment, whole: Assessment) -> bool:
        """The asking sentences find the same best entry more surely, and name topics of their own
        (「隣の騒音が…。どこに相談すれば」 does not: its topic is in the background)."""
        hits = focused.result.hits
        if not hits or hits[0].entry.id != whole.result.hits[0].entry.id or focused.confidence <= whole.confidence:
            return False
        return self._names_topics(focused)

    def _assessed(self, typed: str) -> Assessment:
        text, query, result = self._searched(typed, k=5)
        routed = self.routing.match(text) or (self.routing.match(typed) if typed != text else None)  # ほけん is read 保健, yet names 保険
        features = self.features(result, routed is not None, text)
        outside = routed is not None and self._outside(result, query, *routed)
        confidence = 0.0 if outside else calibration.probability(features)
        if result.kind == "difference" and not self._tells_the_difference(result, text):
            confidence = min(confidence, UNCOMPARED)  # no entry compares them: offered, never asserted
        return Assessment(result, features, confidence, routed[0] if routed else None, outside, query)

    def _tells_the_difference(self, result: SearchResult, text: str) -> bool:
        """The best entry speaks of every thing a 「AとBの違い」 question names, and compares things or
        introduces one of them (協働 for 「協働ってボランティアと何がちがうの」): what the desk can say about
        the difference. An entry on one of two things the desk defines each (市民協働推進事業, asked how it
        differs from 協働提案) says nothing of how they differ."""
        if not result.hits:
            return False
        entry, folded = result.hits[0].entry, normalize(text)
        named = self._named_terms(folded)
        shown = self._texts.get(entry.id, "")
        introduces = any(term and normalize(term) in folded for term in (kinds.defined_term(entry), *entry.defines))
        return (result.kind_match or introduces) and all(term in shown for term in named)

    def search(self, text: str, k: int = 5) -> SearchResult:
        return self._searched(text, k)[2]

    def _searched(self, text: str, k: int) -> tuple[str, Analysis, SearchResult]:
        """The question as searched (hiragana and English read first), its analysis and the search."""
        text = self._searchable(text)
        query = self.analyzer.analyze(text)
        respelled = self._respelled(query)
        if respelled:
            text, query = respelled, self.analyzer.analyze(respelled)
        named = {u.form for u in query.units if u.content}
        kind = kinds.question_kind(text, comparing=len(named) > 1)
        term = self._asked_term(text) if kind != "why" else None  # 「協働いうても…なんで」 asks why, not what
        if kind == "difference" and term and "と" in term:  # 「AとBって何が違う」 asks neither definition
            term = None
        result = self.index.search(query, k=k, kind=kind, term=term,
                                   factors=self.scoring.factors(text, compares=kind == "difference",
                                                                general=kind == "how_much" and named <= AMOUNT_WORDS))
        return text, query, result

    def _respelled(self, query: Analysis) -> str | None:
        """The question with words mistyped respelled (保助金 → 補助金, ボラティア → ボランティア), if any."""
        # a lone kanji counts even as a prefix (写会貢献: 写 is read as one, typed for 社)
        strange = [u for u in query.units if (u.content or kana.lone_kanji(u.surface)) and not self.index.knows(u.form)]
        if not strange:
            return None
        unknown = {u.surface for u in strange}
        misspelt = {u.surface for u in strange if not u.in_dictionary or len(u.surface) == 1}
        text = "".join(surface for surface, _ in query.spelling)
        respelled = self.index.kana.respell(query.spelling, unknown.__contains__, misspelt.__contains__,
                                            analysis.kanji_readings)
        return respelled if respelled != text else None

    def _asked_term(self, text: str) -> str | None:
        """The term a 'what is' question asks about, as the office's word when typed otherwise
        (えぬぴーおー → NPO)."""
        term = kinds.asked_term(text)
        if term is None or self.index.defined(term):
            return term
        words = self.analyzer.terms(term)
        if len(words) == 1:
            return words[0]
        joined = "".join(words)  # 市民共同 is read 市民・協働: asked as 市民協働
        return self._defined_by_words().get(tuple(words)) or (joined if self.index.defined(joined) else term)

    def _defined_by_words(self) -> dict[tuple[str, ...], str]:
        """The defined terms by their words (強度のまちづくり and 協働のまちづくり read alike)."""
        if self._defined_words is None or self._defined_words[0] is not self.index:
            by_words = {tuple(self.analyzer.terms(term)): term for term in self.index.defined_terms()}
            self._defined_words = (self.index, by_words)
        return self._defined_words[1]

    def _searchable(self, text: str) -> str:
        """The question as searched: dialect made plain and hiragana read as the knowledge's words,
        English through the city's glossary."""
        if not in_english(text):
            return self.index.kana.read(self.rewording.rewrite(self.glossary.translate_sentences(text)))
        return self.glossary.translate(text) or text

    @staticmethod
    def features(result: SearchResult, routed: bool, question: str) -> Features:
        asked = result.kind is not None
        return Features(
            coverage=result.confidence, margin=result.margin,
            kind_match=float(asked and result.kind_match), kind_miss=float(asked and not result.kind_match),
            routed=float(routed), strength=math.log1p(result.hits[0].score) if result.hits else 0.0,
            defines=float(result.defines), foreign=float(result.foreign),
            phrased=_phrased(question, result.hits[0].entry) if result.hits else 0.0,
        )

    def _outside(self, result: SearchResult, query: Analysis, route: Route, word: str) -> bool:
        """A question on a routed topic (ごみ, 人口) the best entry does not speak of, or that asks
        nothing more than the topic (「岡山市の人口は？」); for a route saying what answers it (a
        date for 「締切は？」), a question whose best entry does not show that."""
        shown = self._texts.get(result.hits[0].entry.id, "") if result.hits else ""
        if route.answered_by is not None:
            return not route.answered_by.search(shown)
        if word not in shown:
            return True
        return not self.routing.remainder(query, word)

    def overlaid(self, overlay: Overlay) -> KnowledgeBase:
        """A new knowledge base: the files with staff-made knowledge over them (this one is unchanged)."""
        entries = laid_over(self.files, overlay)
        index = KnowledgeIndex(entries, [self._analysed(e) for e in entries])
        texts = _texts_of(entries)
        tied = [*overlay.links, *((e.id, q) for e in overlay.answers for q in e.questions)]
        return replace(self, index=index, _texts=texts, overlay_version=overlay.version,
                       staff_phrasings={phrasing_key(question): entry_id for entry_id, question in tied},
                       routing=self.routing.with_staff(overlay.routes),
                       scoring=self.scoring.over([e.title for e in entries], [texts[e.id] for e in entries]))

    def answers_word(self, word: str) -> bool:
        """Whether an entry's title speaks of the (normalized) word: a word the desk answers."""
        return any(word in normalize(entry.title) for entry in self.entries)

    def prepare(self, limit: int | None = None) -> bool:
        """Analyse up to `limit` more of the files' entries ahead of a change, so that laying staff
        knowledge over them later rebuilds only the index (an index restored from the cache carries
        no analysis); True once all are."""
        waiting = [entry for entry in self.files if entry.id not in self._documents]
        for entry in waiting[:limit]:
            self._analysed(entry)
        return limit is None or len(waiting) <= limit

    def _analysed(self, entry: Entry) -> DocumentFields:
        """An entry's analysis, kept for the next rebuild (staff change a few entries at a time)."""
        known = self._documents.get(entry.id)
        if known is None or known[0] != entry:
            known = self._documents[entry.id] = (entry, analyze_entry(entry, self.analyzer))
        return known[1]

    def alternatives(self, question: str, not_these: tuple[str, ...], limit: int = RELATED_LIMIT) -> tuple[Related, ...]:
        """The next best entries for a question whose answers (`not_these`, the last one shown last) were
        not the ones wanted; without the question, the entries the last answer links to."""
        found = [h.entry for h in self.search(question).hits] if question.strip() else []
        wrong = [e for i in not_these if (e := self.entry(i))]
        linked = [e for i in (wrong[-1].related if wrong else ()) if (e := self.entry(i))]
        wrong_titles = {e.title for e in wrong}  # a twin of a wrong answer (another id, its title) is wrong too
        picks: dict[str, Related] = {}
        for e in found + linked:
            if e.id not in not_these and e.title not in wrong_titles:
                picks.setdefault(e.label, Related(e.id, e.title, e.label))  # one per button label
        return tuple(picks.values())[:limit]

    def show(self, entry_id: str, today: dt.date | None = None) -> Answer | None:
        """An entry as an answer, for a tapped related topic."""
        entry = self.entry(entry_id)
        return answer_from_entry(entry, self.context(today)) if entry else None


def phrasing_key(question: str) -> str:
    """A question as staff tie it to an answer: width, case, spaces, punctuation and hiragana or katakana
    (ごみ, ゴミ) do not count."""
    return kana.katakana(_NOT_WORD.sub("", normalize(question)))


def _phrased(question: str, entry: Entry) -> float:
    """The share of the question's character bigrams found in the closest of the ways the entry
    says people ask it (its title and `questions`)."""
    asked = set(analysis.bigrams(question))
    if not asked:
        return 0.0
    return max(len(asked & phrasing) / len(asked) for phrasing in _phrasings(entry))


@lru_cache(maxsize=4096)
def _phrasings(entry: Entry) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(analysis.bigrams(text)) for text in (entry.title, *entry.questions))


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for module in (analysis, entries_module, index_module, index_cache, kinds, facts, kana):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    for dist in ("sudachidict-core", "bm25s"):
        digest.update(metadata.version(dist).encode())
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def load_knowledge(folder: Path | str | None = None, cache_dir: Path | str | None = None) -> KnowledgeBase:
    """Load a city's knowledge folder (default: Okayama's); with `cache_dir`, the index is built
    once and kept there until a file changes."""
    folder = Path(folder or DEFAULT_FOLDER).resolve()
    vocabulary = load_vocabulary(folder)
    analyzer = Analyzer(vocabulary)
    profile = load_city(folder)
    cache_file = Path(cache_dir) / f"index-{_fingerprint(folder)}.npz" if cache_dir else None
    index = _read_cache(cache_file) if cache_file else None
    if index is None:
        index = KnowledgeIndex.build(require_entries(folder), analyzer)
        if cache_file:
            _write_cache(cache_file, index)
    routing, _ = load_routing(folder)  # its problems are `kb lint`'s to report
    registry, _ = load_sources(folder)
    grants, _ = load_grants(folder)
    texts = _texts_of(index.entries)
    scoring = ScoreFactors(ProgramNames.of(vocabulary.programs, vocabulary.audiences), Gates.of(vocabulary.gated))
    return KnowledgeBase(folder=folder, profile=profile, analyzer=analyzer, index=index, routing=routing,
                         grants=grants, registry=registry, _texts=texts, files=tuple(index.entries),
                         glossary=Glossary.of(vocabulary.english), rewording=Rewording.of(vocabulary.plain),
                         scoring=scoring.over([e.title for e in index.entries], [texts[e.id] for e in index.entries]))


def _texts_of(entries: list[Entry]) -> dict[str, str]:
    return {e.id: normalize("\n".join((e.title, e.body, *e.questions))) for e in entries}


def _read_cache(path: Path) -> KnowledgeIndex | None:
    """The cached index (arrays and JSON, checksummed: loading it runs no code); None to rebuild."""
    try:
        return index_cache.load(path)
    except FileNotFoundError:
        return None
    except (OSError, index_cache.CacheMismatch) as exc:  # torn, altered or from another version
        log.warning("knowledge index cache not used (%s); rebuilding", exc)
        return None


def _write_cache(path: Path, index: KnowledgeIndex) -> None:
    try:
        index_cache.save(path, index)
    except OSError:
        log.warning("knowledge index cache not writable at %s; continuing without it", path.parent)
