"""A city's profile (city.yaml) and vocabulary (synonyms.yaml) from its knowledge folder."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class CityProfile:
    city: str
    desk_name: str
    centre_name: str
    centre_phone: str
    centre_place: str
    general_contact: str


@dataclass(frozen=True)
class Vocabulary:
    synonyms: tuple[tuple[str, ...], ...] = ()
    question_words: frozenset[str] = field(default_factory=frozenset)


def load_city(folder: Path) -> CityProfile:
    raw = _read(folder / "city.yaml")
    centre = raw.get("centre") or {}
    return CityProfile(
        city=str(raw.get("city", "")),
        desk_name=str(raw.get("desk_name", "")),
        centre_name=str(centre.get("name", "")),
        centre_phone=str(centre.get("phone", "")),
        centre_place=str(centre.get("place", "")),
        general_contact=str(raw.get("general_contact", "")),
    )


def load_vocabulary(folder: Path) -> Vocabulary:
    raw = _read(folder / "synonyms.yaml")
    groups = tuple(tuple(str(w) for w in group) for group in raw.get("synonyms") or [] if group)
    return Vocabulary(synonyms=groups, question_words=frozenset(str(w) for w in raw.get("question_words") or []))


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}:1: expected a mapping")
    return data
