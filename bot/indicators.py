"""The indicator registry (a city's indicators.yaml) and reporting periods."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

MONTHLY, YEARLY = "monthly", "yearly"
COUNT_UNITS = ("件", "票", "人", "回", "団体", "か所")  # whole numbers: a chart's axis has no 0.5 steps


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    policy: str
    unit: str
    baseline_value: float | None
    baseline_year: str
    target: float | None
    source: str
    frequency: str
    responsible: tuple[str, ...]
    derived: str | None  # "reached:<status>", "received:<kind>", "introduced" or "realized" (store/indicators.py)

    @property
    def is_count(self) -> bool:
        return self.unit in COUNT_UNITS

    def format(self, value: float | None) -> str:
        if value is None:
            return "—"
        shown = f"{value:g}" if self.unit != "%" else f"{value:.1f}"
        return f"{shown}{self.unit}"


def load_indicators(folder: Path) -> list[Indicator]:
    path = folder / "indicators.yaml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for item in raw.get("indicators") or []:
        baseline = item.get("baseline") or {}
        frequency = item.get("frequency", YEARLY)
        if frequency not in (MONTHLY, YEARLY):
            raise ValueError(f"{path}: {item.get('id')}: frequency must be monthly or yearly")
        out.append(Indicator(
            id=str(item["id"]), name=str(item["name"]), policy=str(item.get("policy", "")), unit=str(item.get("unit", "")),
            baseline_value=_number(baseline.get("value")), baseline_year=str(baseline.get("year") or ""),
            target=_number(item.get("target")), source=str(item.get("source", "")), frequency=frequency,
            responsible=tuple(str(r) for r in item.get("responsible") or []), derived=item.get("derived") or None,
        ))
    return out


def _number(value) -> float | None:
    return None if value in (None, "") else float(value)


# --- periods ---------------------------------------------------------------------------------

def month_period(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def fiscal_period(fiscal_year: int) -> str:
    return f"FY{fiscal_year}"


def previous_month(day: date) -> tuple[int, int]:
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def period_bounds(period: str) -> tuple[date, date]:
    """[start, end) of a period label."""
    if period.startswith("FY"):
        year = int(period[2:])
        return date(year, 4, 1), date(year + 1, 4, 1)
    year, month = (int(p) for p in period.split("-"))
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def months_of_fiscal_year(fiscal_year: int) -> list[str]:
    return [month_period(fiscal_year + (m < 4), m) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


# --- reported figures ------------------------------------------------------------------------

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_FISCAL_YEAR = re.compile(r"FY\d{4}")


def figure_problem(indicator: Indicator, period: str, value: float, today: date) -> str | None:
    """Why a reported figure would not count (said to the staff member), or None. A figure the
    desk would never read (a month of a yearly indicator, a count it takes from the case records)
    is refused rather than stored and silently ignored."""
    if indicator.derived:
        return f"「{indicator.name}」は案件の記録から自動で数えるため、報告は不要です。"
    monthly = indicator.frequency == MONTHLY
    if not (_MONTH if monthly else _FISCAL_YEAR).fullmatch(period):
        return ("月ごとの指標です。期間は 2026-10 のように月で指定してください。" if monthly
                else "年度ごとの指標です。期間は FY2026 のように年度で指定してください。")
    if period_bounds(period)[0] > today:
        return f"{period} はまだ始まっていない期間です。"
    return value_problem(indicator, value)


def value_problem(indicator: Indicator, value: float) -> str | None:
    """Why a figure (reported, or a target) cannot be the indicator's, or None."""
    if value < 0:
        return "0以上の値を入力してください。"
    if indicator.unit == "%" and value > 100:
        return "割合（%）は0〜100の範囲で入力してください。"
    if indicator.is_count and not float(value).is_integer():
        return f"{indicator.unit}数は整数で入力してください。"
    return None
