"""Partners on the Slack desk end to end: a consultation from LINE gets a card with suggested groups
(the Slack mock refuses a card over Slack's block limits), 紹介する opens the confirm modal, its
submission is recorded as an introduction and noted in the thread."""
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.partners import GroupDirectory
from knowledge.base import DEFAULT_FOLDER
from store.models import Introduction, PartnerGroup
from tests.e2e.test_slack_desk import POST, submit_case
from tests.support.live import wait_until
from tests.support.slack_fake import STAFF_CHANNEL, interact, submit_view

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

