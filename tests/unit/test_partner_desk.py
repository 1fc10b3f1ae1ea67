"""The partner side of the Slack desk: suggested groups on case cards, 紹介する → an introduction
recorded by the worker, 取組化, `/kyodo groups`, and registrations approved, sent back for fixes or
declined (the service tested without Slack). Listeners are called as bolt calls them (only Slack's
Web API is faked) over the real services, worker and database (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.casework import CaseworkError
from bot.channels import Channel
from bot.messages import Say
from bot.registrations import decide
from handlers.slack import actions, commands, events, views
from handlers.slack.channel import SlackChannel
from handlers.slack_blocks import REFUSAL
from store import cases, outbox
from store import groups as table
from store.db import session_scope
from store.models import Case, Introduction, Outbox, PartnerGroup
from tests.support.platform_limits import slack_violations
from tests.unit import test_slack_listeners as listeners
from tests.unit.test_slack_listeners import (
    STAFF,
    Ack,
    case_events,
    click,
    new_case,
    pending_actions,
    run_worker,
    slack_rows,
    submission,
)

desk, services = listeners.desk, listeners.services  # the same fixtures: real desk services, fake Slack Web API

DIRECTORY = """name,kind,fields,areas,offers,seeks,contact,url,public,status
北区こども食堂ネット,NPO・市民活動団体,子ども;食,北区,子ども食堂の運営と食材の寄付の受け付けをしています,町内会の会場と企業の協賛,kodomo@example.jp,,false,公開
南区みまもり隊,町内会・自治会,高齢者,南区,一人暮らしの高齢者の見守りと声かけ,若い世代の参加,086-000-0002,,true,公開
市民防災ネット,NPO・市民活動団体,防災,市内全域,防災訓練と防災講座の講師派遣,町内会・自治会との連携,bousai@example.jp,,true,公開
北区フードバンク,NPO・市民活動団体,食;福祉,北区,食品の寄付を集めて子ども食堂に届けています,企業の協賛,food@example.jp,,true,公開
休止中のこども会,その他,子ども,北区,子ども会の行事,,kodomokai@example.jp,,false,非公開
"""


@pytest.fixture
def directory(services, desk):
    groups = services.desk.groups
    groups.import_csv(DIRECTORY.encode(), "tester", desk.clock())
    return groups


def group_id(desk, name: str) -> int:
    with Session(desk.db) as session:
        return session.exec(select(PartnerGroup.id).where(PartnerGroup.name == name)).one()


def consultation(desk) -> Case:
    return new_case(desk, applicant_type="町内会・自治会", content="町内会で子ども食堂を始めたいので、運営の経験がある団体を知りたい",
                    area="北区")


def rendered_card(services, desk, case: Case) -> list[dict]:
    """The card as the outbox sender sends it (a chat.update of the placed card)."""
    channel = SlackChannel(services.client, services.desk, services.config)
    assert channel.send(Outbox(channel="slack", target=str(case.id), kind="card", payload={"case_id": case.id})).outcome == "sent"
    return services.client.made("chat_update")[-1]["blocks"]


def within_slack_limits(card: list[dict]) -> bool:
    return slack_violations("/chat.update", {"blocks": card}) == []


def suggested_names(card: list[dict]) -> list[str]:
    return [b["text"]["text"].split("*")[1] for b in card
            if b.get("accessory", {}).get("action_id") == "partner_introduce"]


def test_a_consultation_card_suggests_up_to_three_public_groups_with_reasons(services, desk, directory):
    case = consultation(desk)
    card = rendered_card(services, desk, case)
    names = suggested_names(card)
    assert names[0] == "北区こども食堂ネット" and 1 <= len(names) <= 3
    assert "休止中のこども会" not in names  # not public: never suggested
    first = next(b for b in card if b.get("accessory", {}).get("value") == f"{case.id}|{group_id(desk, names[0])}")
    assert "分野: 子ども" in first["text"]["text"] and "地域: 北区" in first["text"]["text"]
    assert "担当する" in json.dumps(card, ensure_ascii=False) and within_slack_limits(card)


def test_the_group_a_citizen_asked_to_meet_comes_first_on_the_card(services, desk, directory):
    wanted = group_id(desk, "市民防災ネット")
    case = new_case(desk, applicant_type="個人", content="子ども食堂を手伝いたい", area="北区",
                    group=f"市民防災ネット（団体ID {wanted}）")
    card = rendered_card(services, desk, case)
    names = suggested_names(card)
    assert names[0] == "市民防災ネット" and "北区こども食堂ネット" in names and len(names) <= 3
    assert "相談者が希望した団体" in json.dumps(card, ensure_ascii=False)


def test_introduce_asks_for_agreement_then_the_worker_records_it_once_and_notes_it(services, desk, directory):
    case = consultation(desk)
    group = group_id(desk, "北区こども食堂ネット")
    actions.open_introduce(services, Ack(), click("partner_introduce", f"{case.id}|{group}"))
    modal = services.client.made("views_open")[-1]["view"]
    assert modal["callback_id"] == "introduce_modal" and "北区こども食堂ネット" in json.dumps(modal, ensure_ascii=False)

    body, view = submission(modal["private_metadata"], {"agreed": {"value": {"selected_options": []}}})
    refused = Ack()
    views.introduce(services, refused, body, view)
    assert refused.calls[0]["response_action"] == "errors" and pending_actions(desk) == []

    agreed = {"agreed": {"value": {"selected_options": [{"value": "yes"}]}}, "note": {"text": {"value": "<!channel> 来週顔合わせ"}}}
    body, view = submission(modal["private_metadata"], agreed)
    ack = Ack(check=lambda: len(pending_actions(desk)) == 1 or pytest.fail("acknowledged before it was stored"))
    views.introduce(services, ack, body, view)
    assert ack.calls == [{}]
    run_worker(desk)
    with Session(desk.db) as session:
        [row] = session.exec(select(Introduction)).all()
    assert (row.case_id, row.group_id, row.staff, row.note) == (case.id, group, STAFF, "<!channel> 来週顔合わせ")
    assert row.at == desk.clock() and [e.text for e in case_events(desk, "introduced")] == ["北区こども食堂ネット"]
    [note] = [r.payload["text"] for r in slack_rows(desk, "thread")]
    assert "北区こども食堂ネット" in note and "&lt;!channel&gt;" in note and "<!channel>" not in note

    card = rendered_card(services, desk, case)
    assert "北区こども食堂ネット" not in suggested_names(card)  # introduced: listed, no longer suggested
    [done] = [b for b in card if b.get("accessory", {}).get("action_id") == "introduction_realize"]
    assert "紹介済み" in done["text"]["text"] and "北区こども食堂ネット" in done["text"]["text"]


def test_the_same_group_twice_is_refused_to_the_staff_member(services, desk, directory):
    case = consultation(desk)
    group = group_id(desk, "北区こども食堂ネット")
    agreed = {"agreed": {"value": {"selected_options": [{"value": "yes"}]}}}
    for _ in range(2):
        views.introduce(services, Ack(), *submission(f"{case.id}|{group}", agreed))
        run_worker(desk)
    with Session(desk.db) as session:
        assert len(session.exec(select(Introduction)).all()) == 1
    [told] = [r.payload["text"] for r in slack_rows(desk, "ephemeral")]
    assert "すでに紹介" in told


def test_realized_is_recorded_once_and_shown_on_the_card(services, desk, directory):
    case = consultation(desk)
    row = directory.introduce(case.id, group_id(desk, "北区フードバンク"), STAFF, desk.clock())
    for _ in range(2):
        actions.realize(services, Ack(), click("introduction_realize", f"{case.id}|{row.id}"))
        run_worker(desk)
    with Session(desk.db) as session:
        stored = session.get(Introduction, row.id)
    assert (stored.outcome, stored.outcome_by, stored.outcome_at) == ("取組化", STAFF, desk.clock())
    assert len(case_events(desk, "realized")) == 1
    assert "すでに「取組化」" in [r.payload["text"] for r in slack_rows(desk, "ephemeral")][0]
    card = rendered_card(services, desk, case)
    assert any("紹介済み" in b["text"]["text"] and "*取組化*" in b["text"]["text"] and "accessory" not in b
               for b in card if b["type"] == "section" and "text" in b)


def test_a_card_with_many_introductions_stays_within_slack_limits(services, desk, directory):
    case = consultation(desk)
    with session_scope(desk.db) as session:
        table.upsert(session, [{"name": f"団体{i:02d}", "kind": "その他", "activity_fields": ["子ども"], "areas": ["北区"],
                                "offers": "子ども食堂" * 50, "status": "公開"} for i in range(60)], "tester", desk.clock())
    with Session(desk.db) as session:
        ids = session.exec(select(PartnerGroup.id).where(PartnerGroup.name.startswith("団体"))).all()
    for gid in ids:
        directory.introduce(case.id, gid, STAFF, desk.clock())
    card = rendered_card(services, desk, case)
    assert within_slack_limits(card) and "ほかに 55 件の紹介" in json.dumps(card, ensure_ascii=False)


def test_kyodo_groups_searches_hidden_entries_too_marked_and_paged(services, desk, directory):
    answers: list[dict] = []
    commands.kyodo(services, Ack(), {"text": "groups 北区 子ども", "user_id": STAFF}, lambda **kw: answers.append(kw))
    [first] = answers
    page = json.dumps(first["blocks"], ensure_ascii=False)
    assert first["response_type"] == "ephemeral" and "休止中のこども会" in page and "【非公開】" in page

    with session_scope(desk.db) as session:
        table.upsert(session, [{"name": f"北区子ども支援{i}", "kind": "その他", "activity_fields": ["子ども"],
                                "areas": ["北区"], "status": "公開"} for i in range(6)], "tester", desk.clock())
    answers.clear()
    commands.kyodo(services, Ack(), {"text": "groups 北区 子ども", "user_id": STAFF}, lambda **kw: answers.append(kw))
    [more] = [e for b in answers[0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    second: list[dict] = []
    body = {**click("groups_more", more["value"]), "response_url": "https://hooks.slack.test/x"}
    actions.more_groups(services, Ack(), body, lambda **kw: second.append(kw))
    assert second[0]["replace_original"] is True and "6〜" in second[0]["blocks"][0]["text"]["text"]


def test_kyodo_groups_is_for_staff_only_and_a_forged_cursor_is_a_polite_answer(services, desk, directory):
    answers: list[dict] = []
    commands.kyodo(services, Ack(), {"text": "groups 子ども", "user_id": "UOTHER"}, lambda **kw: answers.append(kw))
    assert answers == [{"response_type": "ephemeral", "text": REFUSAL}]
    forged = json.dumps({"q": "子ども", "c": "-1;drop"})
    actions.more_groups(services, Ack(), click("groups_more", forged), lambda **kw: answers.append(kw))
    assert "もう一度" in answers[-1]["text"]


def test_app_home_lists_introductions_without_an_outcome_after_30_days(services, desk, directory):
    case = consultation(desk)
    old = directory.introduce(case.id, group_id(desk, "北区フードバンク"), STAFF, desk.clock() - timedelta(days=31))
    directory.introduce(case.id, group_id(desk, "市民防災ネット"), STAFF, desk.clock() - timedelta(days=3))
    events.home(services, {"user": STAFF}, services.client)
    home = json.dumps(services.client.made("views_publish")[-1]["view"], ensure_ascii=False)
    assert "結果が未記録の紹介（30日以上）（1）" in home and "北区フードバンク" in home and "市民防災ネット" not in home
    with session_scope(desk.db) as session:
        table.set_outcome(session, table.introduction(session, old.id), "取組化", STAFF, desk.clock())
    events.home(services, {"user": STAFF}, services.client)
    assert "（30日以上）（0）" in json.dumps(services.client.made("views_publish")[-1]["view"], ensure_ascii=False)


# --- registrations (団体登録), the service without Slack ------------------------------------

class CitizenInbox:
    """A citizen channel that keeps what would be pushed (its outbox rows)."""
    name = "line"

    def outbox_rows(self, user_key: str, replies: list, reply_to: dict | None = None) -> list[dict]:
        return [outbox.row(channel="line", target=user_key, kind="push",
                           payload={"texts": [r.text for r in replies if isinstance(r, Say)]})]


REGISTRATION = {"name": "京山ごみゼロの会", "kind": "NPO", "fields": "環境、まちづくり", "areas": "北区、京山学区",
                "offers": "月1回の河川清掃", "seeks": "学生ボランティア", "contact": "gomi@example.jp",
                "contact_public": "はい", "url": "https://example.jp/gomizero"}


def registration(desk, **changes) -> Case:
    with session_scope(desk.db) as session:
        return cases.create(session, kind="group", prefix="G", channel="line", user_id="U1",
                            answers={**REGISTRATION, **changes}, now=desk.clock(), tz=desk.config.tz)


def told(desk) -> list[str]:
    with Session(desk.db) as session:
        return [t for r in session.exec(select(Outbox).where(Outbox.channel == "line")) for t in r.payload["texts"]]


def decision(desk, case: Case, what: str, reason: str = "") -> Case:
    with session_scope(desk.db) as session:
        stored = cases.by_id(session, case.id)
        decide(session, desk, stored, STAFF, what, reason, desk.clock())
    with Session(desk.db) as session:
        return cases.by_id(session, case.id)


@pytest.fixture
def citizen_desk(desk):
    channel: Channel = CitizenInbox()  # type: ignore[assignment]
    desk.channels = {"line": channel}
    return desk


def test_an_approved_registration_is_published_and_the_applicant_is_told(citizen_desk, directory):
    desk = citizen_desk
    assert directory.search("京山 清掃").total == 0
    case = decision(desk, registration(desk), "承認")
    [hit] = directory.search("北区 環境 清掃").hits
    assert (hit.group.name, hit.group.kind, hit.group.fields) == ("京山ごみゼロの会", "NPO・市民活動団体", ("環境", "まちづくり"))
    assert hit.group.contact_public and hit.group.confirmed_on == desk.clock().astimezone(desk.config.tz).date()
    assert case.status == "完了" and [e.text for e in case_events(desk, "status")] == ["受付→完了 承認"]
    [message] = told(desk)
    assert "京山ごみゼロの会" in message and "承認しました" in message and case.reference in message


def test_approval_updates_the_group_of_the_same_name(citizen_desk, directory):
    desk = citizen_desk
    decision(desk, registration(desk), "承認")
    decision(desk, registration(desk, offers="河川清掃と花壇づくり", contact_public="いいえ"), "承認")
    [hit] = directory.search("花壇").hits
    assert hit.group.offers == "河川清掃と花壇づくり" and not hit.group.contact_public and hit.group.public_contact == ""


def test_revision_and_rejection_tell_the_applicant_why_and_publish_nothing(citizen_desk, directory):
    desk = citizen_desk
    revised = decision(desk, registration(desk), "修正依頼", "活動地域の学区名をご確認ください。")
    rejected = decision(desk, registration(desk, name="別の会"), "却下", "営利目的の宣伝のため掲載できません。")
    assert (revised.status, rejected.status) == ("協議中", "見送り")
    fix, no = told(desk)
    assert "修正をお願いします" in fix and "学区名をご確認ください" in fix
    assert "見送らせていただきます" in no and "営利目的" in no
    assert directory.search("清掃").total == 0
    assert [e.text for e in case_events(desk, "status")] == ["受付→協議中 修正依頼 活動地域の学区名をご確認ください。",
                                                             "受付→見送り 却下 営利目的の宣伝のため掲載できません。"]


@pytest.mark.parametrize("what, reason, changes, problem", [
    ("修正依頼", "", {}, "理由を入力"),
    ("承認", "", {"fields": "宇宙開発"}, "宇宙開発"),
    ("保留", "", {}, "という決定はありません"),
])
def test_a_decision_that_cannot_be_done_changes_nothing(citizen_desk, directory, what, reason, changes, problem):
    desk = citizen_desk
    case = registration(desk, **changes)
    with pytest.raises(CaseworkError, match=problem):
        decision(desk, case, what, reason)
    assert told(desk) == [] and directory.search("清掃").total == 0


def test_the_registration_card_has_its_decision_buttons_and_the_modal_asks_the_reason(services, citizen_desk):
    desk = citizen_desk
    case = registration(desk)
    with session_scope(desk.db) as session:
        cases.place_card(session, case.id, "CSTAFF", "1700000000.000009")
    card = rendered_card(services, desk, case)
    labels = [e["text"]["text"] for b in card if b["type"] == "actions" for e in b["elements"]]
    assert labels[:3] == ["承認", "修正依頼", "却下"] and "京山ごみゼロの会" in json.dumps(card, ensure_ascii=False)
    actions.approve(services, Ack(), click("registration_approve", str(case.id)))
    run_worker(desk)
    assert services.desk.case(case.id).status == "完了" and len(told(desk)) == 1
    decided = rendered_card(services, desk, services.desk.case(case.id))
    assert [e["text"]["text"] for b in decided if b["type"] == "actions" for e in b["elements"]] == ["詳細"]

    other = registration(desk, name="別の会")
    empty = Ack()
    views.decide_registration(services, empty, *submission(f"{other.id}|却下", {"reason": {"text": {"value": " "}}}))
    assert empty.calls[0]["response_action"] == "errors" and pending_actions(desk) == []
    views.decide_registration(services, Ack(), *submission(f"{other.id}|却下", {"reason": {"text": {"value": "重複"}}}))
    run_worker(desk)
    assert services.desk.case(other.id).status == "見送り"
