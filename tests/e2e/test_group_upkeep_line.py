"""The yearly confirmation end to end on LINE: a group registered from LINE and approved, a year
later the daily job pushes the question with its three buttons (the LINE mock checks the payload
against LINE's limits), and このままでよい tapped in LINE (a signed webhook) confirms the entry."""
import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from app.server import create_app
from app.settings import Settings
from bot.registrations import decide
from bot.runtime import Desk
from scheduler.jobs import DeskJobs
from store import cases
from store.db import session_scope
from store.models import PartnerGroup
from tests.e2e.test_slack_desk import PUSH
from tests.support.live import (
    LINE_SECRET,
    LINE_TOKEN,
    LiveServer,
    post_webhook,
    postback_event,
    settle,
    wait_until,
)
from tests.unit.test_partner_desk import REGISTRATION


def test_a_year_later_the_group_is_asked_on_line_and_confirms_with_a_tap(db, kb, line_api):
    clock = [datetime(2025, 11, 4, 1, 0, tzinfo=UTC)]
    settings = Settings(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                        line_api_base_url=line_api.url)
    desk = Desk(db, kb, settings.desk, clock=lambda: clock[0])
    with LiveServer(create_app(settings, desk, run_scheduler=False)) as server:
        with session_scope(db) as session:
            case = cases.create(session, kind="group", prefix="G", channel="line", user_id="user:Ugroup",
                                answers=dict(REGISTRATION), now=clock[0], tz=desk.config.tz)
            decide(session, desk, case, "USTAFF1", "承認", "", clock[0])
        clock[0] += timedelta(days=370)
        DeskJobs(desk).group_upkeep()
        settle(db)
        [_, asked] = line_api.wait_for(PUSH, count=2)
        body = json.dumps(asked.body, ensure_ascii=False)
        assert asked.body["to"] == "Ugroup" and REGISTRATION["name"] in body
        items = asked.body["messages"][-1]["quickReply"]["items"]
        labels = {item["action"]["label"]: item["action"]["data"] for item in items}
        assert {"このままでよい", "変更する", "今後は案内不要"} <= labels.keys()

        assert post_webhook(server.url, [postback_event(labels["このままでよい"], user="Ugroup")]).status_code == 200

        def confirmed():
            with Session(db) as session:
                group = session.exec(select(PartnerGroup)).one()
                return group if group.confirmed_on == clock[0].astimezone(desk.config.tz).date() else None
        assert wait_until(confirmed).confirm_asked_on is None
