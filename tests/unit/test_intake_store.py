"""Intake through the runtime and a real database (SQLite and PostgreSQL): what is stored, and
that nothing is lost or duplicated."""
import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from app.settings import Settings
from bot.messages import Postback, Text
from bot.runtime import Desk
from store.models import Case, CaseEvent, Conversation, Outbox
from tests.support.chat import reply_choices, reply_text

CONSULT = ["相談したい", "同意する", "個人", "山田花子", "地域の清掃活動を企業と一緒にしたい", "なし", "LINE", "なし"]
PROPOSE = ["提案したい", "同意する", "NPOです", "NPO法人ももたろう", "岡山太郎", "同じ", "086-111-2222",
           "a@example.jp", "見守り", "孤立", "見守り訪問", "訪問", "広報", "安心", "わからない", "来年度", "なし"]


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_desk(db, kb, clock=None) -> Desk:
    return Desk(db, kb, Settings().desk, clock=clock or Clock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)))


def talk(desk: Desk, user: str, lines: list[str], channel: str = "line") -> str:
    out = ""
    for line in lines:
        out = reply_text(desk.handle(channel, user, Text(line)))
    return out


def test_submitted_case_and_staff_notice_are_stored_together(db, kb):
    desk = make_desk(db, kb)
    talk(desk, "U1", CONSULT)
    out = talk(desk, "U1", ["送信"])
    assert "受付番号は S-2026-0001 です" in out
    with Session(db) as session:
        [case] = session.exec(select(Case)).all()
        assert (case.kind, case.status, case.channel, case.user_id) == ("consultation", "受付", "line", "U1")
        assert case.answers["content"] == "地域の清掃活動を企業と一緒にしたい"
        notices = session.exec(select(Outbox).order_by(Outbox.id)).all()
        assert [(n.channel, n.kind, n.payload["case_id"]) for n in notices] == [
            ("slack", "card", case.id), ("slack", "thread_answers", case.id)]
        assert [e.kind for e in session.exec(select(CaseEvent)).all()] == ["submitted"]


def test_reference_numbers_count_per_kind_and_restart_each_fiscal_year(db, kb):
    clock = Clock(datetime(2027, 3, 31, 14, 50, tzinfo=UTC))  # 23:50 JST, FY2026
    desk = make_desk(db, kb, clock)
    assert "S-2026-0001" in talk(desk, "A", CONSULT + ["送信"])
    assert "P-2026-0001" in talk(desk, "B", PROPOSE + ["送信"])
    assert "S-2026-0002" in talk(desk, "C", CONSULT + ["送信"])
    clock.now = datetime(2027, 3, 31, 15, 0, 1, tzinfo=UTC)  # 00:00 JST on 1 April: FY2027
    assert "S-2027-0001" in talk(desk, "D", CONSULT + ["送信"])


def test_a_draft_survives_a_restart(db, kb):
    talk(make_desk(db, kb), "U1", CONSULT[:5])
    restarted = make_desk(db, kb)
    out = talk(restarted, "U1", ["なし"])
    assert "連絡方法" in out
    assert "S-2026-0001" in talk(restarted, "U1", ["LINE", "なし", "送信"])


def test_status_shows_own_cases_only(db, kb):
    desk = make_desk(db, kb)
    talk(desk, "alice", CONSULT + ["送信"])
    talk(desk, "bob", PROPOSE + ["送信"])
    alice = talk(desk, "alice", ["状況を教えて"])
    assert "S-2026-0001" in alice and "P-2026-0001" not in alice
    asked = talk(desk, "alice", ["P-2026-0001 の状況は？"])
    assert "確認コード" in asked and "受付" not in asked.replace("受付のとき", "").replace("受付番号", "")
    assert "P-2026-0001" in talk(desk, "bob", ["状況確認"])
    assert "お預かりしているご相談・ご提案はありません" in talk(desk, "carol", ["状況確認"])


def test_same_person_two_messages_at_once_lose_nothing(db, kb):
    desk = make_desk(db, kb)
    talk(desk, "U1", CONSULT[:3])  # now asking for the name
    barrier = threading.Barrier(2)
    errors = []

    def send(text):
        try:
            barrier.wait()
            desk.handle("line", "U1", Text(text))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(t,)) for t in ("山田花子", "地域の清掃活動をしたい")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(db) as session:
        conversation = session.exec(select(Conversation)).one()
    answers = conversation.state["draft"]["answers"]
    # Both messages were applied, one after the other: one became the name, the other the content.
    assert sorted([answers["name"], answers["content"]]) == sorted(["山田花子", "地域の清掃活動をしたい"])
    assert conversation.version == len(CONSULT[:3]) + 2


def test_many_people_submitting_at_once_get_distinct_numbers(db, kb):
    desk = make_desk(db, kb)
    users = [f"U{i}" for i in range(6)]
    for user in users:
        talk(desk, user, CONSULT)
    results = {}

    def submit(user):
        results[user] = reply_text(desk.handle("line", user, Text("送信")))

    threads = [threading.Thread(target=submit, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(db) as session:
        references = sorted(c.reference for c in session.exec(select(Case)).all())
    assert references == [f"S-2026-{n:04d}" for n in range(1, 7)]
    assert all("受付番号は S-2026-" in text for text in results.values())


def test_old_button_after_submit_creates_nothing(db, kb):
    desk = make_desk(db, kb)
    talk(desk, "U1", CONSULT)
    summary = desk.handle("line", "U1", Text("修正"))
    summary = desk.handle("line", "U1", Text("確認に戻る"))
    submit = next(c for c in reply_choices(summary) if c.label == "送信する")
    desk.handle("line", "U1", Postback(submit.data))
    again = reply_text(desk.handle("line", "U1", Postback(submit.data)))
    assert "以前のやり取り" in again
    with Session(db) as session:
        assert len(session.exec(select(Case)).all()) == 1


def test_inbox_stores_an_event_once_and_says_so(db):
    from store import inbox
    from store.db import session_scope

    with session_scope(db) as session:
        assert inbox.add(session, channel="line", event_id="E1", user_key="user:U1", payload={"n": 1}) is True
        assert inbox.add(session, channel="line", event_id="E1", user_key="user:U1", payload={"n": 2}) is False
    with session_scope(db) as session:
        assert inbox.add(session, channel="line", event_id="E1", user_key="user:U1", payload={"n": 3}) is False
        [row] = inbox.claim_batch(session, 5)
        assert row.payload == {"n": 1}
