"""助成金ナビ: the questions of the guided subsidy finder and the programs it matches (grants.yaml).

The file lists the steps in the order they are asked (each with its options) and, per program,
what it fits (an option id per step key it restricts), its rate, cap and eligibility in one short
line each, its dated application rounds and the entry that tells it in full. A step a program
does not restrict matches any answer. A round is compared with the day of the question.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.analysis import fold, spoken
from knowledge.facts import DatedFact
from knowledge.kana import katakana

GRANTS_FILE = "grants.yaml"
SEPARATOR = "/"  # between the option ids of the answers so far, in a button's data
TEXT_FIELDS = ("name", "entry", "rate", "cap", "eligibility")
_LABEL_WORD = re.compile(r"[一-龥ァ-ヶー]{2,}|[a-z]{3,}")  # a label's words: runs of kanji or katakana
_KANA_ONLY = re.compile(r"[ぁ-ゖァ-ヺー]+")
_LABEL_PART = re.compile(r"[・（）()、]")  # split before folding, which drops ・: 町内会・自治会 is two words


def _label_words(label: str) -> list[str]:
    return [word for part in _LABEL_PART.split(label) for word in _LABEL_WORD.findall(fold(part))]


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    now: bool = False  # the person means to apply now: the answer says so when no round is open


@dataclass(frozen=True)
class Step:
    key: str
    prompt: str
    options: tuple[Option, ...]

    def option_in(self, text: str) -> Option | None:
        """The option whose label (or a part of it between ・) the typed text names, or else the one
        sharing the most of its words with it (「防災訓練をしたい」 for 防災訓練など地域の課題への取組)."""
        folded = fold(text)
        for option in self.options:
            parts = (fold(option.label), *(fold(p) for p in option.label.split("・")))
            if any(p and (p in folded or (len(folded) >= 2 and folded in p)) for p in parts):
                return option
        if _KANA_ONLY.fullmatch(folded):  # 「ちょうないかい」, as older people type
            heard = katakana(folded)
            said = [o for o in self.options if any(len(r) > 1 and r in heard or len(heard) > 2 and heard in r
                                                   for r in map(spoken, o.label.split("・")))]
            return said[0] if len(said) == 1 else None
        shared = {o.id: sum(len(w) for w in _label_words(o.label) if w in folded) for o in self.options}
        ranked = sorted(self.options, key=lambda o: shared[o.id], reverse=True)
        if not ranked or not shared[ranked[0].id] or (len(ranked) > 1 and shared[ranked[1].id] == shared[ranked[0].id]):
            return None  # no word shared, or as many with two options (「地域の調査」): asked again
        return ranked[0]


@dataclass(frozen=True)
class Program:
    id: str
    name: str
    entry: str  # the knowledge entry that tells it in full
    rate: str
    cap: str
    eligibility: str
    fits: dict[str, frozenset[str]]  # step key → the option ids it fits (a step not named: any)
    rounds: tuple[DatedFact, ...] = ()
    cites: tuple[str, ...] = ()

    def suits(self, answers: dict[str, str]) -> bool:
        return all(answers.get(key) in ids for key, ids in self.fits.items())

    def open_on(self, today: dt.date) -> bool:
        return any(today <= r.ends for r in self.rounds)

    def round_status(self, today: dt.date) -> str:
        if not self.rounds:
            return "募集時期はここでは確認できていません。"
        return "".join(r.note(today) for r in self.rounds)


@dataclass(frozen=True)
class GrantGuide:
    steps: tuple[Step, ...] = ()
    programs: tuple[Program, ...] = ()

    def answers(self, path: str) -> dict[str, str] | None:
        """The answers a button's path stands for; None when it is not one this guide made."""
        ids = [i for i in path.split(SEPARATOR)] if path else []
        if len(ids) > len(self.steps):
            return None
        answers = {}
        for step, option_id in zip(self.steps, ids, strict=False):
            if option_id not in {o.id for o in step.options}:
                return None
            answers[step.key] = option_id
        return answers

    def next_step(self, answers: dict[str, str]) -> Step | None:
        return next((s for s in self.steps if s.key not in answers), None)

    def label(self, key: str, option_id: str) -> str:
        step = next(s for s in self.steps if s.key == key)
        return next(o.label for o in step.options if o.id == option_id)

    def wants_now(self, answers: dict[str, str]) -> bool:
        return any(o.now and answers.get(s.key) == o.id for s in self.steps for o in s.options)

    def matches(self, answers: dict[str, str], today: dt.date) -> list[Program]:
        """The programs that fit, those with a round open today first."""
        fitting = [p for p in self.programs if p.suits(answers)]
        return sorted(fitting, key=lambda p: not p.open_on(today))


def path_of(answers: dict[str, str], steps: tuple[Step, ...]) -> str:
    return SEPARATOR.join(answers[s.key] for s in steps if s.key in answers)


def load_grants(folder: Path) -> tuple[GrantGuide, list[str]]:
    """The folder's guide and a message for each malformed part (an empty guide without the file)."""
    path = folder / GRANTS_FILE
    if not path.exists():
        return GrantGuide(), []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    steps = tuple(_step(item, problems) for item in raw.get("steps") or [])
    programs = tuple(_program(item, steps, problems) for item in raw.get("programs") or [])
    return GrantGuide(steps, programs), problems


def _step(item: dict, problems: list[str]) -> Step:
    key, prompt = str(item.get("key") or ""), str(item.get("prompt") or "")
    options = tuple(Option(str(o.get("id") or ""), str(o.get("label") or ""), o.get("now") is True)
                    for o in item.get("options") or [])
    if not key or not prompt or not options or not all(o.id and o.label for o in options):
        problems.append(f"step {key or '?'} needs key:, prompt: and options: (id:, label:)")
    if any(SEPARATOR in o.id for o in options):
        problems.append(f"step {key}: an option id may not contain {SEPARATOR}")
    return Step(key, prompt, options)


def _program(item: dict, steps: tuple[Step, ...], problems: list[str]) -> Program:
    texts = {name: str(item.get(name) or "").strip() for name in ("id", *TEXT_FIELDS)}
    where = f"program {texts['id'] or '?'}"
    problems.extend(f"{where} needs {name}:" for name, value in texts.items() if not value)
    fits: dict[str, frozenset[str]] = {}
    for key, ids in (item.get("fits") or {}).items():
        step = next((s for s in steps if s.key == key), None)
        known = {o.id for o in step.options} if step else set()
        problems.extend(f"{where}: fits {key}: {i!r} is not an option of that step" for i in ids or [] if i not in known)
        fits[key] = frozenset(ids or [])
    rounds = []
    for round_ in item.get("rounds") or []:
        try:
            rounds.append(DatedFact(str(round_["label"]).strip(), _date(round_["closes"]), closing=True))
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: a round needs label: and closes: (YYYY-MM-DD)")
    cites = tuple(str(c) for c in item.get("cites") or [])
    if not cites:
        problems.append(f"{where} cites no source (ids in sources.yaml)")
    return Program(texts["id"], texts["name"], texts["entry"], texts["rate"], texts["cap"], texts["eligibility"],
                   fits, tuple(rounds), cites)


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
