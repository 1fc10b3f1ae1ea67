"""Where to go instead: the city-level routing table (routing.yaml) for questions outside the desk,
and for details of the desk's own topics its sources do not give (the expenses a subsidy covers).

Each route names a topic by its words (ごみ, 住民票, 投票所 …) and, where a cited source says
so, the office or service that handles it; otherwise the answer gives the city's general
inquiry wording (city.yaml `general_contact`). A decline carries its route, so the reply can
show it beside 「職員に相談する」.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from knowledge.analysis import Analysis, normalize

ROUTING_FILE = "routing.yaml"


@dataclass(frozen=True)
class Route:
    topic: str  # what the citizen asked about, as a reply names it: 「ごみの出し方や収集日」
    words: tuple[str, ...]  # normalized
    office: str = ""  # who handles it, only as a cited source says; empty: the general contact
    source: str = ""  # id in sources.yaml, required with an office
    staff: bool = False  # added by staff from the weekly digest (対象外), not from routing.yaml
    in_remit: bool = False  # a detail of the desk's own topics that its sources do not give
    unless: tuple[str, ...] = ()  # normalized; words that make it the desk's own topic after all (ゴミ拾い)
    answered_by: re.Pattern[str] | None = None  # what the best entry must show to answer it (a date), if not the word

    def where(self, general_contact: str) -> str:
        return self.office or general_contact


@dataclass(frozen=True)
class RoutingTable:
    routes: tuple[Route, ...] = ()
    generic_words: frozenset[str] = frozenset()  # words of any question here: 岡山市, 市役所

    def match(self, question: str) -> tuple[Route, str] | None:
        """The first route one of whose words the question contains, and that word."""
        return next(self.matches(question), None)

    def matches(self, question: str) -> Iterator[tuple[Route, str]]:
        """Each route one of whose words the question contains (and none of its `unless`), with that word."""
        folded = normalize(question)
        compact = re.sub(r"\s+", "", folded)  # 「NPO法人 設立」 names 「npo法人設立」
        starting = self._by_first_character
        candidates = sorted({i for char in set(folded) for i in starting.get(char, ())})
        for route in (self.routes[i] for i in candidates):
            word = next((w for w in route.words if w in compact or w in folded), None)
            if word and not any(w in folded for w in route.unless):
                yield route, word

    @cached_property
    def _by_first_character(self) -> dict[str, tuple[int, ...]]:
        """The routes (by position) having a word that starts with a character: a route can match only
        a question containing the first character of one of its words (most questions name none)."""
        found: dict[str, list[int]] = {}
        for i, route in enumerate(self.routes):
            for char in dict.fromkeys(w[0] for w in route.words if w):
                found.setdefault(char, []).append(i)
        return {char: tuple(positions) for char, positions in found.items()}

    def with_staff(self, routes: tuple[Route, ...]) -> RoutingTable:
        """The file's routes, then `routes` (staff-made ones from before are replaced)."""
        return RoutingTable(tuple(r for r in self.routes if not r.staff) + routes, self.generic_words)

    def remainder(self, analysis: Analysis, word: str) -> list[str]:
        """The question's content words besides the route's word and the generic ones: what is
        left for the knowledge base to answer (「人口あたりのNPO法人数」 leaves NPO法人数)."""
        return [u.form for u in analysis.units
                if u.content and len(u.surface) > 1 and u.form not in self.generic_words
                and word not in u.surface and u.surface not in word]


def split_words(text: str) -> tuple[str, ...]:
    """Words as staff type them: separated by 、, commas or spaces; normalized, each once."""
    return tuple(dict.fromkeys(normalize(w) for w in re.split(r"[、,，\s]+", text) if w.strip()))


def staff_route(topic: str, words: tuple[str, ...], answered_words: Callable[[str], bool]) -> tuple[Route | None, list[str]]:
    """A route staff add for questions outside the desk (no office: the reply gives the general
    contact), or None and what is wrong: a word the knowledge base itself answers would turn its
    own questions away."""
    problems = []
    if not topic.strip():
        problems.append("話題を入力してください（例: ごみの出し方や収集日）。")
    if not words:
        problems.append("質問に含まれる言葉を1つ以上入力してください。")
    short = [w for w in words if len(w) < 2]
    if short:
        problems.append(f"1文字の言葉は使えません: {'、'.join(short)}")
    taken = [w for w in words if len(w) >= 2 and answered_words(w)]
    if taken:
        problems.append(f"窓口が答えている言葉は使えません: {'、'.join(taken)}")
    return (Route(topic.strip()[:80], words, staff=True) if not problems else None), problems


def load_routing(folder: Path) -> tuple[RoutingTable, list[str]]:
    """The folder's routing table and a message for each malformed route (none without the file)."""
    path = folder / ROUTING_FILE
    if not path.exists():
        return RoutingTable(), []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    routes = []
    for i, item in enumerate(raw.get("routes") or [], 1):
        words = tuple(normalize(str(w)) for w in (item or {}).get("words") or [] if str(w).strip())
        topic, office, source = (str((item or {}).get(k) or "").strip() for k in ("topic", "office", "source"))
        if not topic or not words:
            problems.append(f"route {i} needs topic: and words:")
        elif office and not source:
            problems.append(f"route {i} ({topic}) names an office without a source id")
        else:
            routes.append(_route(item, topic, words, office, source, problems))
    generic = frozenset(normalize(str(w)) for w in raw.get("generic_words") or [])
    return RoutingTable(tuple(routes), generic), problems


def _route(item: dict, topic: str, words: tuple[str, ...], office: str, source: str, problems: list[str]) -> Route:
    unless = tuple(normalize(str(w)) for w in item.get("unless") or [] if str(w).strip())
    answered_by = None
    if item.get("answered_by"):
        try:
            answered_by = re.compile(str(item["answered_by"]))
        except re.error as error:
            problems.append(f"route {topic}: answered_by is not a pattern ({error})")
    return Route(topic, words, office, source, in_remit=bool(item.get("in_remit")), unless=unless, answered_by=answered_by)
