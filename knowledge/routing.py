"""Where to go instead: the city-level routing table (routing.yaml) for questions outside the desk.

Each route names a topic by its words (ごみ, 住民票, 投票所 …) and, where a cited source says
so, the office or service that handles it; otherwise the answer gives the city's general
inquiry wording (city.yaml `general_contact`). A decline carries its route, so the reply can
show it beside 「職員に相談する」.
"""
from __future__ import annotations

from dataclasses import dataclass
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

    def where(self, general_contact: str) -> str:
        return self.office or general_contact


@dataclass(frozen=True)
class RoutingTable:
    routes: tuple[Route, ...] = ()
    generic_words: frozenset[str] = frozenset()  # words of any question here: 岡山市, 市役所

    def match(self, question: str) -> tuple[Route, str] | None:
        """The first route one of whose words the question contains, and that word."""
        folded = normalize(question)
        for route in self.routes:
            word = next((w for w in route.words if w in folded), None)
            if word:
                return route, word
        return None

    def remainder(self, analysis: Analysis, word: str) -> list[str]:
        """The question's content words besides the route's word and the generic ones: what is
        left for the knowledge base to answer (「人口あたりのNPO法人数」 leaves NPO法人数)."""
        return [u.form for u in analysis.units
                if u.content and len(u.surface) > 1 and u.form not in self.generic_words
                and word not in u.surface and u.surface not in word]


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
            routes.append(Route(topic, words, office, source))
    generic = frozenset(normalize(str(w)) for w in raw.get("generic_words") or [])
    return RoutingTable(tuple(routes), generic), problems
