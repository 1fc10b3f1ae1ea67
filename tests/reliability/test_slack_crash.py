"""`kyodo-desk serve` as a real process, killed with SIGKILL right after it acknowledged a staff
member's click or modal in Slack (signed with the real signing secret), then started again: the
staff action is carried out exactly once."""
import signal

import pytest
from sqlmodel import Session, select

from store import cases
from store.db import make_engine, migrate, session_scope
from store.models import Case, CaseEvent, Inbox, Outbox
from tests.support.live import start_serve, wait_until
from tests.support.slack_fake import SLACK_SECRET, STAFF_CHANNEL, button, submit_view


@pytest.fixture
def desk_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = make_engine(url)
    migrate(engine)
    yield url, engine
    engine.dispose()


def serve(db_url: str, tmp_path, line_api, slack_api, role: str):
    return start_serve(db_url, line_api.url, str(tmp_path / "cache"), role=role, SLACK_BOT_TOKEN="xoxb-test",
                       SLACK_SIGNING_SECRET=SLACK_SECRET, SLACK_API_URL=slack_api.url + "/",
                       SLACK_STAFF_CHANNEL=STAFF_CHANNEL, SLACK_STAFF_USER_IDS="USTAFF1,USTAFF2")


def new_case(engine) -> int:
    from zoneinfo import ZoneInfo

    from store.models import utcnow

    with session_scope(engine) as session:
        case = cases.create(session, kind="consultation", prefix="S", channel="line", user_id="user:Ucrash",
                            answers={"name": "山田", "content": "空き家の活用"}, now=utcnow(), tz=ZoneInfo("Asia/Tokyo"))
        cases.place_card(session, case.id, STAFF_CHANNEL, "1700000000.000001")
        return case.id


def kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def history(engine, case_id: int, kind: str) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)))


def citizen_messages(engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.channel == "line")))


def staff_actions(engine, status: str) -> list[Inbox]:
    with Session(engine) as session:
        return list(session.exec(select(Inbox).where(Inbox.channel == "slack", Inbox.status == status)))


def test_a_status_change_acknowledged_by_a_web_process_killed_at_once_is_done_once_after_restart(
        desk_db, tmp_path, line_api, slack_api):
    """The web process has no worker: whatever it acknowledged must already be stored."""
    db_url, engine = desk_db
    case_id = new_case(engine)
    proc, port = serve(db_url, tmp_path, line_api, slack_api, role="web")
    try:
        answer = submit_view(f"http://127.0.0.1:{port}", "status_modal", str(case_id), {
            "status": {"value": {"selected_option": {"value": "協議中"}}}, "note": {"text": {"value": "環境局と調整"}}})
        assert answer.status_code == 200 and answer.content in (b"", b"{}")  # the modal closes
        kill(proc)
        assert len(staff_actions(engine, "pending")) == 1  # stored before the ack, not yet done
        proc, _ = serve(db_url, tmp_path, line_api, slack_api, role="all")
        wait_until(lambda: staff_actions(engine, "done"), 30, "the action carried out")
        line_api.wait_for("/v2/bot/message/push")
    finally:
        kill(proc)
    with Session(engine) as session:
        assert session.get(Case, case_id).status == "協議中"
    [change] = history(engine, case_id, "status")
    assert (change.actor, change.text) == ("USTAFF1", "受付→協議中 環境局と調整")
    [notice] = citizen_messages(engine)
    assert "協議" in str(notice.payload) and "環境局" not in str(notice.payload)
    assert len(line_api.accepted("/v2/bot/message/push")) == 1


def test_a_claim_whose_server_is_killed_right_after_the_ack_is_done_once_after_restart(
        desk_db, tmp_path, line_api, slack_api):
    db_url, engine = desk_db
    case_id = new_case(engine)
    proc, port = serve(db_url, tmp_path, line_api, slack_api, role="all")
    try:
        assert button(f"http://127.0.0.1:{port}", "case_claim", case_id).status_code == 200
        kill(proc)  # the worker may or may not have got to it
        proc, _ = serve(db_url, tmp_path, line_api, slack_api, role="all")
        wait_until(lambda: staff_actions(engine, "done") and not staff_actions(engine, "pending"), 30)
        wait_until(lambda: line_api.accepted("/v2/bot/message/push"), 30)
    finally:
        kill(proc)
    with Session(engine) as session:
        case = session.get(Case, case_id)
    assert (case.assignee, case.status) == ("USTAFF1", "対応中")
    assert len(history(engine, case_id, "claimed")) == 1 and len(history(engine, case_id, "status")) == 1
    assert len(citizen_messages(engine)) == 1
