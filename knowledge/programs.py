"""The city's programs by name (synonyms.yaml `programs`), so that a question naming one program
is not answered from another's entry: 「市民協働推進事業の締切は？」 must not get 区づくり推進事業's
deadline, however many other words the two entries share.

An entry speaks of a program when its title, body or questions contain one of its names. For a
question naming a program, entries speaking of it gain, and entries speaking only of other
programs lose; entries naming no program (the general ones) are left as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.analysis import normalize

NAMED_BONUS = 1.3  # score factor for an entry speaking of the program the question names
OTHER_PENALTY = 0.45  # for an entry speaking only of other programs


@dataclass(frozen=True)
class ProgramNames:
    groups: tuple[tuple[str, ...], ...] = ()  # normalized names, one group per program

    @classmethod
    def of(cls, groups: tuple[tuple[str, ...], ...]) -> ProgramNames:
        return cls(tuple(tuple(normalize(name) for name in group) for group in groups))

    def named(self, text: str) -> frozenset[int]:
        """The programs a (normalized) text names."""
        return frozenset(i for i, names in enumerate(self.groups) if any(name in text for name in names))

    def spoken(self, texts: list[str]) -> np.ndarray:
        """Which programs each (normalized) entry text speaks of: entries × programs."""
        return np.array([[any(name in text for name in names) for names in self.groups] for text in texts],
                        dtype=bool).reshape(len(texts), len(self.groups))

    def factors(self, question: str, spoken: np.ndarray) -> np.ndarray | None:
        """A score factor per entry for a question, or None when it names no program."""
        asked = self.named(normalize(question))
        if not asked:
            return None
        mask = np.zeros(len(self.groups), dtype=bool)
        mask[list(asked)] = True
        named, other = spoken[:, mask].any(axis=1), spoken[:, ~mask].any(axis=1)
        return np.where(named, NAMED_BONUS, np.where(other, OTHER_PENALTY, 1.0)).astype(np.float32)
