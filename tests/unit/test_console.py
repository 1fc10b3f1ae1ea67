"""The staff console's export and listings, on the real databases, through `kyodo-desk cases`."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.cli import main
from bot import casework
from store import cases
from store.db import session_scope

JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def console_db(db, monkeypatch):
    for variable in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    return db


def add_case(db, when: datetime, content: str, name: str = "岡山花子") -> str:
    with session_scope(db) as session:
        case = cases.create(session, kind="consultation", prefix="S", answers={"name": name, "content": content},
                            channel="web", user_id="w" * 24, now=when, tz=JST)
        return case.reference


def test_export_keeps_the_days_asked_for_and_neutralises_formulas(console_db, tmp_path, capsys):
    before = add_case(console_db, datetime(2026, 9, 30, 23, 59, tzinfo=JST), "前日")
    inside = add_case(console_db, datetime(2026, 10, 1, 0, 0, tzinfo=JST), '=HYPERLINK("http://x","click")',
                      name="@SUM(A1)")
    last = add_case(console_db, datetime(2026, 10, 31, 23, 59, tzinfo=JST), "-2+3")
    after = add_case(console_db, datetime(2026, 11, 1, 0, 0, tzinfo=JST), "翌日")
    out = tmp_path / "cases.csv"
    assert main(["cases", "export", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)]) == 0
    assert "2 件" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    references = [row[0] for row in rows[1:]]
    assert references == [inside, last] and before not in references and after not in references
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(\"http://x\",\"click\")" in cells and "'@SUM(A1)" in cells and "'-2+3" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_export_gives_a_proposals_phone_alone_when_no_email_was_given(console_db, tmp_path):
    with session_scope(console_db) as session:
        cases.create(session, kind="proposal", prefix="P", channel="web", user_id="w" * 24, tz=JST,
                     answers={"group_name": "NPO法人ももたろう", "phone": "090-1234-5678", "email": "（未回答）"},
                     now=datetime(2026, 10, 5, 10, 0, tzinfo=JST))
    out = tmp_path / "cases.csv"
    assert main(["cases", "export", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)]) == 0
    [_, row] = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert "090-1234-5678" in row and not any("未回答" in cell for cell in row)


def test_export_refuses_a_reversed_period_and_an_unwritable_file(console_db, tmp_path, capsys):
    assert main(["cases", "export", "--from", "2026-10-31", "--to", "2026-10-01", "--out", str(tmp_path / "x.csv")]) == 2
    assert "より後です" in capsys.readouterr().err
    assert main(["cases", "export", "--out", str(tmp_path / "missing" / "x.csv")]) == 2
    assert "書き込めません" in capsys.readouterr().err


def test_listings_by_scope_and_status_and_a_closed_case_cannot_be_replied_to(console_db, capsys):
    received = add_case(console_db, datetime(2026, 10, 1, 10, tzinfo=JST), "受付のまま")
    finished = add_case(console_db, datetime(2026, 10, 2, 10, tzinfo=JST), "もう終わった")
    with session_scope(console_db) as session:
        case = cases.by_reference(session, finished)
        casework.change_status(session, {}, case, "田中", "完了", "", datetime(2026, 10, 3, tzinfo=JST))

    def listed(*argv: str) -> list[str]:
        capsys.readouterr()
        assert main(["cases", "list", "--json", *argv]) == 0
        return [row["reference"] for row in json.loads(capsys.readouterr().out)]
    assert listed() == [received]  # open by default
    assert listed("--status", "all") == [finished, received]
    assert listed("--status", "完了") == [finished]
    assert listed("--status", "unassigned") == [received]
    assert main(["cases", "reply", finished, "追加のご連絡です", "--by", "田中"]) == 2
    assert "完了" in capsys.readouterr().err
    assert main(["cases", "status", received, "対応中", "--by", "  "]) == 2
    assert "--by" in capsys.readouterr().err
