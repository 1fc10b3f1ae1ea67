"""The Slack listeners called the way bolt calls them, with a fake `ack`, `client` and `respond`
(only Slack's Web API is faked), over the real desk services, the real inbox worker and a real
database (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from app.settings import Settings
from bot.runtime import Desk
from bot.staffdesk import StaffDesk
from bot.worker import InboxWorker
from handlers.config import SlackConfig
from handlers.slack import actions, commands, events, views
from handlers.slack.services import NO_CASE, Services, StaffDirectory
from handlers.slack_blocks import REFUSAL
from store import cases
from store.db import session_scope
from store.models import Case, CaseEvent, Inbox, IndicatorReport, Outbox

HOSTILE = "<!channel> <https://evil.example|click> & more"
STAFF = "USTAFF1"


class FakeClient:
    """Slack's Web API as the listeners use it: every call recorded."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, method):
        def call(**kwargs):
            self.calls.append((method, kwargs))
            return {"ok": True, "channel": {"id": "D" + kwargs.get("users", "")}}
        return call

    def made(self, method: str) -> list[dict]:
        return [kwargs for name, kwargs in self.calls if name == method]


class Ack:
    def __init__(self, check=None):
        self.calls: list[dict] = []
        self.check = check

    def __call__(self, **kwargs):
        if self.check:
            self.check()
        self.calls.append(kwargs)


@pytest.fixture
def desk(db, kb):
    desk = Desk(db, kb, Settings().desk, clock=lambda: datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    desk.channels = {}
    return desk


@pytest.fixture
def services(desk):
    client = FakeClient()
    config = SlackConfig(bot_token="xoxb", signing_secret="s", staff_channel="CSTAFF", staff_user_ids=(STAFF,))
    return Services(config, client, StaffDesk(desk), StaffDirectory(client, config))


def new_case(desk: Desk, **answers) -> Case:
    with session_scope(desk.db) as session:
        case = cases.create(session, kind="consultation", prefix="S", channel="line", user_id="user:U1",
                            answers={"name": "山田", "content": "清掃活動", **answers}, now=desk.clock(), tz=desk.config.tz)
        cases.place_card(session, case.id, "CSTAFF", "1700000000.000001")
    return case


def pending_actions(desk: Desk) -> list[Inbox]:
    with Session(desk.db) as session:
        return list(session.exec(select(Inbox).where(Inbox.channel == "slack", Inbox.status == "pending")))


def run_worker(desk: Desk) -> None:
    worker = InboxWorker(desk.db, desk, {})
    while worker.step():
        pass


def case_events(desk: Desk, kind: str) -> list[CaseEvent]:
    with Session(desk.db) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.kind == kind)))


def slack_rows(desk: Desk, kind: str) -> list[Outbox]:
    with Session(desk.db) as session:
        return list(session.exec(select(Outbox).where(Outbox.channel == "slack", Outbox.kind == kind)))


def click(action_id: str, value: str, user: str = STAFF) -> dict:
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": "t1",
            "actions": [{"action_id": action_id, "value": value}]}


def submission(metadata: str, values: dict, user: str = STAFF) -> tuple[dict, dict]:
    view = {"id": "V1", "private_metadata": metadata, "state": {"values": values}}
    return {"type": "view_submission", "user": {"id": user}, "view": view}, view


def status_values(status: str, note: str = "") -> dict:
    return {"status": {"value": {"selected_option": {"value": status}}}, "note": {"text": {"value": note}}}


def test_a_claim_is_stored_before_the_ack_and_carried_out_once(services, desk):
    case = new_case(desk)
    ack = Ack(check=lambda: len(pending_actions(desk)) == 1 or pytest.fail("acknowledged before it was stored"))
    actions.claim(services, ack, click("case_claim", str(case.id)))
    assert ack.calls == [{}]
    assert services.client.calls == []  # nothing done in the request: the worker does it
    run_worker(desk)
    run_worker(desk)
    with Session(desk.db) as session:
        claimed = session.get(Case, case.id)
    assert (claimed.assignee, claimed.status) == (STAFF, "対応中")
    assert len(case_events(desk, "claimed")) == 1 and len(case_events(desk, "status")) == 1
    assert pending_actions(desk) == []


@pytest.mark.parametrize("value", ["99999", "abc", "", "1e3", "１"])
def test_a_button_naming_no_case_tells_the_staff_member_and_stores_nothing(services, desk, value):
    ack = Ack()
    actions.claim(services, ack, click("case_claim", value))
    actions.open_case_modal(services, lambda case: {}, ack, click("case_reply", value))
    actions.detail(services, ack, click("case_detail", value))
    assert ack.calls == [{}, {}, {}]
    assert [m["text"] for m in services.client.made("chat_postEphemeral")] == [NO_CASE] * 3
    assert pending_actions(desk) == [] and services.client.made("views_open") == []


def test_someone_not_on_staff_is_refused(services, desk):
    case = new_case(desk)
    actions.claim(services, Ack(), click("case_claim", str(case.id), user="UOUTSIDER"))
    [refusal] = services.client.made("chat_postEphemeral")
    assert (refusal["user"], refusal["text"]) == ("UOUTSIDER", REFUSAL)
    assert pending_actions(desk) == []


@pytest.mark.parametrize("metadata, status, error", [
    ("99999", "協議中", NO_CASE), ("abc", "協議中", NO_CASE), ("{case}", "存在しない", "ステータスを選んでください"),
    ("{case}", "受付", "すでに「受付」"),
])
def test_a_status_modal_that_cannot_be_done_is_answered_in_the_ack(services, desk, metadata, status, error):
    case = new_case(desk)
    ack = Ack()
    views.set_status(services, ack, *submission(metadata.format(case=case.id), status_values(status)))
    [answer] = ack.calls
    assert answer["response_action"] == "errors" and error in answer["errors"]["status"]
    assert pending_actions(desk) == []


def test_a_status_note_is_shown_in_the_thread_as_typed_never_as_a_ping_or_link(services, desk):
    case = new_case(desk)
    views.set_status(services, Ack(), *submission(str(case.id), status_values("協議中", HOSTILE)))
    run_worker(desk)
    [thread] = [row.payload["text"] for row in slack_rows(desk, "thread") if "ステータス" in row.payload["text"]]
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more" in thread
    assert "<!channel>" not in thread and "<https://" not in thread


def test_a_reply_echoed_in_the_thread_is_escaped(services, desk):
    import json

    case = new_case(desk)
    views.send_reply(services, Ack(), *submission(json.dumps({"case_id": case.id, "text": HOSTILE}), {}))
    run_worker(desk)
    [echo] = [row.payload["text"] for row in slack_rows(desk, "thread") if "返信しました" in row.payload["text"]]
    assert "&lt;!channel&gt;" in echo and "<!channel>" not in echo and "<https://" not in echo


def test_a_reply_to_a_closed_case_is_refused_to_the_staff_member_by_the_worker(services, desk):
    import json

    case = new_case(desk)
    views.set_status(services, Ack(), *submission(str(case.id), status_values("取り下げ")))
    run_worker(desk)
    ack = Ack()
    views.send_reply(services, ack, *submission(json.dumps({"case_id": case.id, "text": "まだ話せますか"}), {}))
    assert ack.calls == [{}]
    run_worker(desk)
    [refusal] = slack_rows(desk, "ephemeral")
    assert refusal.payload["user"] == STAFF and "市民には送れません" in refusal.payload["text"]
    assert case_events(desk, "reply") == []


@pytest.mark.parametrize("metadata", ["not json", '{"case_id": "abc", "text": "x"}', '{"case_id": 99999, "text": "x"}', "[]"])
def test_a_confirmed_reply_naming_no_case_tells_the_staff_member(services, desk, metadata):
    ack = Ack()
    views.send_reply(services, ack, *submission(metadata, {}))
    assert ack.calls == [{}]
    [told] = services.client.made("chat_postEphemeral")
    assert told["user"] == STAFF and pending_actions(desk) == []


def test_a_thread_note_is_stored_before_the_event_is_acknowledged(services, desk):
    case = new_case(desk)
    event = {"type": "message", "channel": "CSTAFF", "user": STAFF, "text": "保護者会にも声をかける",
             "thread_ts": case.slack_ts, "ts": "1700000999.000001"}
    passed_on = []
    for _ in range(2):  # Slack sends the event again: stored once
        events.keep_thread_note(services, {"event_id": "EvNOTE"}, event,
                                lambda: passed_on.append(len(pending_actions(desk))))
    assert passed_on == [1, 1]
    run_worker(desk)
    assert [note.text for note in case_events(desk, "note")] == ["保護者会にも声をかける"]


def test_app_home_refuses_someone_not_on_staff_and_lists_cases_for_staff(services, desk):
    case = new_case(desk)
    events.home(services, {"user": "UOUTSIDER"}, services.client)
    events.home(services, {"user": STAFF}, services.client)
    refused, listed = services.client.made("views_publish")
    assert REFUSAL in str(refused["view"]) and case.reference in str(listed["view"])


def test_kyodo_export_goes_to_the_requesters_dm_with_formulas_neutralised(services, desk):
    case = new_case(desk, name="=HYPERLINK(\"https://evil.example\",\"x\")", content="@SUM(1+1)", area="-2+3")
    answers = []
    commands.kyodo(services, Ack(), {"text": "export 2026", "user_id": STAFF}, lambda **kw: answers.append(kw))
    [dm] = services.client.made("conversations_open")
    [upload] = services.client.made("files_upload_v2")
    assert dm["users"] == STAFF and upload["channel"] == "D" + STAFF
    rows = list(csv.reader(io.StringIO(upload["content"].decode("utf-8").lstrip("\ufeff"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["受付番号"] == case.reference
    assert row["名前・団体"] == "'=HYPERLINK(\"https://evil.example\",\"x\")"
    assert (row["内容"], row["地域"]) == ("'@SUM(1+1)", "'-2+3")
    assert answers[0]["response_type"] == "ephemeral" and "DM" in answers[0]["text"]


def test_kyodo_refuses_staff_commands_to_others_and_echoes_nothing_clickable(services, desk):
    answers = []
    commands.kyodo(services, Ack(), {"text": "export", "user_id": "UOUTSIDER"}, lambda **kw: answers.append(kw))
    commands.kyodo(services, Ack(), {"text": f"case {HOSTILE}", "user_id": STAFF}, lambda **kw: answers.append(kw))
    assert answers[0]["text"] == REFUSAL and services.client.made("files_upload_v2") == []
    assert "<!channel>" not in answers[1]["text"] and "&lt;!channel&gt;" in answers[1]["text"]


def test_an_indicator_figure_is_stored_before_the_ack_with_its_note_escaped(services, desk):
    indicator = services.desk.registry[0].id
    stored = []

    def check():
        with Session(desk.db) as session:
            stored.append(len(session.exec(select(IndicatorReport)).all()))
    ack = Ack(check=check)
    views.save_indicator(services, ack, *submission(f"{indicator}|FY2025",
                                                    {"value": {"text": {"value": "12"}}, "note": {"text": {"value": HOSTILE}}}))
    assert ack.calls == [{}] and stored == [1]
    [confirmation] = slack_rows(desk, "ephemeral")
    assert "&lt;!channel&gt;" in confirmation.payload["text"] and "<!channel>" not in confirmation.payload["text"]


@pytest.mark.parametrize("metadata, value, said", [
    ("no-such-indicator|FY2025", "12", "開き直して"), ("{ind}|2026-13", "12", "開き直して"),
    ("{ind}|<!channel>", "12", "開き直して"), ("", "12", "開き直して"),
    ("{ind}|2026-10", "12", "開き直して"),  # a month of a yearly indicator would never be read: a stale button
    ("{ind}|FY2025", "150", "0〜100"), ("{ind}|FY2025", "-3", "0以上"), ("{ind}|FY2099", "12", "開き直して"),
])
def test_an_indicator_figure_that_would_not_count_is_refused_in_the_ack_saying_why(services, desk, metadata, value, said):
    ack = Ack()
    values = {"value": {"text": {"value": value}}}
    views.save_indicator(services, ack, *submission(metadata.format(ind=services.desk.registry[0].id), values))
    [answer] = ack.calls
    assert answer["response_action"] == "errors" and said in answer["errors"]["value"]
    with Session(desk.db) as session:
        assert session.exec(select(IndicatorReport)).all() == []


def test_the_slack_handlers_hold_no_sql_and_set_no_private_request_body():
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "handlers" / "slack"
    problems = []
    for path in sorted(folder.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            problems += [f"{path.name}: imports {n}" for n in names
                         if n.split(".")[0] in ("sqlmodel", "sqlalchemy") or n in ("store.db", "store.cases", "store.inbox")]
        if "._body" in source:
            problems.append(f"{path.name}: sets a private request body")
    assert problems == []
