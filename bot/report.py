"""The yearly report for the 協働推進委員会: every indicator's baseline, yearly values and target,
as Markdown, CSV and a chart (PNG, drawn with the bundled Japanese font)."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot import csvsafe  # noqa: E402
from bot.fonts import JAPANESE_FONT  # noqa: E402
from bot.indicators import Indicator, fiscal_period  # noqa: E402
from bot.reminders import value_for  # noqa: E402
from store import indicators as figures  # noqa: E402

PLAN_FIRST_YEAR = 2016  # 平成28年度


@dataclass(frozen=True)
class Row:
    indicator: Indicator
    years: tuple[int, ...]
    values: tuple[float | None, ...]
    target: float | None

    @property
    def latest(self) -> float | None:
        return self.values[-1]

    def progress(self) -> str:
        if self.target in (None, 0) or self.latest is None:
            return "—"
        return f"{self.latest / self.target:.0%}"


def build(session: Session, registry: list[Indicator], fiscal_year: int, tz: ZoneInfo, first_year: int | None = None) -> list[Row]:
    years = tuple(range(min(first_year or fiscal_year, fiscal_year), fiscal_year + 1))
    rows = []
    for indicator in registry:
        target = figures.target(session, indicator.id)
        rows.append(Row(indicator, years, tuple(value_for(session, indicator, fiscal_period(y), tz) for y in years),
                        target if target is not None else indicator.target))
    return rows


def markdown(rows: list[Row], fiscal_year: int, city: str) -> str:
    lines = [f"# {city} 協働推進計画 成果指標の実績（{fiscal_year}年度）", "",
             "| 基本方針 | 指標 | 基準値 | " + " | ".join(f"{y}年度" for y in rows[0].years) + " | 目標値 | 達成率 | 出典 |",
             "|---|---|---|" + "---|" * len(rows[0].years) + "---|---|---|"] if rows else []
    for row in rows:
        ind = row.indicator
        baseline = f"{ind.format(ind.baseline_value)}（{ind.baseline_year}）" if ind.baseline_year else ind.format(ind.baseline_value)
        cells = [ind.policy, ind.name, baseline, *(ind.format(v) for v in row.values), ind.format(row.target),
                 row.progress(), ind.source]
        lines.append("| " + " | ".join(c.replace("|", "／") for c in cells) + " |")
    lines += ["", "「—」は未報告または未設定。件数の指標は年度の合計、案件記録から集計する指標は kyodo-desk の記録によります。"]
    return "\n".join(lines) + "\n"


def csv_bytes(rows: list[Row]) -> bytes:
    years = rows[0].years if rows else ()
    header = ["id", "基本方針", "指標", "単位", "基準値", "基準年", *(f"{y}年度" for y in years), "目標値", "出典"]
    return csvsafe.to_bytes([header, *([row.indicator.id, row.indicator.policy, row.indicator.name, row.indicator.unit,
                                        _cell(row.indicator.baseline_value), row.indicator.baseline_year,
                                        *(_cell(v) for v in row.values), _cell(row.target), row.indicator.source]
                                       for row in rows)])


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def chart(rows: list[Row], fiscal_year: int, path: Path) -> None:
    font_manager.fontManager.addfont(str(JAPANESE_FONT))
    family = font_manager.FontProperties(fname=str(JAPANESE_FONT)).get_name()
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        columns = 3
        count = max(1, len(rows))
        figure, axes = plt.subplots((count + columns - 1) // columns, columns, figsize=(15, 4.2 * ((count + columns - 1) // columns)),
                                    squeeze=False)
        for ax, row in zip(axes.flat, rows):
            _panel(ax, row)
        for ax in list(axes.flat)[len(rows):]:
            ax.axis("off")
        figure.suptitle(f"協働推進計画 成果指標の推移（{fiscal_year}年度まで）", fontsize=16)
        figure.tight_layout(rect=(0, 0, 1, 0.97))
        figure.savefig(path, dpi=110)
        plt.close(figure)


def _panel(ax, row: Row) -> None:
    ind = row.indicator
    labels = [f"基準\n{ind.baseline_year or '—'}"] + [f"{y}" for y in row.years]
    values = [ind.baseline_value] + list(row.values)
    colours = ["#9aa5b1"] + ["#0b6bcb"] * len(row.years)
    ax.bar(range(len(values)), [v or 0 for v in values], color=colours)
    for x, v in enumerate(values):
        empty = "—" if x == 0 else "未報告"
        ax.annotate(empty if v is None else f"{v:g}", (x, v or 0), ha="center", va="bottom", fontsize=8)
    highest = max([v for v in values if v is not None] + [row.target or 0])
    ax.set_ylim(0, highest * 1.15 if highest > 0 else 1)
    if row.target is not None:
        ax.axhline(row.target, color="#d9480f", linestyle="--", linewidth=1.2, label=f"目標 {row.target:g}")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_title("\n".join(textwrap.wrap(ind.name, 22)), fontsize=10)
    ax.set_ylabel(ind.unit)


def write(session: Session, registry: list[Indicator], fiscal_year: int, tz: ZoneInfo, out: Path, city: str) -> list[Path]:
    rows = build(session, registry, fiscal_year, tz, first_year=max(PLAN_FIRST_YEAR, fiscal_year - 4))
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"indicators-FY{fiscal_year}"
    paths = [stem.with_suffix(".md"), stem.with_suffix(".csv"), stem.with_suffix(".png")]
    paths[0].write_text(markdown(rows, fiscal_year, city), encoding="utf-8")
    paths[1].write_bytes(csv_bytes(rows))
    chart(rows, fiscal_year, paths[2])
    return paths
