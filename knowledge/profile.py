"""A city's profile (city.yaml) and vocabulary (synonyms.yaml) from its knowledge folder."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class FormTexts:
    title: str
    intro: str
    next_steps: str


@dataclass(frozen=True)
class CityTexts:
    """The sentences citizens read that differ from city to city (city.yaml `texts`)."""
    greeting: str
    help: str
    consent_viewers: str
    consent_removal: str
    forms: dict[str, FormTexts]
    status_notices: dict[str, str]  # status → sentence with {reference}


@dataclass(frozen=True)
class CityProfile:
    city: str
    desk_name: str
    centre_name: str
    centre_phone: str
    centre_place: str
    general_contact: str
    texts: CityTexts


class CityFileError(ValueError):
    """city.yaml lacks something the desk needs; the message names the file and the key."""


@dataclass(frozen=True)
class Vocabulary:
    synonyms: tuple[tuple[str, ...], ...] = ()
    question_words: frozenset[str] = field(default_factory=frozenset)
    programs: tuple[tuple[str, ...], ...] = ()  # names of the city's distinct programs, one group each
    audiences: tuple[tuple[str, ...], ...] = ()  # names of an audience entries are written for (企業), one group each
    english: tuple[tuple[str, str], ...] = ()  # an English word or phrase → the Japanese words it stands for
    gated: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (title prefix, words that open it)
    plain: tuple[tuple[str, str], ...] = ()  # a dialect or formal wording → its plain Japanese


FORM_NAMES = ("consultation", "proposal", "group")


def load_city(folder: Path) -> CityProfile:
    """The city's profile and texts; CityFileError names the file and the first missing key."""
    path = folder / "city.yaml"
    raw = _read(path)
    need = _Required(path, raw)
    forms = {name: FormTexts(**{key: need.text(f"texts.forms.{name}.{key}") for key in ("title", "intro", "next_steps")})
             for name in FORM_NAMES}
    notices = need.mapping("texts.status_notices")
    return CityProfile(
        city=need.text("city"),
        desk_name=need.text("desk_name"),
        centre_name=need.text("centre.name"),
        centre_phone=need.text("centre.phone"),
        centre_place=str(need.optional("centre.place") or ""),
        general_contact=need.text("general_contact"),
        texts=CityTexts(
            greeting=need.text("texts.greeting"), help=need.text("texts.help"),
            consent_viewers=need.text("texts.consent_viewers"), consent_removal=need.text("texts.consent_removal"),
            forms=forms, status_notices={str(status): need.text(f"texts.status_notices.{status}") for status in notices},
        ),
    )


@dataclass(frozen=True)
class _Required:
    path: Path
    raw: dict

    def optional(self, dotted: str) -> object:
        value: object = self.raw
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def text(self, dotted: str) -> str:
        value = self.optional(dotted)
        if not isinstance(value, (str, int)) or not str(value).strip():
            raise CityFileError(f"{self.path}: missing key `{dotted}` (a non-empty text)")
        return str(value).strip()

    def mapping(self, dotted: str) -> dict:
        value = self.optional(dotted)
        if not isinstance(value, dict) or not value:
            raise CityFileError(f"{self.path}: missing key `{dotted}` (a mapping)")
        return value


def load_vocabulary(folder: Path) -> Vocabulary:
    raw = _read(folder / "synonyms.yaml")
    groups = tuple(tuple(str(w) for w in group) for group in raw.get("synonyms") or [] if group)
    programs, audiences = (tuple(tuple(str(w) for w in group) for group in raw.get(key) or [] if group)
                           for key in ("programs", "audiences"))
    english, plain = (tuple((str(k), str(v)) for k, v in mapping.items()) if isinstance(mapping, dict) else ()
                      for mapping in (raw.get("english"), raw.get("plain")))
    gated = tuple((str(g["title"]), tuple(str(w) for w in g.get("words") or ()))
                  for g in raw.get("gated") or [] if isinstance(g, dict) and g.get("title"))
    return Vocabulary(synonyms=groups, question_words=frozenset(str(w) for w in raw.get("question_words") or []),
                      programs=programs, audiences=audiences, english=english, gated=gated, plain=plain)


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}:1: expected a mapping")
    return data
