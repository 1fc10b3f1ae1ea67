"""Reading a figure as people type it: 「１２件」「39.9%」「1,234」."""
from __future__ import annotations

import re
import unicodedata

_UNITS = re.compile(r"(件|票|人|%|％|ポイント|pt)$")


def parse_number(text: str) -> float | None:
    cleaned = unicodedata.normalize("NFKC", text or "").replace(",", "").strip()
    cleaned = _UNITS.sub("", cleaned).strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None
