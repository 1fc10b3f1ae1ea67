"""Japanese text analysis for search: Sudachi terms and character bigrams.

Terms are Sudachi normalized forms in split mode C plus their mode-A parts (search mode), with
particles, auxiliaries and symbols dropped by part of speech, and the office's synonyms folded
to one word. Bigrams catch what the dictionary splits badly: proper nouns, unknown words and
spelling variants.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from sudachipy import Dictionary, SplitMode

from knowledge.profile import Vocabulary

SUDACHI_MAX_BYTES = 49_149
CHUNK_BYTES = 40_000
KEPT_POS = {"名詞", "動詞", "形容詞", "形状詞", "接尾辞", "接頭辞"}
CONTENT_POS = {"名詞", "形状詞"}
LIGHT_VERBS = "非自立可能"
_FIELDS = {"pos", "normalized_form", "split_a", "reading_form"}
_KANA = re.compile(r"^[\u3041-\u309f\u30a0-\u30ffー]+$")
ORDINAL_HEADS = {"条", "章", "項", "号"}
_WRITTEN = re.compile(r"[\u3400-\u9fff]|^[\u30a1-\u30faー]{3,}$|^[a-z]{2,}$")  # kanji, a katakana word, or letters (npo)


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary()


@lru_cache(maxsize=4096)
def kanji_readings(kanji: str) -> tuple[str, ...]:
    """Every reading the dictionary gives a lone kanji (精: セイ, タダシ), beside the one the tokenizer chose."""
    return tuple(sorted({m.reading_form() for m in _dictionary().lookup(kanji)}))


_local = threading.local()


def _tokenizer():
    # A Sudachi tokenizer is not thread-safe: one per thread.
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = _local.tokenizer = _dictionary().tokenizer(mode=SplitMode.C, fields=_FIELDS)
    return tok


_KATAKANA_DASH = re.compile(r"(?<=[ァ-ヶ])[-‐−―]")
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")


_FOLDED_AWAY = re.compile(r"[\s・,、]+")
_KATAKANA_WORD = re.compile(r"^[\u30a1-\u30faー]{2,}$")
_LETTER_RUN = re.compile(r"[^\W_]+")  # letters and digits (Unicode categories L and N), as runs


def spoken(text: str) -> str:
    """How a text is read, in katakana (町内会 → チョウナイカイ), so a word typed in kana can be matched."""
    return "".join(m.reading_form() for m in _tokenizer().tokenize(text)
                   if m.part_of_speech()[0] not in ("補助記号", "空白"))


def fold(text: str) -> str:
    """Text for comparing what people type: NFKC, lower case, no spaces or list separators (・ 、 ,)."""
    return _FOLDED_AWAY.sub("", unicodedata.normalize("NFKC", text or "").lower())


def normalize(text: str) -> str:
    """NFKC, lower case, thousands separators dropped (2,000,000 → 2000000), and a dash typed for the
    long vowel after katakana read as one (センタ- → センター)."""
    return _KATAKANA_DASH.sub("ー", _DIGIT_COMMA.sub("", unicodedata.normalize("NFKC", text).lower()))


@lru_cache(maxsize=1 << 14)
def word_form(form: str) -> str:
    """A dictionary form, normalized: the same few thousand recur across questions."""
    return normalize(form)


def chunks(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """Split text so that each piece stays under Sudachi's input limit, preferring line or sentence ends."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
        if char in "。\n!?" and size > limit // 2:
            pieces.append("".join(current))
            current, size = [], 0
    if current:
        pieces.append("".join(current))
    return pieces


@dataclass(frozen=True)
class Unit:
    """One mode-C word of a text: what a question is about."""
    form: str  # normalized form (after synonyms)
    surface: str  # as written, for character bigrams
    content: bool  # a noun-like word (verbs and adjectives are often paraphrased)
    in_dictionary: bool = True  # False for strings Sudachi does not know (typos, new words)
    parts: tuple[str, ...] = ()  # its mode-A parts, when it is a compound
    reading: str = ""  # katakana reading
    identifier: bool = False  # an article or chapter number (第10条)
    describes: bool = False  # an adjectival or adverbial noun (大変, 年々, 先日): says how or when, not what about

    @property
    def kana_only(self) -> bool:
        """Written in kana alone: often a word whose kanji the writer did not use (じちかい)."""
        return bool(_KANA.match(self.surface))

    @property
    def english_word(self) -> bool:
        """Typed in Latin letters and read by the dictionary as a loanword (new → ニュー): English
        prose, not an acronym naming something (PTA, DV keep their letters)."""
        return self.surface.isascii() and not self.form.isascii()


@dataclass
class Analysis:
    units: list[Unit] = field(default_factory=list)
    reading: str = ""  # the reading of the whole text (symbols dropped), for kana spellings
    spelling: list[tuple[str, str]] = field(default_factory=list)  # (surface, reading) of every word, in order

    @property
    def terms(self) -> list[str]:
        """What is indexed and searched: each unit, then its parts."""
        out: list[str] = []
        for unit in self.units:
            out.append(unit.form)
            out.extend(unit.parts)
        return out

    @property
    def forms(self) -> list[str]:
        return [unit.form for unit in self.units]

    @property
    def bigrams(self) -> list[str]:
        return bigrams(" ".join(unit.surface for unit in self.units))

    @property
    def reading_bigrams(self) -> list[str]:
        return bigrams(self.reading)


class Analyzer:
    def __init__(self, vocabulary: Vocabulary):
        self.question_words = frozenset(normalize(w) for w in vocabulary.question_words)
        self._phrases: dict[tuple[str, ...], str] = {}
        for group in vocabulary.synonyms:
            canonical = "".join(self._raw_forms(group[0]))
            for word in group:
                forms = tuple(self._raw_forms(word))
                if forms:
                    self._phrases[forms] = canonical
        lengths: dict[str, set[int]] = {}
        for forms in self._phrases:
            lengths.setdefault(forms[0], set()).add(len(forms))
        self._lengths = {first: sorted(found, reverse=True) for first, found in lengths.items()}  # longest first

    def _raw_forms(self, text: str) -> list[str]:
        return [word_form(m.normalized_form()) for m in _tokenizer().tokenize(normalize(text))]

    def terms(self, text: str) -> list[str]:
        return self.analyze(text).terms

    def analyze(self, text: str) -> Analysis:
        result = Analysis()
        readings: list[str] = []
        for piece in chunks(normalize(text)):
            morphemes = list(_tokenizer().tokenize(piece))
            forms = [word_form(m.normalized_form()) for m in morphemes]
            readings.extend(m.reading_form() for m in morphemes if m.part_of_speech()[0] not in ("補助記号", "空白"))
            result.spelling.extend((m.surface(), m.reading_form()) for m in morphemes)
            i = 0
            while i < len(morphemes):
                length, unit = self._special_unit(morphemes, forms, i)
                if unit:
                    result.units.append(unit)
                    i += length
                    continue
                morpheme, form = morphemes[i], forms[i]
                pos = morpheme.part_of_speech()
                if self._kept(pos, form):
                    parts = morpheme.split(SplitMode.A)
                    result.units.append(Unit(
                        form, morpheme.surface(), content=pos[0] in CONTENT_POS, in_dictionary=not morpheme.is_oov(),
                        parts=tuple(dict.fromkeys(
                            f for p in parts
                            if len(parts) > 1 and self._kept(p.part_of_speech(), f := word_form(p.normalized_form())) and f != form
                        )),
                        reading=morpheme.reading_form(), describes=pos[0] == "形状詞" or "副詞可能" in pos,
                    ))
                i += 1
        result.reading = "".join(readings)
        return result

    def written_nouns(self, text: str) -> list[tuple[str, str]]:
        """(katakana reading, surface) of the nouns written in kanji or katakana in a text, of their
        parts, and of two such nouns written together (補助・率 → 補助率): what a question typed in
        hiragana, or with a kanji mistyped (補助律), may mean."""
        found = []
        for piece in chunks(normalize(text)):
            previous = None
            for morpheme in _tokenizer().tokenize(piece):
                parts = morpheme.split(SplitMode.A)
                for m in [morpheme, *(parts if len(parts) > 1 else ())]:
                    if _written_noun(m):
                        found.append((m.reading_form(), m.surface()))
                if previous is not None and _written_noun(previous) and (_written_noun(morpheme) or _katakana_noun(morpheme)):
                    found.append((previous.reading_form() + morpheme.reading_form(), previous.surface() + morpheme.surface()))
                previous = morpheme
        return found

    def _special_unit(self, morphemes, forms: list[str], i: int) -> tuple[int, Unit | None]:
        """An office synonym phrase, or an article number (第10条) kept as one word."""
        length, canonical = self._match_phrase(forms, i)
        if canonical:
            span = morphemes[i:i + length]
            surface = "".join(m.surface() for m in span)
            return length, Unit(canonical, surface, content=True, reading="".join(m.reading_form() for m in span))
        if (forms[i] == "第" and i + 2 < len(forms) and morphemes[i + 1].part_of_speech()[1] == "数詞"
                and forms[i + 2] in ORDINAL_HEADS):
            form = "".join(forms[i:i + 3])
            return 3, Unit(form, form, content=True, identifier=True)
        return 0, None

    def _match_phrase(self, forms: list[str], start: int) -> tuple[int, str | None]:
        for length in self._lengths.get(forms[start], ()):
            canonical = self._phrases.get(tuple(forms[start:start + length])) if start + length <= len(forms) else None
            if canonical:
                return length, canonical
        return 0, None

    def _kept(self, pos: tuple[str, ...], form: str) -> bool:
        if pos[0] not in KEPT_POS or form in self.question_words:
            return False
        return not (pos[0] == "動詞" and pos[1] == LIGHT_VERBS)


def bigrams(text: str) -> list[str]:
    """Character bigrams of the letters, digits, kana and kanji in a text (single characters stand alone)."""
    out: list[str] = []
    for run in _LETTER_RUN.findall(normalize(text)):
        if len(run) == 1:
            out.append(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """How alike two sets of bigrams are: shared over all (0 when either is empty)."""
    return len(a & b) / len(a | b) if a and b else 0.0


def _katakana_noun(morpheme) -> bool:
    """A noun in katakana, however short: ナビ in 助成金ナビ (alone, two kana are too ambiguous to read)."""
    return morpheme.part_of_speech()[0] == "名詞" and bool(_KATAKANA_WORD.match(morpheme.surface()))


def _written_noun(morpheme) -> bool:
    """A common or proper noun written in kanji or katakana (not a number)."""
    pos = morpheme.part_of_speech()
    return pos[0] == "名詞" and pos[1] != "数詞" and bool(_WRITTEN.search(morpheme.surface()))
