"""Matches feed the plan's indicators: an introduction is a マッチング, one marked 取組化 counts for
the second indicator; the monthly reminder and the yearly report count them from the records, by
Tokyo months, each figure traced to its cases (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import introductions, report
from bot.indicators import load_indicators
from bot.partners import GroupDirectory
from bot.reminders import monthly_reminder
from knowledge.base import DEFAULT_FOLDER
from store import cases
from store import groups as table
from store import indicators as figures
from store.db import session_scope

JST = ZoneInfo("Asia/Tokyo")
MATCHING, REALIZED = "協働による取組に向けたマッチング件数", "協働による取組をマッチングした結果、実際の取組につながった件数"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.fixture
def registry():
    return load_indicators(Path(DEFAULT_FOLDER))


@pytest.fixture
def directory(db):
    return GroupDirectory.for_folder(db, Path(DEFAULT_FOLDER), JST)


def new_case(db, when: datetime) -> int:
    with session_scope(db) as session:
        case = cases.create(session, kind="consultation", prefix="S", answers={"content": "子ども食堂"}, channel="web",
                            user_id="citizen", now=when, tz=JST)
        session.flush()
        return case.id


def new_groups(db, count: int) -> list[int]:
    with session_scope(db) as session:
        table.upsert(session, [{"name": f"団体{i}", "kind": "その他", "activity_fields": ["子ども"], "areas": ["北区"],
                                "status": "公開"} for i in range(count)], "tester", at(2026, 4, 1))
        return [g.id for g in table.all_groups(session)]


def reference(db, case_id: int) -> str:
    with session_scope(db) as session:
        return cases.by_id(session, case_id).reference


def test_the_registry_counts_matches_and_realized_ones_from_introductions(registry):
    derived = {i.name: i.derived for i in registry}
    assert derived[MATCHING] == "introduced" and derived[REALIZED] == "realized"


def test_introductions_count_in_the_tokyo_month_they_were_made(db, directory):
    december, january = new_case(db, at(2026, 12, 1, 10)), new_case(db, at(2026, 12, 2, 10))
    first, second = new_groups(db, 2)
    directory.introduce(december, first, "U1", at(2026, 12, 31, 23, 30))  # 14:30 UTC on the 31st
    directory.introduce(january, second, "U1", at(2027, 1, 1, 0, 10))  # still 2026-12-31 in UTC
    expected = [reference(db, december)]
    with session_scope(db) as session:
        def count(start: date, end: date) -> int:
            return figures.derived_count(session, "introduced", start, end, JST)
        assert (count(date(2026, 12, 1), date(2027, 1, 1)), count(date(2027, 1, 1), date(2027, 2, 1))) == (1, 1)
        assert figures.derived_cases(session, "introduced", date(2026, 12, 1), date(2027, 1, 1), JST) == expected
    assert (directory.matching_count("2026-12"), directory.matching_count("2027-01")) == (1, 1)


def test_the_january_reminder_counts_decembers_introductions_and_names_their_cases(db, directory, registry):
    groups = new_groups(db, 4)
    made = [new_case(db, at(2026, 12, 1, 10)) for _ in range(3)]
    for case_id, group_id, when in [(made[0], groups[0], at(2026, 11, 30, 23, 59)),  # November
                                    (made[1], groups[1], at(2026, 12, 1, 0, 0)), (made[1], groups[2], at(2026, 12, 15)),
                                    (made[2], groups[3], at(2026, 12, 31, 23, 30)),
                                    (made[0], groups[1], at(2027, 1, 1, 0, 10))]:  # January
        directory.introduce(case_id, group_id, "U1", when)
    with session_scope(db) as session:
        rows = table.introductions_for_case(session, made[1])
        introductions.mark_realized(session, rows[0].id, "U1", at(2026, 12, 20, 12))
        post = monthly_reminder(session, registry, at(2027, 1, 4, 9, 0), JST)  # the first business day of January
    assert post is not None
    matching = next(s.lines for s in post.sections if s.lines[0].startswith(MATCHING))
    realized = next(s.lines for s in post.sections if s.lines[0].startswith(REALIZED))
    assert "今回（2026-12）: 3件（案件記録から集計）" in matching and "前回（2026-11）: 1件" in matching[2]
    assert f"対象の案件: {reference(db, made[1])}、{reference(db, made[2])}" in matching
    assert "今回（2026-12）: 1件（案件記録から集計）" in realized and f"対象の案件: {reference(db, made[1])}" in realized


def test_the_yearly_report_counts_the_fiscal_years_introductions(db, directory, registry):
    case_id = new_case(db, at(2025, 6, 1, 10))  # the desk's first case: FY2025
    group_ids = new_groups(db, 3)
    directory.introduce(case_id, group_ids[0], "U1", at(2026, 3, 31, 23, 50))  # FY2025
    directory.introduce(case_id, group_ids[1], "U1", at(2026, 4, 1, 0, 5))  # FY2026
    row = directory.introduce(case_id, group_ids[2], "U1", at(2026, 5, 1, 10))
    with session_scope(db) as session:
        introductions.mark_realized(session, row.id, "U1", at(2026, 9, 1, 10))
        built = report.build(session, registry, 2026, JST, first_year=2025)
    rows = {r.indicator.name: r.values for r in built}
    assert rows[MATCHING] == (1, 2) and rows[REALIZED] == (0, 1)
    text = report.markdown(built, 2026, "岡山市")
    assert f"- {MATCHING}: {reference(db, case_id)}" in text and f"- {REALIZED}: {reference(db, case_id)}" in text
