"""Indicators: the reminder schedule on a controllable clock, stored figures, derived counts,
exactly-once posting, and the yearly report."""
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from app.settings import Settings
from bot import casework, introductions, report
from bot.fonts import missing_glyphs
from bot.indicators import figure_problem, load_indicators
from bot.reminders import due_period
from bot.runtime import Desk
from knowledge.base import DEFAULT_FOLDER as CITY
from knowledge.calendar import add_business_days, business_days_between, first_business_day
from scheduler.jobs import registry_for, run_due
from store import cases, groups
from store import indicators as figures
from store.db import session_scope
from store.models import Case, Outbox, ReminderLedger

JST = ZoneInfo("Asia/Tokyo")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.fixture
def desk(db, kb):
    return Desk(db, kb, Settings().desk)


@pytest.fixture
def registry(desk):
    return registry_for(desk)


def posts(db) -> list[Outbox]:
    with Session(db) as session:
        return session.exec(select(Outbox).where(Outbox.kind == "post").order_by(Outbox.id)).all()


@pytest.mark.parametrize("year, month, expected", [
    (2027, 1, date(2027, 1, 4)),    # 1 Jan is a holiday, 2–3 Jan a weekend
    (2027, 5, date(2027, 5, 6)),    # Golden Week: 1–2 May weekend, 3–5 May holidays
    (2026, 12, date(2026, 12, 1)),
    (2026, 11, date(2026, 11, 2)),  # 1 Nov 2026 is a Sunday
])
def test_first_business_day_skips_weekends_and_holidays(year, month, expected):
    assert first_business_day(year, month) == expected


def test_business_day_arithmetic_skips_golden_week():
    assert add_business_days(date(2027, 4, 30), 1) == date(2027, 5, 6)
    assert business_days_between(date(2027, 4, 30), date(2027, 5, 7)) == 2


def test_reminder_posts_at_nine_on_the_first_business_day_only(desk, registry, db):
    assert run_due(desk, registry, at(2027, 1, 1, 9, 0)) == []      # a holiday
    assert run_due(desk, registry, at(2027, 1, 4, 8, 59)) == []     # too early
    [post] = run_due(desk, registry, at(2027, 1, 4, 9, 0))
    assert post.job == "indicator-reminder" and "2026年12月分" in post.text
    assert run_due(desk, registry, at(2027, 1, 4, 9, 15)) == []     # never twice
    assert len(posts(db)) == 1


def test_a_restart_after_nine_on_the_due_day_still_posts_that_day(desk, registry, db):
    [post] = [p for p in run_due(desk, registry, at(2027, 5, 6, 13, 40)) if p.job == "indicator-reminder"]
    assert "2027年4月分" in post.text
    assert run_due(desk, registry, at(2027, 5, 7, 9, 0)) == []  # not the first business day any more


def test_two_schedulers_on_one_database_post_exactly_once(db, kb):
    desks = [Desk(db, kb, Settings().desk), Desk(db, kb, Settings().desk)]
    registry = registry_for(desks[0])
    barrier, results = threading.Barrier(2), []

    def run(d):
        barrier.wait()
        results.append(run_due(d, registry, at(2026, 12, 1, 9, 0)))

    threads = [threading.Thread(target=run, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(posts(db)) == 1
    with Session(db) as session:
        assert len(session.exec(select(ReminderLedger)).all()) == 1


def test_month_boundaries_and_the_april_reminder_asks_for_the_fiscal_year(registry):
    monthly = next(i for i in registry if i.id == "share-web-posts")
    yearly = next(i for i in registry if i.id == "participation-rate")
    assert due_period(monthly, date(2027, 1, 4)) == "2026-12"
    assert due_period(monthly, date(2027, 4, 1)) == "2027-03"
    assert due_period(yearly, date(2027, 4, 1)) == "FY2026"
    assert due_period(yearly, date(2027, 5, 6)) is None


def test_a_value_reported_in_a_month_shows_in_the_next_months_reminder(desk, registry, db):
    with session_scope(db) as session:
        figures.report(session, "share-web-posts", "2026-11", 12, "U1")
        figures.report(session, "share-web-posts", "2026-11", 14, "U2", note="訂正")  # a correction
    [post] = run_due(desk, registry, at(2026, 12, 1, 9, 0))
    text = post.plain_text()
    assert "今回（2026-11）: 14件" in text
    with Session(db) as session:
        assert [r.value for r in figures.history(session, "share-web-posts")] == [12, 14]  # history kept
    [january] = run_due(desk, registry, at(2027, 1, 4, 9, 0))
    assert "前回（2026-11）: 14件" in january.plain_text() and "年度累計: 14件" in january.plain_text()


def make_case(session, desk, kind: str, when: datetime) -> Case:
    case = cases.create(session, kind=kind, prefix="S" if kind == "consultation" else "P", answers={"content": "x"},
                        channel="web", user_id="citizen", now=when, tz=JST)
    session.flush()
    return case


def test_derived_counts_match_the_case_history(desk, db):
    with session_scope(db) as session:
        a = make_case(session, desk, "consultation", at(2026, 10, 5, 10))
        b = make_case(session, desk, "proposal", at(2026, 10, 20, 10))
        c = make_case(session, desk, "consultation", at(2026, 11, 2, 10))
        for case, status, when in [(a, "マッチング成立", at(2026, 10, 31, 23, 59)), (b, "マッチング成立", at(2026, 11, 1, 0, 1)),
                                   (a, "取組化", at(2026, 11, 15)), (a, "協議中", at(2026, 11, 20)),
                                   (a, "マッチング成立", at(2026, 11, 25)),  # reached again: still counted once, in October
                                   (c, "協議中", at(2026, 11, 30))]:
            casework.change_status(session, {}, case, "USTAFF", status, "", when)
    with Session(db) as session:
        def count(rule, start, end):
            return figures.derived_count(session, rule, start, end, JST)
        assert count("reached:マッチング成立", date(2026, 10, 1), date(2026, 11, 1)) == 1
        assert count("reached:マッチング成立", date(2026, 11, 1), date(2026, 12, 1)) == 1
        assert count("reached:取組化", date(2026, 11, 1), date(2026, 12, 1)) == 1
        assert count("received:consultation", date(2026, 10, 1), date(2026, 11, 1)) == 1
        assert count("received:proposal", date(2026, 4, 1), date(2027, 4, 1)) == 1


def test_nudge_three_business_days_later_names_the_missing_and_who_answers(desk, registry, db, tmp_path):
    run_due(desk, registry, at(2027, 1, 4, 9, 0))
    assert [p.job for p in run_due(desk, registry, at(2027, 1, 6, 9, 0))] == []
    [nudge] = run_due(desk, registry, at(2027, 1, 7, 9, 0))
    assert nudge.job == "indicator-nudge" and "おかやまシェア・ウェブ" in str(nudge.sections)
    assert "マッチング件数" not in str(nudge.sections)  # derived: never asked


def test_overdue_cases_are_listed_on_business_days_at_half_past_nine(desk, registry, db):
    with session_scope(db) as session:
        make_case(session, desk, "consultation", at(2026, 11, 24, 10))
    assert run_due(desk, registry, at(2026, 11, 28, 9, 30)) == []  # Saturday
    [late] = run_due(desk, registry, at(2026, 11, 30, 9, 30))
    assert late.job == "overdue-cases" and "S-2026-0001" in late.plain_text()


def test_annual_report_writes_markdown_csv_and_a_japanese_chart(desk, registry, db, tmp_path):
    with session_scope(db) as session:
        figures.report(session, "participation-rate", "FY2026", 42.5, "U1")
        figures.set_target(session, "participation-rate", 50, "U1")
        for month in ("2026-04", "2026-05"):
            figures.report(session, "share-web-posts", month, 3, "U1")
        make_case(session, desk, "consultation", at(2026, 6, 1, 10))
        paths = report.write(session, registry, 2026, JST, tmp_path, "岡山市")
    md, csv_path, png = paths
    text = md.read_text(encoding="utf-8")
    assert all(ind.name in text for ind in registry)
    assert "42.5%" in text and "50.0%" in text and "85%" in text  # value, target, progress
    assert "| 6件 |" in text  # monthly reports summed over the fiscal year
    assert csv_path.read_bytes().startswith("\ufeff".encode())
    assert png.stat().st_size > 30_000
    labels = "".join(ind.name for ind in registry) + "協働推進計画 成果指標の推移年度まで基準目標未報告" + report.NO_TARGET
    assert missing_glyphs(labels) == set()


def panel(figure, indicator):
    return next(ax for ax in figure.axes if ax.get_title().replace("\n", "") == indicator.name)


def test_annual_report_leaves_years_before_the_first_case_empty_counts_in_whole_numbers_and_shows_targets(
        desk, registry, db):
    matching = next(i for i in registry if i.id == "matching-count")
    participation = next(i for i in registry if i.id == "participation-rate")
    with session_scope(db) as session:
        case = make_case(session, desk, "consultation", at(2025, 6, 1, 10))  # the desk's first case: FY2025
        groups.upsert(session, [{"name": "子ども食堂ネット", "kind": "その他", "activity_fields": ["子ども"],
                                 "areas": ["北区"]}], "U1", at(2026, 4, 1, 10))
        introductions.introduce(session, case, groups.all_groups(session)[0].id, "USTAFF", "", at(2026, 5, 1, 10))
        figures.set_target(session, "participation-rate", 50, "U1")
        rows = report.build(session, registry, 2026, JST, first_year=2023)
    by_id = {row.indicator.id: row for row in rows}
    assert by_id["matching-count"].values == (None, None, 0, 1)  # FY2023–24 before the desk; FY2025 counted
    text = report.markdown(rows, 2026, "岡山市")
    [matching_line] = [line for line in text.splitlines() if matching.name in line and line.startswith("|")]
    assert "| — | — | 0件 | 1件 | 目標未設定 |" in matching_line
    [participation_line] = [line for line in text.splitlines() if participation.name in line]
    assert "| 50.0% |" in participation_line and "目標未設定" not in participation_line

    figure = report.draw(rows, 2026)
    counts = panel(figure, matching)
    heights = sorted(bar.get_height() for bar in counts.patches)
    assert heights == [0, 1, matching.baseline_value]  # the baseline, FY2025, FY2026: no bar before the desk
    assert all(float(tick).is_integer() for tick in counts.get_yticks())
    assert report.NO_TARGET in [t.get_text() for t in counts.texts]
    percent = panel(figure, participation)
    assert [t.get_text() for t in percent.get_legend().get_texts()] == ["目標 50.0%"]
    assert report.NO_TARGET not in [t.get_text() for t in percent.texts]
    assert {t.get_text() for t in percent.texts} >= {"未報告"}  # a figure that was due and is missing
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_report_cli_and_remind_cli(tmp_path, monkeypatch):
    import subprocess
    import sys

    env = {**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "app", *a], env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run("indicators", "report", "share-web-posts", "2026-11", "１２件").returncode == 0
    assert run("indicators", "report", "share-web-posts", "2026-11", "many").returncode == 2
    for refused, said in ((("participation-rate", "2026-11", "39.9"), "年度ごとの指標"),
                          (("participation-rate", "FY2025", "150"), "0〜100"),
                          (("matching-count", "2026-11", "3"), "案件の記録から自動で数える")):
        out = run("indicators", "report", *refused)
        assert out.returncode == 2 and said in out.stderr  # stored, it would never have been read
    again = run("indicators", "report", "share-web-posts", "2026-11", "13")
    assert again.returncode == 0 and "(replaces 12件 reported by cli)" in again.stdout  # a correction says so
    for refused, said in ((("participation-rate", "abc"), "not a number"), (("participation-rate", "150"), "0〜100"),
                          (("share-web-posts", "-3"), "0以上")):
        out = run("indicators", "set-target", *refused)
        assert out.returncode == 2 and said in out.stderr
    assert run("indicators", "set-target", "matching-count", "40").returncode == 0
    listing = run("indicators", "list").stdout
    assert "share-web-posts" in listing and "13件 (2026-11)" in listing and "40件" in listing
    dry = run("remind", "run", "--now", "2026-12-01T09:00:00+09:00", "--dry-run")
    assert "2026年11月分" in dry.stdout and "13件" in dry.stdout
    garbled = run("remind", "run", "--now", "garbage", "--dry-run")
    assert garbled.returncode == 2 and "2026-12-01T09:00:00+09:00 の形" in garbled.stderr and "Traceback" not in garbled.stderr
    again = run("remind", "run", "--now", "2026-12-01T09:00:00+09:00", "--dry-run")
    assert "2026年11月分" in again.stdout  # a dry run posts nothing, so it is still due
    posted = run("remind", "run", "--now", "2026-12-01T09:00:00+09:00")  # no Slack here
    assert "nothing was posted" in posted.stdout and "kyodo-desk serve" not in posted.stdout
    out = run("report", "annual", "--fiscal-year", "2026", "--out", str(tmp_path / "r"))
    assert out.returncode == 0 and len(list((tmp_path / "r").iterdir())) == 3


def test_serve_schedules_the_jobs_under_fixed_ids_at_nine_in_tokyo(tmp_path, kb):
    from app.server import create_app
    from scheduler.jobs import SchedulerLeader
    from store.db import make_engine, migrate
    from tests.support.live import LiveServer, wait_until

    db = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    migrate(db)
    app = create_app(Settings(), Desk(db, kb, Settings().desk))
    [leader] = [loop for loop in app.state.background.others if isinstance(loop, SchedulerLeader)]
    with LiveServer(app):
        scheduler = wait_until(lambda: leader.scheduler, 10, "the scheduler")
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert sorted(jobs) == [
            "group-upkeep", "indicator-reminders", "knowledge-digest", "overdue-cases", "retention",
        ]
        reminder = jobs["indicator-reminders"].next_run_time
        assert (reminder.utcoffset(), reminder.hour, reminder.minute) == (timedelta(hours=9), 9, 0)
        upkeep = jobs["group-upkeep"].next_run_time
        assert (upkeep.utcoffset(), upkeep.hour) == (timedelta(hours=9), 10)


def test_the_scheduler_lease_has_one_holder_and_passes_on_when_it_lapses(db):
    from store import leases

    now = datetime(2026, 12, 1, tzinfo=UTC)
    ttl = timedelta(seconds=30)
    with session_scope(db) as session:
        assert leases.acquire(session, "scheduler", "a", now, ttl)
    with session_scope(db) as session:
        assert not leases.acquire(session, "scheduler", "b", now + timedelta(seconds=10), ttl)
        assert leases.acquire(session, "scheduler", "a", now + timedelta(seconds=10), ttl)  # renewal
    with session_scope(db) as session:
        assert not leases.acquire(session, "scheduler", "b", now + timedelta(seconds=39), ttl)
        assert leases.acquire(session, "scheduler", "b", now + timedelta(seconds=41), ttl)  # "a" died
        assert leases.holder_of(session, "scheduler") == "b"


@pytest.mark.parametrize("indicator_id, period, value, said", [
    ("share-web-posts", "FY2025", 12, "月ごとの指標"), ("share-web-posts", "2026-11", 2.5, "件数は整数"),
    ("share-web-posts", "2027-01", 3, "まだ始まっていない"), ("award-voters", "FY2025", 10.5, "票数は整数"),
    ("participation-rate", "FY2025", 100.5, "0〜100"), ("consultations-received", "2026-11", 4, "報告は不要"),
])
def test_a_figure_the_report_would_not_read_is_refused_saying_why(indicator_id, period, value, said):
    indicator = next(i for i in load_indicators(CITY) if i.id == indicator_id)
    assert said in (figure_problem(indicator, period, value, date(2026, 12, 4)) or "")


@pytest.mark.parametrize("indicator_id, period, value", [
    ("share-web-posts", "2026-11", 12), ("participation-rate", "FY2025", 39.9), ("participation-rate", "FY2026", 0),
])
def test_a_figure_that_counts_passes(indicator_id, period, value):
    indicator = next(i for i in load_indicators(CITY) if i.id == indicator_id)
    assert figure_problem(indicator, period, value, date(2026, 12, 4)) is None
