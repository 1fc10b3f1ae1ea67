"""Score factors from the city's vocabulary (synonyms.yaml), applied before ranking.

`programs`: a question naming one program is not answered from another's entry: 「市民協働推進事業
の締切は？」 must not get 区づくり推進事業's deadline, however many other words the two entries share.
An entry speaks of a program when its title, body or questions contain one of its names. For a
question naming a program, entries speaking of it gain, and entries speaking only of other
programs lose; entries naming no program (the general ones) are left as they are.

`gated`: entries written for staff and the committee (the plan's 成果指標) come first only for a
question that asks for such a figure; otherwise their numbers and words (マッチング件数) capture
citizens' questions (「マッチングしてもらえる？」).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from knowledge.analysis import normalize

GATED_PENALTY = 0.3  # for a gated entry when the question has none of the gate's words
NAMED_BONUS = 1.3  # score factor for an entry speaking of the program the question names
OTHER_PENALTY = 0.45  # for an entry speaking only of other programs


@dataclass(frozen=True)
class ProgramNames:
    groups: tuple[tuple[str, ...], ...] = ()  # normalized names, one group per program, then per audience
    programs: int = 0  # how many of the groups are programs

    @classmethod
    def of(cls, programs: tuple[tuple[str, ...], ...], audiences: tuple[tuple[str, ...], ...] = ()) -> ProgramNames:
        return cls(tuple(tuple(normalize(name) for name in group) for group in programs + audiences), len(programs))

    def named(self, text: str) -> frozenset[int]:
        """The programs a (normalized) text names."""
        return frozenset(i for i, names in enumerate(self.groups) if any(name in text for name in names))

    def spoken(self, texts: list[str]) -> np.ndarray:
        """Which programs each (normalized) entry text speaks of: entries × programs."""
        return np.array([[any(name in text for name in names) for names in self.groups] for text in texts],
                        dtype=bool).reshape(len(texts), len(self.groups))

    def asked(self, folded: str) -> frozenset[int]:
        """The programs a (normalized) question names, or else the audiences it names."""
        asked = self.named(folded)
        if any(i < self.programs for i in asked):
            return frozenset(i for i in asked if i < self.programs)
        return asked

    def factors(self, asked: frozenset[int], spoken: np.ndarray, compares: bool = False,
                general: bool = False) -> np.ndarray | None:
        """A score factor per entry for a question naming these programs, or None when it names none. A
        question comparing programs (「区づくりと市民協働推進事業の違い」) prefers the entries speaking of all;
        a `general` one, naming none (「補助金はいくらまで？」), those speaking of several."""
        if not asked:
            spoken_of = spoken[:, :self.programs].sum(axis=1)
            if not general or not (spoken_of >= 2).any():
                return None
            return np.where(spoken_of >= 2, NAMED_BONUS, np.where(spoken_of == 1, OTHER_PENALTY, 1.0)).astype(np.float32)
        mask = np.zeros(len(self.groups), dtype=bool)
        mask[list(asked)] = True
        named, other = spoken[:, mask].any(axis=1), spoken[:, ~mask].any(axis=1)
        factors = np.where(named, NAMED_BONUS, np.where(other, OTHER_PENALTY, 1.0))
        if compares and len(asked) > 1:
            factors = np.where(spoken[:, mask].all(axis=1), factors * NAMED_BONUS, factors)
        return factors.astype(np.float32)


@dataclass(frozen=True)
class Gate:
    title: str  # entries whose title begins with this
    words: tuple[str, ...]  # normalized; a question with one of them opens the gate


@dataclass(frozen=True)
class Gates:
    gates: tuple[Gate, ...] = ()

    @classmethod
    def of(cls, raw: tuple[tuple[str, tuple[str, ...]], ...]) -> Gates:
        return cls(tuple(Gate(title, tuple(normalize(w) for w in words)) for title, words in raw))

    def shut(self, titles: list[str]) -> np.ndarray:
        """Which gate, if any, each entry is behind: entries × gates."""
        return np.array([[t.startswith(g.title) for g in self.gates] for t in titles],
                        dtype=bool).reshape(len(titles), len(self.gates))

    def closed(self, folded: str) -> tuple[bool, ...]:
        """Which gates a (normalized) question leaves shut: it has none of their words."""
        return tuple(not any(w in folded for w in g.words) for g in self.gates)

    def factors(self, shut: tuple[bool, ...], behind: np.ndarray) -> np.ndarray | None:
        """A score factor per entry with these gates shut, or None when every gate is open (or none exists)."""
        closed = np.array(shut, dtype=bool)
        if not closed.any():
            return None
        return np.where(behind[:, closed].any(axis=1), GATED_PENALTY, 1.0).astype(np.float32)


@dataclass(frozen=True)
class ScoreFactors:
    """The programs and gates with what each entry speaks of and is behind, for one set of entries."""
    programs: ProgramNames = ProgramNames()
    gates: Gates = Gates()
    spoken: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    behind: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    # the factors by the programs named, comparing or not, and the gates shut: a few dozen in all
    _made: dict[tuple, np.ndarray | None] = field(default_factory=dict, compare=False, repr=False)

    def over(self, titles: list[str], texts: list[str]) -> ScoreFactors:
        """These programs and gates over entries with these titles and (normalized) texts."""
        return ScoreFactors(self.programs, self.gates, self.programs.spoken(texts), self.gates.shut(titles))

    def factors(self, question: str, compares: bool = False, general: bool = False) -> np.ndarray | None:
        folded = normalize(question)
        key = (self.programs.asked(folded), compares, self.gates.closed(folded), general)
        if key not in self._made:
            self._made[key] = self._factors(*key)
        return self._made[key]

    def _factors(self, asked: frozenset[int], compares: bool, shut: tuple[bool, ...], general: bool) -> np.ndarray | None:
        found = [f for f in (self.programs.factors(asked, self.spoken, compares, general), self.gates.factors(shut, self.behind))
                 if f is not None]
        if not found:
            return None
        made = found[0] if len(found) == 1 else found[0] * found[1]
        made.flags.writeable = False  # shared by every question asking the same
        return made
