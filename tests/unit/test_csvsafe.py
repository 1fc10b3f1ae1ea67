"""CSV exports open as data in a spreadsheet, never as formulas (OWASP CSV injection)."""
import csv
import io

import pytest

from bot import csvsafe
from bot.indicators import Indicator
from bot.report import Row, csv_bytes


@pytest.mark.parametrize("cell", ["=1+1", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell):
    assert csvsafe.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["12", "-3", "+1.5", "39.9", "子ども食堂", "", "a=b", "メール: a@example.jp"])
def test_plain_numbers_and_text_are_left_alone(cell):
    assert csvsafe.neutralise(cell) == cell


def read(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_rows_keep_commas_quotes_and_line_breaks_and_end_lines_with_crlf():
    content = csvsafe.to_bytes([["a", "b"], ['x, "y"', "line\nbreak"], [None, -1]])
    assert content.endswith(b"\r\n")
    assert read(content) == [["a", "b"], ['x, "y"', "line\nbreak"], ["", "-1"]]


def test_the_yearly_report_csv_is_neutralised_too():
    indicator = Indicator(id="x", name="=cmd()", policy="@policy", unit="件", baseline_value=-1.0, baseline_year="2015",
                          target=10.0, source="+source", frequency="yearly", responsible=(), derived=None)
    header, row = read(csv_bytes([Row(indicator, (2026,), (3.0,), 10.0)]))
    cells = dict(zip(header, row, strict=True))
    assert (cells["指標"], cells["基本方針"], cells["出典"]) == ("'=cmd()", "'@policy", "'+source")
    assert (cells["基準値"], cells["2026年度"]) == ("-1", "3")
