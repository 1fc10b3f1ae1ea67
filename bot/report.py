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
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot import csvsafe  # noqa: E402
from bot.fonts import JAPANESE_FONT  # noqa: E402
from bot.indicators import Indicator, fiscal_period, period_bounds  # noqa: E402
from bot.reminders import value_for  # noqa: E402
from knowledge.calendar import fiscal_year_of  # noqa: E402
from store import indicators as figures  # noqa: E402

PLAN_FIRST_YEAR = 2016  # 平成28年度
NO_TARGET = "目標未設定"
HEADROOM = 1.3  # above the highest bar or target: room for its figure and the legend


@dataclass(frozen=True)
class Row:
    indicator: Indicator
    years: tuple[int, ...]
    values: tuple[float | None, ...]
    target: float | None
    cases: tuple[str, ...] = ()  # a derived count's cases in the report's year (reference numbers)

    @property
    def latest(self) -> float | None:
        return self.values[-1]

    def progress(self) -> str:
        if self.target in (None, 0) or self.latest is None:
            return "—"
        return f"{self.latest / self.target:.0%}"


def build(session: Session, registry: list[Indicator], fiscal_year: int, tz: ZoneInfo,
          first_year: int | None = None) -> list[Row]:
    """The rows of the report. A count derived from the case records is left empty (None) for
    the years before the desk's first case: the desk was not counting then, so 0 would be untrue."""
    years = tuple(range(min(first_year or fiscal_year, fiscal_year), fiscal_year + 1))
    first_case = figures.first_case_at(session)
    counting_from = fiscal_year_of(first_case.astimezone(tz).date()) if first_case else None
    rows = []
    for indicator in registry:
        target = figures.target(session, indicator.id)
        values = tuple(None if indicator.derived and (counting_from is None or year < counting_from)
                       else value_for(session, indicator, fiscal_period(year), tz) for year in years)
        behind = (tuple(figures.derived_cases(session, indicator.derived, *period_bounds(fiscal_period(fiscal_year)), tz))
                  if indicator.derived else ())
        rows.append(Row(indicator, years, values, target if target is not None else indicator.target, behind))
    return rows


def markdown(rows: list[Row], fiscal_year: int, city: str) -> str:
    lines = [f"# {city} 協働推進計画 成果指標の実績（{fiscal_year}年度）", "",
             "| 基本方針 | 指標 | 基準値 | " + " | ".join(f"{y}年度" for y in rows[0].years) + " | 目標値 | 達成率 | 出典 |",
             "|---|---|---|" + "---|" * len(rows[0].years) + "---|---|---|"] if rows else []
    for row in rows:
        ind = row.indicator
        baseline = f"{ind.format(ind.baseline_value)}（{ind.baseline_year}）" if ind.baseline_year else ind.format(ind.baseline_value)
        cells = [ind.policy, ind.name, baseline, *(ind.format(v) for v in row.values), target_text(row),
                 row.progress(), ind.source]
        lines.append("| " + " | ".join(c.replace("|", "／") for c in cells) + " |")
    lines += ["", "「—」は未報告、または kyodo-desk の記録が始まる前の年度です。件数の指標は年度の合計、"
              "案件記録から集計する指標は kyodo-desk の記録によります。"]
    traced = [f"- {row.indicator.name}: " + "、".join(row.cases) for row in rows if row.cases]
    if traced:
        lines += ["", f"## 案件記録から集計した件数の対象案件（{fiscal_year}年度）", "", *traced]
    return "\n".join(lines) + "\n"


def target_text(row: Row) -> str:
    return NO_TARGET if row.target is None else row.indicator.format(row.target)


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
    figure = draw(rows, fiscal_year)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def draw(rows: list[Row], fiscal_year: int) -> Figure:
    """One panel per indicator, three to a line, in the bundled Japanese font."""
    font_manager.fontManager.addfont(str(JAPANESE_FONT))
    family = font_manager.FontProperties(fname=str(JAPANESE_FONT)).get_name()
    columns = 3
    lines = (max(1, len(rows)) + columns - 1) // columns
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        figure, axes = plt.subplots(lines, columns, figsize=(15, 4.2 * lines), squeeze=False)
        for ax, row in zip(axes.flat, rows, strict=False):
            _panel(ax, row)
        for ax in list(axes.flat)[len(rows):]:
            ax.axis("off")
        figure.suptitle(f"協働推進計画 成果指標の推移（{fiscal_year}年度まで）", fontsize=16)
        figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure


def _panel(ax, row: Row) -> None:
    """Bars for the baseline and each year with a figure; a year without one has no bar (「未報告」
    when it was due to be reported, nothing before the desk's records begin)."""
    ind = row.indicator
    labels = [f"基準\n{ind.baseline_year or '—'}"] + [f"{y}" for y in row.years]
    values = [ind.baseline_value, *row.values]
    drawn = [(x, v) for x, v in enumerate(values) if v is not None]
    ax.bar([x for x, _ in drawn], [v for _, v in drawn], color=["#9aa5b1" if x == 0 else "#0b6bcb" for x, _ in drawn])
    for x, v in drawn:
        ax.annotate(f"{v:g}", (x, v), ha="center", va="bottom", fontsize=8)
    if not ind.derived:
        for x, reported in enumerate(values[1:], start=1):
            if reported is None:
                ax.annotate("未報告", (x, 0), ha="center", va="bottom", fontsize=8, color="#666666")
    highest = max([v for _, v in drawn] + [row.target or 0])
    ax.set_ylim(0, highest * HEADROOM if highest > 0 else 1)
    if ind.is_count:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if row.target is not None:
        ax.axhline(row.target, color="#d9480f", linestyle="--", linewidth=1.2, label=f"目標 {ind.format(row.target)}")
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.02, 0.97, NO_TARGET, transform=ax.transAxes, ha="left", va="top", fontsize=8, color="#d9480f",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#d9480f"})
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_xlim(-0.6, len(values) - 0.4)
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
