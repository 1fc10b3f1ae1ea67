"""The group directory's controlled vocabulary (partner-fields.yaml): activity fields, areas and
kinds of group, each with the words people use for it, and a reader that finds them in free text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.analysis import normalize

FILE_NAME = "partner-fields.yaml"
SCHOOL_DISTRICT = re.compile(r"^[^\s、;,]{1,20}学区$")  # as a CSV cell gives it
HIRAGANA_WORD = re.compile(r"[ぁ-ゖー]+")
PARTICLES = "のでにはがをとへやもっ"  # what may stand beside a word typed in hiragana
SCHOOL_DISTRICT_IN_TEXT = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ff]{1,10}学区")  # 伊島学区 in うちは伊島学区です


class VocabularyError(ValueError):
    """partner-fields.yaml is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Mentions:
    """What a piece of free text names, in the order first written, and the text left over."""
    fields: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    rest: str = ""


@dataclass(frozen=True)
class PartnerVocabulary:
    fields: dict[str, tuple[str, ...]]  # canonical name → synonyms
    wards: dict[str, tuple[str, ...]]
    citywide: str
    citywide_synonyms: tuple[str, ...]
    kinds: dict[str, tuple[str, ...]]
    generic_words: frozenset[str] = frozenset()
    _lookup: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)  # word → (facet, name)
    _pattern: re.Pattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        facets = [("field", self.fields), ("area", {**self.wards, self.citywide: self.citywide_synonyms}),
                  ("kind", self.kinds)]
        for facet, names in facets:
            for name, synonyms in names.items():
                for word in (name, *synonyms):
                    self._lookup.setdefault(normalize(word), (facet, name))
        words = sorted(self._lookup, key=len, reverse=True)
        object.__setattr__(self, "_pattern", re.compile("|".join(map(_as_written, words))) if words else None)

    def field_of(self, word: str) -> str | None:
        return self._canonical(word, "field")

    def kind_of(self, word: str) -> str | None:
        return self._canonical(word, "kind")

    def area_of(self, word: str) -> str | None:
        """A ward, the whole city, or a 学区 (kept as written)."""
        known = self._canonical(word, "area")
        if known:
            return known
        text = normalize(word).strip()
        return text if SCHOOL_DISTRICT.match(text) else None

    def _canonical(self, word: str, facet: str) -> str | None:
        found = self._lookup.get(normalize(word).strip())
        return found[1] if found and found[0] == facet else None

    def mentions(self, text: str) -> Mentions:
        """Fields, areas (wards, the whole city, 〇〇学区) and kinds named in `text`, longest word first."""
        found: dict[str, list[str]] = {"field": [], "area": [], "kind": []}
        normal = normalize(text)
        rest = self._pattern.sub(lambda m: _collect(found, self._lookup[m.group()]), normal) if self._pattern else normal
        rest = SCHOOL_DISTRICT_IN_TEXT.sub(lambda m: _collect(found, ("area", m.group())), rest)
        return Mentions(tuple(found["field"]), tuple(found["area"]), tuple(found["kind"]), rest)


def _as_written(word: str) -> str:
    """A word in hiragana counts only standing alone (きたくで, 川のごみ; not いきたくて nor ふくしまから):
    in kana typed without kanji, particles are the only word boundaries."""
    if not HIRAGANA_WORD.fullmatch(word):
        return re.escape(word)
    return rf"(?:(?<![ぁ-ゖ])|(?<=[{PARTICLES}])){re.escape(word)}(?=[{PARTICLES}]|[^ぁ-ゖ]|$)"


def _collect(found: dict[str, list[str]], hit: tuple[str, str]) -> str:
    facet, name = hit
    if name not in found[facet]:
        found[facet].append(name)
    return " "


def load_partner_vocabulary(folder: Path) -> PartnerVocabulary:
    path = folder / FILE_NAME
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VocabularyError(f"{path}: cannot be read: {exc}") from exc
    try:
        areas = raw["areas"]
        return PartnerVocabulary(
            fields=_named(raw["fields"]),
            wards=_named(areas["wards"]),
            citywide=str(areas["citywide"]["name"]),
            citywide_synonyms=tuple(str(w) for w in areas["citywide"].get("synonyms") or ()),
            kinds=_named(raw["kinds"]),
            generic_words=frozenset(normalize(str(w)) for w in raw.get("generic_words") or ()),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise VocabularyError(f"{path}: expected fields, areas (citywide, wards) and kinds: {exc!r}") from exc


def _named(items: list[dict]) -> dict[str, tuple[str, ...]]:
    return {str(item["name"]): tuple(str(w) for w in item.get("synonyms") or ()) for item in items}
