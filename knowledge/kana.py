"""Questions typed in hiragana read as the knowledge's own words: 「しやくしょの まどぐち」 is searched
as 「市役所の窓口」. Sudachi splits long hiragana runs into the wrong short words (ま・ど・ぐち), so
each run is first matched, longest reading first, against the readings of the nouns the
knowledge base itself uses; a reading shared by several words (キョウドウ) becomes the one the
knowledge uses most. Readings shorter than three kana stay as typed (they are too ambiguous), and so
do one-kanji nouns (でしょうか is not で章か), a reading that runs into the rest of a verb (あいてますか is
not 相手ますか: a noun ends the run, or is followed by a particle or another noun) and kana written
after a kanji (its ending: 働きたい, 受けつけ).

The same table respells kanji an input method chose wrongly (保助金 for 補助金, 設率 for 設立): a run of
kanji words whose reading (four kana or more, three for lone kanji: 定・議) is that of one of its nouns, one of them a string the
dictionary does not know or a lone kanji the knowledge does not use, or several words one of which
the knowledge does not use (保助・金), is written as that noun. Lone kanji are heard with every
reading the dictionary gives them (the tokenizer reads 精 in 申精 as the name タダシ), but a reading
it did not choose only leads to a noun sharing a kanji with what was typed (申請, not 何台 → 課題). A
katakana string the dictionary does not know, one letter away from a word the knowledge uses
(ボラティア, ワークショプ), is written as that word. Real words are never respelled (起業 stays 起業,
センサー stays センサー); real words typed for another (教導 for 協働) go in synonyms.yaml. Readings are
compared loosely: small kana as large ones (ぼらんていあ is ボランティア).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import product

MIN_READING = 3
MIN_RESPELLED = 4  # shorter kanji readings have too many homophones
MIN_RESPELLED_SPLIT = 3  # ... unless the dictionary split the string into lone kanji (定・議 for 定義)
RESPELL_SPAN = 3  # words an input method may have split a mistyped noun into (保助・金)
_KANJI = re.compile(r"[\u3400-\u9fff々]+")
_QUESTION_KANJI = frozenset("何誰")  # 何台 is a question word and a counter, not a mistyped noun
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]{4,}")
_LOOSE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")  # keeps lengths
_HIRAGANA_RUN = re.compile(rf"(?<![\u3400-\u9fff々\u3041-\u3096ー])[\u3041-\u3096ー]{{{MIN_READING},}}")
_ZU_FOR_DU = re.compile("ずくり")  # まちずくり, 区ずくり: ず typed for づ (the two sound alike)
_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
_KATAKANA_AFTER_NOUN = frozenset("のをがはにでともやへつかなねよじだけしす".translate(_TO_KATAKANA))  # particles, read loosely


def lone_kanji(text: str) -> bool:
    return len(text) == 1 and bool(_KANJI.fullmatch(text)) and text not in _QUESTION_KANJI


def katakana(text: str) -> str:
    return text.translate(_TO_KATAKANA)


def loose(reading: str) -> str:
    return reading.translate(_LOOSE)


def one_letter_apart(a: str, b: str) -> bool:
    """One letter replaced, added or dropped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


@dataclass(frozen=True)
class KanaReader:
    words: dict[str, str] = field(default_factory=dict)  # katakana reading → the knowledge's word used most
    others: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reading → its other words (キカン: 期間)
    longest: int = field(init=False, default=0)
    _loose: dict[str, str] = field(init=False, default_factory=dict)  # loose reading → word
    _homophones: dict[str, tuple[str, ...]] = field(init=False, default_factory=dict)  # loose reading → every word
    _katakana: tuple[tuple[str, str], ...] = field(init=False, default=())  # (loose reading, word) of katakana words

    def __post_init__(self) -> None:
        object.__setattr__(self, "longest", max(map(len, self.words), default=0))
        loose_words: dict[str, str] = {}
        homophones: dict[str, tuple[str, ...]] = {}
        for reading, word in self.words.items():
            loose_words.setdefault(loose(reading), word)
            homophones.setdefault(loose(reading), (word, *self.others.get(reading, ())))
        object.__setattr__(self, "_loose", loose_words)
        object.__setattr__(self, "_homophones", homophones)
        object.__setattr__(self, "_katakana", tuple(
            (reading, word) for reading, word in loose_words.items() if _KATAKANA_WORD.fullmatch(word)))

    def word(self, reading: str) -> str | None:
        """The knowledge's noun read so, or read so loosely (ボランテイア: ボランティア)."""
        return self._loose.get(loose(reading))

    def closest(self, reading: str, typed: str) -> str | None:
        """The knowledge's noun read so that shares most characters with what was typed (期感 is 期間,
        not 機関, though the knowledge uses 機関 more), or the one it uses most."""
        words = self._homophones.get(loose(reading), ())
        return max(words, key=lambda w: len(set(w) & set(typed)), default=None)

    @classmethod
    def of(cls, nouns: Iterable[tuple[str, str]]) -> KanaReader:
        """From (reading, word) pairs, as often as the knowledge uses each."""
        counts = Counter((reading, word) for reading, word in nouns if len(reading) >= MIN_READING)
        by_reading: dict[str, list[str]] = {}
        for (reading, word), _ in counts.most_common():
            by_reading.setdefault(reading, []).append(word)
        return cls({r: ws[0] for r, ws in by_reading.items()}, {r: tuple(ws[1:]) for r, ws in by_reading.items() if len(ws) > 1})

    def read(self, text: str) -> str:
        text = _ZU_FOR_DU.sub("づくり", text)
        if not self.words:
            return text
        return _HIRAGANA_RUN.sub(lambda m: self._run(m.group(0)), text)

    def _run(self, run: str) -> str:
        reading, out, i = loose(katakana(run)), [], 0
        while i < len(run):
            length = self._noun_at(reading, i)
            if length:
                out.append(self._loose[reading[i:i + length]])
                i += length
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _noun_at(self, reading: str, i: int, depth: int = 0) -> int:
        """The length of the longest known noun starting at i (of a loose reading) that ends where a
        noun may end; 0 if none."""
        for length in range(min(self.longest, len(reading) - i), MIN_READING - 1, -1):
            end = i + length
            if len(self._loose.get(reading[i:end], "")) > 1 and (
                    end == len(reading) or reading[end] in _KATAKANA_AFTER_NOUN
                    or (depth < 3 and self._noun_at(reading, end, depth + 1))):
                return length
        return 0

    def respell(self, spelling: list[tuple[str, str]], unknown: Callable[[str], bool],
                misspelt: Callable[[str], bool], readings: Callable[[str], tuple[str, ...]] = lambda _: ()) -> str:
        """The text of (surface, reading) words with each mistyped noun written as the knowledge's
        noun; `unknown` tells a word the knowledge does not use, `misspelt` one of those that is no
        word at all (a string the dictionary does not know, or a lone kanji); `readings` gives a lone
        kanji's other readings (申精 is read シン・タダシ, yet typed for シン・セイ)."""
        near_unknown = {j for k, (surface, _) in enumerate(spelling) if unknown(surface)
                        for j in range(k - RESPELL_SPAN + 1, k + 1)}
        out, i = [], 0
        while i < len(spelling):
            length, word = (i in near_unknown and (self._homophone_at(spelling, i, unknown, misspelt, readings)
                                                   or self._katakana_typo_at(spelling, i, misspelt))) or (0, "")
            out.append(word if length else spelling[i][0])
            i += length or 1
        return "".join(out)

    def _homophone_at(self, spelling: list[tuple[str, str]], i: int, unknown: Callable[[str], bool],
                      misspelt: Callable[[str], bool], readings: Callable[[str], tuple[str, ...]]) -> tuple[int, str] | None:
        """Kanji read as a noun of the knowledge: one of them no word at all, or several words one of
        which the knowledge does not use (保助・金); a real word alone is never respelled (起業)."""
        for length in range(min(RESPELL_SPAN, len(spelling) - i), 0, -1):
            span = spelling[i:i + length]
            surface = "".join(s for s, _ in span)
            if not (all(_KANJI.fullmatch(s) for s, _ in span)
                    and (any(misspelt(s) for s, _ in span) or (length > 1 and any(unknown(s) for s, _ in span)))):
                continue
            split = length > 1 and all(len(s) == 1 for s, _ in span)
            shortest = MIN_RESPELLED_SPLIT if split else MIN_RESPELLED
            read = "".join(r for _, r in span)
            heard = ("".join(parts) for parts in product(*((r, *readings(s)) if split else (r,) for s, r in span)))
            # a reading the tokenizer did not choose must lead to a noun sharing a kanji with what was
            # typed (申精 → 申請), not to any homophone (何台 → 課題)
            word = next((w for reading in heard if len(reading) >= shortest
                         and (w := self.closest(reading, surface)) and w != surface
                         and (reading == read or set(w) & set(surface))), None)
            if word:
                return length, word
        return None

    def _katakana_typo_at(self, spelling: list[tuple[str, str]], i: int,
                          misspelt: Callable[[str], bool]) -> tuple[int, str] | None:
        """A katakana string the dictionary does not know, loosely one letter (or none) away from
        exactly one word the knowledge uses."""
        surface = spelling[i][0]
        if not _KATAKANA_WORD.fullmatch(surface) or not misspelt(surface):
            return None
        typed = loose(surface)
        near = {word for reading, word in self._katakana if typed == reading or one_letter_apart(typed, reading)}
        return (1, near.pop()) if len(near) == 1 else None
