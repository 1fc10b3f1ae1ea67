"""Partners on the Slack desk end to end: a consultation from LINE gets a card with suggested groups
(the Slack mock refuses a card over Slack's block limits), 紹介する opens the confirm modal, its
submission is recorded as an introduction and noted in the thread; a registration shows in the
directory only once 承認 is clicked, and its applicant is told on LINE."""
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.casework import announce_new_case
from bot.partners import GroupDirectory
from knowledge.base import DEFAULT_FOLDER
from store import cases
from store.db import session_scope
from store.models import Case, Introduction, PartnerGroup
from tests.e2e.test_slack_desk import POST, PUSH, submit_case, texts
from tests.support.live import wait_until
from tests.support.slack_fake import STAFF_CHANNEL, button, interact, submit_view

DIRECTORY = """name,kind,fields,areas,offers,seeks,contact,url,public
なか子ども食堂の会,NPO・市民活動団体,子ども;食,中区,子ども食堂の運営と立ち上げの相談,町内会の会場,naka@example.jp,,true
市民防災ネット,NPO・市民活動団体,防災,市内全域,防災訓練と防災講座,町内会との連携,bousai@example.jp,,true
"""


def click(url: str, action_id: str, value: str):
    return interact(url, {
        "type": "block_actions", "user": {"id": "USTAFF1"}, "team": {"id": "T1"}, "api_app_id": "A1",
        "trigger_id": uuid.uuid4().hex, "channel": {"id": STAFF_CHANNEL}, "container": {"type": "message"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}],
    })


def test_a_suggested_group_is_introduced_from_the_card(desk_server):
    directory = GroupDirectory.for_folder(desk_server.db, Path(DEFAULT_FOLDER), ZoneInfo("Asia/Tokyo"))
    directory.import_csv(DIRECTORY.encode(), "tester", datetime.now(UTC))
    case = submit_case(desk_server)
    [card] = desk_server.slack.calls(POST)[:1]
    blocks = json.loads(card.body["blocks"]) if isinstance(card.body["blocks"], str) else card.body["blocks"]
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    with Session(desk_server.db) as session:
        group_id = session.exec(select(PartnerGroup.id).where(PartnerGroup.name == "なか子ども食堂の会")).one()
    assert {"action_id": "partner_introduce", "value": f"{case.id}|{group_id}"}.items() <= buttons[0].items()

    assert click(desk_server.url, "partner_introduce", buttons[0]["value"]).status_code == 200
    [opened] = desk_server.slack.wait_for("/views.open")
    view = json.loads(opened.body["view"]) if isinstance(opened.body["view"], str) else opened.body["view"]
    assert view["callback_id"] == "introduce_modal" and "なか子ども食堂の会" in json.dumps(view, ensure_ascii=False)
    values = {"agreed": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
              "note": {"text": {"type": "plain_text_input", "value": "来週、顔合わせ"}}}
    assert submit_view(desk_server.url, "introduce_modal", view["private_metadata"], values).status_code == 200

    def recorded():
        with Session(desk_server.db) as session:
            return session.exec(select(Introduction)).first()
    row = wait_until(recorded)
    assert (row.case_id, row.group_id, row.staff, row.note) == (case.id, group_id, "USTAFF1", "来週、顔合わせ")
    wait_until(lambda: any("なか子ども食堂の会」を紹介しました" in str(r.body.get("text"))
                           for r in desk_server.slack.calls(POST)))



def test_a_registration_is_searchable_only_after_approval_and_the_applicant_is_told(desk_server):
    directory = GroupDirectory.for_folder(desk_server.db, Path(DEFAULT_FOLDER), ZoneInfo("Asia/Tokyo"))
    answers = {"name": "京山ごみゼロの会", "kind": "NPO・市民活動団体", "fields": "環境、まちづくり", "areas": "北区、京山学区",
               "offers": "月1回の河川清掃", "seeks": "", "contact": "gomi@example.jp", "contact_public": "いいえ", "url": ""}
    with session_scope(desk_server.db) as session:
        case = cases.create(session, kind="group", prefix="G", channel="line", user_id="user:Ugroup", answers=answers,
                            now=datetime.now(UTC), tz=ZoneInfo("Asia/Tokyo"))
        announce_new_case(session, case)
        case_id = case.id

    def placed():
        with Session(desk_server.db) as session:
            return session.get(Case, case_id).slack_ts
    wait_until(placed)
    card = json.dumps(desk_server.slack.calls(POST)[0].body["blocks"], ensure_ascii=False)
    assert all(label in card for label in ("承認", "修正依頼", "却下", "京山ごみゼロの会"))
    assert directory.search("北区 清掃").total == 0

    assert button(desk_server.url, "registration_approve", case_id).status_code == 200
    push = wait_until(lambda: [r for r in desk_server.line.calls(PUSH) if r.body.get("to") == "Ugroup"])
    assert "京山ごみゼロの会" in texts(push) and "承認しました" in texts(push)
    [hit] = directory.search("北区 清掃").hits
    assert hit.group.name == "京山ごみゼロの会" and hit.group.public_contact == ""
