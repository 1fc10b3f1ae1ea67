"""Dialect and formal wordings a question may use (synonyms.yaml `plain`), rewritten in plain Japanese
before it is read: the dictionary reads Okayama's asking words as other words (どけぇ as 退ける,
なして as 成す, どがぁな as 浅い), which then count as topics the knowledge lacks, and the kind of
question (where / why / how) goes unseen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rewording:
    pattern: re.Pattern[str] | None = None
    plain: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: tuple[tuple[str, str], ...]) -> Rewording:
        ordered = tuple(sorted(pairs, key=lambda pair: -len(pair[0])))  # どがぁな before どがぁ
        if not ordered:
            return cls()
        return cls(re.compile("|".join(re.escape(wording) for wording, _ in ordered)), ordered)

    def rewrite(self, text: str) -> str:
        if self.pattern is None:
            return text
        plain = dict(self.plain)
        return self.pattern.sub(lambda match: plain[match.group(0)], text)
