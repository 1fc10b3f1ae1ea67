"""Dialect and formal wordings a question may use (synonyms.yaml `plain`), rewritten in plain Japanese
before it is read: the dictionary reads Okayama's asking words as other words (どけぇ as 退ける,
なして as 成す, どがぁな as 浅い), which then count as topics the knowledge lacks, and the kind of
question (where / why / how) goes unseen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rewording:
    pattern: re.Pattern[str] | None = None
    plain: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: tuple[tuple[str, str], ...]) -> Rewording:
        if not pairs:
            return cls()
        longest_first = sorted(dict(pairs), key=len, reverse=True)  # どがぁな before どがぁ
        return cls(re.compile("|".join(map(re.escape, longest_first))), dict(pairs))

    def rewrite(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda match: self.plain[match.group(0)], text)
