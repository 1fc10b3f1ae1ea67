"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection"): a text cell
starting with =, +, -, @, a tab or a carriage return gets a leading single quote. Plain numbers
(-3, +1.5) are left alone; they cannot run anything."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def neutralise(value: object) -> str:
    """One cell as text, safe to open in Excel, LibreOffice or Google Sheets."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as CSV in UTF-8 with a BOM (so that Excel reads it as UTF-8), CRLF line ends, every
    cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
