"""Keeping the directory true: a group registered on LINE and approved is linked to its applicant;
a year without confirmation brings a LINE message (once every 30 days at most, never twice through
the ledger), unanswered for 60 days the entry becomes 非公開 and the staff channel is told; the
buttons confirm, stop the messages or start the update, for the group's own applicant only.
Real desk, services and database (SQLite and PostgreSQL) with a controllable clock."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot import group_upkeep
from bot.channels import Channel
from bot.messages import Postback, Say, Text
from bot.postbacks import Action, Tap, decode
from bot.registrations import decide
from scheduler.jobs import DeskJobs
from store import cases, outbox, privacy
from store import groups as table
from store.db import session_scope
from store.models import Case, Outbox, PartnerGroup
from tests.unit.test_partner_desk import REGISTRATION
from tests.unit.test_slack_listeners import STAFF

APPLICANT = "user:Ugroup"
START = datetime(2025, 11, 1, 1, 0, tzinfo=UTC)


class LineInbox:
    """A citizen channel that keeps what would be pushed: the texts and the buttons' data."""
    name = "line"

    def outbox_rows(self, user_key: str, replies: list, reply_to: dict | None = None) -> list[dict]:
        return [outbox.row(channel="line", target=user_key, kind="push",
                           payload={"texts": [r.text for r in replies if isinstance(r, Say)],
                                    "buttons": [[c.label, c.data] for r in replies if isinstance(r, Say)
                                                for c in r.choices]})]


@pytest.fixture
def clock():
    return [START]


@pytest.fixture
def desk(db, kb, clock):
    from app.settings import Settings
    from bot.runtime import Desk
    desk = Desk(db, kb, Settings().desk, clock=lambda: clock[0])
    channel: Channel = LineInbox()  # type: ignore[assignment]
    desk.channels = {"line": channel}
    return desk


def registered_group(desk) -> int:
    """A 団体登録 from LINE approved by staff: the group's id."""
    with session_scope(desk.db) as session:
        case = cases.create(session, kind="group", prefix="G", channel="line", user_id=APPLICANT,
                            answers=dict(REGISTRATION), now=desk.clock(), tz=desk.config.tz)
        decide(session, desk, case, STAFF, "承認", "", desk.clock())
    with Session(desk.db) as session:
        return session.exec(select(PartnerGroup.id).where(PartnerGroup.name == REGISTRATION["name"])).one()


def pushes(desk) -> list[dict]:
    """The confirmation requests queued for the applicant (not the approval notice)."""
    with Session(desk.db) as session:
        rows = session.exec(select(Outbox).where(Outbox.channel == "line", Outbox.target == APPLICANT)
                            .order_by(Outbox.id)).all()
        return [r.payload for r in rows if any("ご確認をお願いします" in t for t in r.payload["texts"])]


def staff_posts(desk) -> list[str]:
    with Session(desk.db) as session:
        return [r.payload["text"] for r in session.exec(select(Outbox).where(Outbox.channel == "slack",
                                                                            Outbox.target == "staff"))]


def group(desk, group_id: int) -> PartnerGroup:
    with Session(desk.db) as session:
        found = session.get(PartnerGroup, group_id)
        assert found is not None
        return found


def run_job(desk, clock, days: int) -> None:
    clock[0] = START + timedelta(days=days)
    DeskJobs(desk).group_upkeep()


def tap(desk, label: str, user: str = APPLICANT) -> list:
    [data] = [data for label_, data in pushes(desk)[-1]["buttons"] if label_ == label]
    return desk.handle("line", user, Postback(data))


def test_a_year_unconfirmed_asks_once_a_month_then_hides_and_tells_staff(desk, clock):
    group_id = registered_group(desk)
    assert (group(desk, group_id).applicant_channel, group(desk, group_id).applicant_user) == ("line", APPLICANT)
    run_job(desk, clock, 300)
    assert pushes(desk) == []  # confirmed less than a year ago
    run_job(desk, clock, 366)
    run_job(desk, clock, 366)  # the same day again (a restart, a second process): not twice
    run_job(desk, clock, 380)
    [first] = pushes(desk)
    assert REGISTRATION["name"] in first["texts"][0]
    assert [label for label, _ in first["buttons"]] == ["このままでよい", "変更する", "今後は案内不要"]
    assert all(len(data) <= 300 and decode(data) is not None for _, data in first["buttons"])
    run_job(desk, clock, 396)
    assert len(pushes(desk)) == 2 and group(desk, group_id).status == "公開"
    run_job(desk, clock, 425)
    assert len(pushes(desk)) == 2 and group(desk, group_id).status == "公開"
    run_job(desk, clock, 426)
    assert group(desk, group_id).status == "非公開" and desk.groups.search("清掃").total == 0
    [note] = staff_posts(desk)
    assert REGISTRATION["name"] in note and "非公開" in note
    run_job(desk, clock, 460)
    assert len(pushes(desk)) == 2 and len(staff_posts(desk)) == 1


def test_this_stays_confirms_today_and_the_next_ask_is_a_year_later(desk, clock):
    group_id = registered_group(desk)
    run_job(desk, clock, 370)
    [reply] = tap(desk, "このままでよい")
    assert "ありがとうございます" in reply.text
    today = (START + timedelta(days=370)).astimezone(desk.config.tz).date()
    assert group(desk, group_id).confirmed_on == today and group(desk, group_id).confirm_asked_on is None
    run_job(desk, clock, 440)
    assert len(pushes(desk)) == 1 and group(desk, group_id).status == "公開"
    run_job(desk, clock, 370 + 366)
    assert len(pushes(desk)) == 2


def test_no_more_messages_stops_the_asking_and_never_hides(desk, clock):
    group_id = registered_group(desk)
    run_job(desk, clock, 370)
    [reply] = tap(desk, "今後は案内不要")
    assert "お送りしません" in reply.text and group(desk, group_id).confirm_opt_out
    run_job(desk, clock, 400)
    run_job(desk, clock, 500)
    assert len(pushes(desk)) == 1 and group(desk, group_id).status == "公開" and staff_posts(desk) == []


def test_someone_else_tapping_the_button_changes_nothing(desk, clock):
    group_id = registered_group(desk)
    run_job(desk, clock, 370)
    tap(desk, "このままでよい", user="user:Uother")
    assert group(desk, group_id).confirm_asked_on is not None
    assert group(desk, group_id).confirmed_on == START.astimezone(desk.config.tz).date()


def test_change_opens_the_registration_on_the_published_entry(desk, clock):
    registered_group(desk)
    run_job(desk, clock, 370)
    [consent] = tap(desk, "変更する")
    assert consent.text.startswith("団体登録の前に") and consent.choices[0].label == "同意する"
    summary = desk.handle("line", APPLICANT, Postback(consent.choices[0].data))[-1]
    assert ("できること", REGISTRATION["offers"]) in summary.fields and ("活動地域", "北区、京山学区") in summary.fields
    assert [b.label for b in summary.buttons] == ["送信する", "修正する", "やめる"]


def test_groups_without_a_chat_applicant_are_never_asked(desk, clock):
    desk.groups.import_csv(("name,kind,fields,areas,offers,seeks,contact,url,public,status\n"
                            "市民防災ネット,NPO・市民活動団体,防災,市内全域,防災訓練,連携,b@example.jp,,true,公開\n").encode(),
                           "tester", desk.clock())
    with session_scope(desk.db) as session:
        done = group_upkeep.run(session, desk.channels, START + timedelta(days=800), desk.config.tz)
    assert done.asked == [] and done.hidden == []


def test_the_applicant_withdraws_their_group_in_their_own_words_after_confirming(desk, clock):
    group_id = registered_group(desk)
    [nothing] = desk.handle("line", "user:Uother", Text("団体の登録をやめる"))
    assert "見つかりませんでした" in nothing.text and group(desk, group_id).status == "公開"
    [ask] = desk.handle("line", APPLICANT, Text("団体の登録をやめたい"))
    assert REGISTRATION["name"] in ask.text and [c.label for c in ask.choices] == ["登録をやめる", "やめない"]
    assert group(desk, group_id).status == "公開"  # nothing happens before the confirmation
    [done] = desk.handle("line", APPLICANT, Postback(ask.choices[0].data))
    assert "取りやめました" in done.text
    assert group(desk, group_id).status == "終了" and desk.groups.search("清掃").total == 0
    [note] = staff_posts(desk)
    assert REGISTRATION["name"] in note and "終了" in note
    desk.handle("line", "user:Uother", Postback(ask.choices[0].data))  # a forwarded button does nothing more
    assert len(staff_posts(desk)) == 1


def test_erasing_the_applicant_unlinks_the_group_and_stops_the_asking(desk, clock):
    group_id = registered_group(desk)
    with session_scope(desk.db) as session:
        privacy.erase_person(session, privacy.Person("line", APPLICANT), "tester", desk.clock(),
                             privacy.AuditKey("k"))
    assert group(desk, group_id).applicant_user == "" and group(desk, group_id).status == "公開"
    run_job(desk, clock, 400)
    assert pushes(desk) == []


def test_a_change_is_a_new_application_and_approval_updates_the_same_entry_even_renamed(desk, clock):
    group_id = registered_group(desk)
    [consent] = desk.handle("line", APPLICANT, Text("団体情報の変更"))
    summary = desk.handle("line", APPLICANT, Postback(consent.choices[0].data))[-1]
    desk.handle("line", APPLICANT, Postback(summary.buttons[0].data))
    with Session(desk.db) as session:
        change = session.exec(select(Case).where(Case.kind == "group").order_by(col(Case.id).desc())).first()
    assert change is not None and change.answers["changes"] == f"京山ごみゼロの会（団体ID {group_id}）" and change.status == "受付"
    assert group(desk, group_id).status == "公開"  # the public entry stays until staff approve
    with session_scope(desk.db) as session:
        stored = session.get(Case, change.id)
        stored.answers = {**stored.answers, "name": "京山ごみゼロの会（新）", "offers": "河川清掃と花壇づくり"}
        session.add(stored)
    with session_scope(desk.db) as session:
        decide(session, desk, session.get(Case, change.id), STAFF, "承認", "", desk.clock())
    renamed = group(desk, group_id)
    assert (renamed.name, renamed.offers, renamed.status) == ("京山ごみゼロの会（新）", "河川清掃と花壇づくり", "公開")
    with Session(desk.db) as session:
        assert len(session.exec(select(PartnerGroup)).all()) == 1


def test_the_group_search_offers_the_change_to_those_who_registered_a_group(desk, clock):
    registered_group(desk)
    search = Tap(Action.FIND_GROUPS).encode()
    [stranger] = desk.handle("line", "user:Uother", Postback(search))
    assert "団体情報の変更" not in [c.label for c in stranger.choices]
    [prompt] = desk.handle("line", APPLICANT, Postback(search))
    [change] = [c for c in prompt.choices if c.label == "団体情報の変更"]
    assert len(prompt.choices) <= 13
    [consent] = desk.handle("line", APPLICANT, Postback(change.data))
    assert consent.text.startswith("団体登録の前に")


def test_a_hidden_group_put_back_by_staff_is_asked_again_not_hidden_at_once(desk, clock):
    group_id = registered_group(desk)
    run_job(desk, clock, 370)
    run_job(desk, clock, 430)
    assert group(desk, group_id).status == "非公開"
    with session_scope(desk.db) as session:
        table.set_status(session, group_id, "公開", STAFF, desk.clock())
    run_job(desk, clock, 431)
    assert group(desk, group_id).status == "公開" and len(pushes(desk)) == 2
