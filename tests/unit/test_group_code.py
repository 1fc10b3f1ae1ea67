"""A group registered on the web chat is changed or withdrawn later from another browser with its
registration's reference and code (団体情報の変更 / 団体の登録をやめる): first on the engine alone
(a fake directory that knows one code), then with the real desk and database (SQLite and PostgreSQL):
the code is shown once and kept only as a salted hash, the right one makes the group the new
session's, a wrong one or a short check code opens nothing, LINE is not asked for codes."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlmodel import Session, select

from bot.engine import CaseView
from bot.messages import AnswerGroupUpkeep, ClaimGroup, Postback, SubmitCase, Text
from bot.postbacks import Action, Tap
from bot.registrations import decide
from bot.state import Draft, Mode
from store import case_codes, cases, privacy
from store.db import session_scope
from store.models import Case, PartnerGroup
from tests.support.chat import EngineChat, ListedCases
from tests.unit import test_group_upkeep as upkeep
from tests.unit.test_partner_chat import FakeDirectory
from tests.unit.test_partner_desk import REGISTRATION
from tests.unit.test_slack_listeners import STAFF

clock, desk, group = upkeep.clock, upkeep.desk, upkeep.group  # the real desk, its clock; a group as stored
REFERENCE, CODE = "G-2026-0007", "QFVQQ3R34A"
DIGITS_FIRST = "44ZY9YSMJG"  # folded against the reference, its digits would run into the number
GROUP = (1, "北区防災の会")  # public in the fake directory


class CodedDirectory(FakeDirectory):
    """The fake directory, where the registration G-2026-0007 with its code opens 北区防災の会."""

    def with_code(self, reference, code):
        return GROUP if reference == REFERENCE and code in (CODE, DIGITS_FIRST) else None


@pytest.fixture(scope="module")
def coded():
    return CodedDirectory()


def web_chat(kb, coded, **kwargs) -> EngineChat:
    return EngineChat(kb, channel="web", groups=coded, **kwargs)


def test_a_web_session_that_registered_nothing_is_asked_for_the_reference_then_the_code(kb, coded):
    chat = web_chat(kb, coded)
    asked = chat.say("団体情報の変更")
    assert "受付番号と登録コード" in asked and "G-2026-0001" in asked and chat.labels == ["職員に相談する", "メニュー"]
    assert "登録コード（英数字10文字）" in chat.say("g-2026-7") and chat.state.mode is Mode.GROUP_CODE
    opened = chat.say("qfvqq-3r34a")  # as shown (ABCDE-FGHJK), in any case
    assert "確認しました（「北区防災の会」）" in opened and "団体登録の前に" in opened
    assert chat.effects == [ClaimGroup(1, REFERENCE, CODE)]
    summary = chat.tap("同意する")  # from here on, exactly the applicant's change: the form opens on the entry
    assert "変更する登録: 北区防災の会（団体ID 1）" in summary and "できること: 炊き出し訓練" in summary
    chat.tap("修正する")
    chat.tap("できること")
    chat.say("炊き出し訓練と防災マップづくり")
    chat.tap("送信する")
    [submitted] = chat.effects
    assert isinstance(submitted, SubmitCase) and not submitted.registration
    assert dict(submitted.answers)["changes"] == "北区防災の会（団体ID 1）"
    assert dict(submitted.answers)["offers"] == "炊き出し訓練と防災マップづくり"


@pytest.mark.parametrize("message, code", [
    (f"{REFERENCE} QFVQQ-3R34A", CODE),
    ("G-2026-0007 44ZY9-YSMJG", DIGITS_FIRST),
    ("受付番号:G-2026-0007\nコードは 44zy9ysmjg です", DIGITS_FIRST),
])
def test_the_reference_and_the_code_in_one_message(kb, coded, message, code):
    chat = web_chat(kb, coded)
    chat.say("団体情報を変更したい")
    assert "団体登録の前に" in chat.say(message)
    assert chat.effects == [ClaimGroup(1, REFERENCE, code)]


def test_a_wrong_code_opens_nothing_and_three_end_the_asking(kb, coded):
    chat = web_chat(kb, coded)
    chat.say("団体情報の変更")
    chat.say(REFERENCE)
    first = chat.say("QFVQQ-3R34B")
    assert "組み合わせを確認できませんでした" in first and "あと2回" in first and chat.effects == []
    assert "あと1回" in chat.say("ABC234")  # a short check code is a wrong code too (not a question)
    last = chat.say("ABCDE-FGHJM")
    assert "あらためてお試しください" in last and "職員にご相談ください" in last
    assert "職員に相談する" in chat.labels and chat.state.mode is Mode.IDLE and chat.effects == []
    chat.say(CODE)  # no longer asked for: the right code now is only a message
    assert chat.effects != [ClaimGroup(1, REFERENCE, CODE)] and chat.state.mode is Mode.IDLE
    chat.say("団体情報の変更")  # asking again starts again
    chat.say(REFERENCE)
    assert "団体登録の前に" in chat.say(CODE)


def test_the_right_code_for_another_reference_is_wrong(kb, coded):
    chat = web_chat(kb, coded)
    chat.say("団体情報の変更")
    assert "G-2026-0008 と登録コードの組み合わせを確認できませんでした" in chat.say(f"G-2026-0008 {CODE}")
    assert chat.effects == []


def test_a_code_before_the_reference_asks_for_the_reference_and_other_words_leave(kb, coded):
    chat = web_chat(kb, coded)
    chat.say("団体情報の変更")
    assert "先に受付番号を送ってください" in chat.say(CODE) and chat.effects == []
    assert "ご用件をお選びください" in chat.say("メニュー") and chat.state.mode is Mode.IDLE


def test_withdrawing_with_the_code_confirms_first_as_for_the_applicant(kb, coded):
    chat = web_chat(kb, coded)
    assert "受付番号と登録コード" in chat.say("団体の登録の取り消し")
    chat.say(REFERENCE)
    asked = chat.say(CODE)
    assert "北区防災の会」の掲載をやめると" in asked and chat.labels == ["登録をやめる", "やめない"]
    assert chat.effects == [ClaimGroup(1, REFERENCE, CODE)]
    assert "取りやめました" in chat.tap("登録をやめる")
    assert chat.effects == [AnswerGroupUpkeep(1, "withdraw")]


def test_the_web_search_offers_the_change_and_line_asks_for_no_code(kb, coded):
    web = web_chat(kb, coded)
    web.send(Postback(Tap(Action.FIND_GROUPS).encode()))
    assert "団体情報の変更" in web.labels and len(web.labels) <= 13
    assert "受付番号と登録コード" in web.tap("団体情報の変更")
    line = EngineChat(kb, channel="line", groups=coded)
    assert "このアカウントから登録された団体は見つかりませんでした" in line.say("団体情報の変更")
    assert line.state.mode is Mode.IDLE
    assert "登録コードを確認しました" not in line.say(REFERENCE) + line.say(CODE)  # a status check, as always
    assert line.effects == []


def test_a_session_that_registered_the_group_is_not_asked(kb, coded):
    chat = web_chat(kb, coded, own_groups=(GROUP,))
    assert "団体登録の前に" in chat.say("団体情報の変更") and chat.state.mode is Mode.CONSENT


def test_a_registration_from_the_web_gets_a_registration_code_and_elsewhere_a_check_code(kb, coded):
    for channel, registration, code in (("web", True, "登録コード"), ("line", False, "確認コード")):
        chat = EngineChat(kb, channel=channel, groups=coded)
        chat.state.mode, chat.state.token = Mode.CONFIRM, "t1"
        chat.state.draft = Draft(form="group", answers=dict(REGISTRATION))
        chat.say("はい")
        [submitted] = chat.effects
        assert isinstance(submitted, SubmitCase) and submitted.registration is registration
        assert f"{code}は {{check_code}} です" in chat.replies[0].text


def test_the_registration_code_also_shows_the_registration_status(kb, coded):
    view = CaseView(REFERENCE, "group", "受付", datetime(2026, 11, 30, 9, 0))
    chat = web_chat(kb, coded, cases=ListedCases([], {(REFERENCE, CODE): view}))
    assert "登録コード" in chat.say(REFERENCE)
    out = chat.say("qfvqq-3r34a")
    assert "受付（2026-11-30 更新）" in out and f"受付番号 {REFERENCE} を受け付けました" in out
    assert "ご相談・ご提案" not in out  # a group registration is neither


# --- with the real desk and database ---------------------------------------------------------

def web_registration(desk, session_id: str) -> tuple[str, str]:
    """団体登録 typed and tapped on the web chat: the reference and the code as the confirmation shows them."""
    replies = desk.handle("web", session_id, Text("団体を登録したい"))
    for step in ("tap:同意する", REGISTRATION["name"], "tap:NPO・市民活動団体", "環境、まちづくり", "北区、京山学区",
                 REGISTRATION["offers"], "なし", "gomi@example.jp", "tap:いいえ", "なし", "tap:送信する"):
        if step.startswith("tap:"):
            [data] = [c.data for reply in replies for c in (*reply.choices, *getattr(reply, "buttons", ()))
                      if c.label == step[4:]]
            replies = desk.handle("web", session_id, Postback(data))
        else:
            replies = desk.handle("web", session_id, Text(step))
    found = re.search(r"受付番号は (G-\d{4}-\d{4}) です。.*登録コードは ([A-Z0-9]{5}-[A-Z0-9]{5}) です", replies[0].text,
                      re.S)
    assert found, replies[0].text
    return found.group(1), found.group(2)


def approve(desk, reference: str) -> int:
    with session_scope(desk.db) as session:
        case = cases.by_reference(session, reference)
        decide(session, desk, case, STAFF, "承認", "", desk.clock())
    with Session(desk.db) as session:
        return session.exec(select(PartnerGroup.id).where(PartnerGroup.name == REGISTRATION["name"])).one()


def test_the_code_is_kept_as_a_hash_and_opens_the_group_for_the_new_session_only(desk):
    reference, shown = web_registration(desk, "first-browser")
    group_id = approve(desk, reference)
    kept = group(desk, group_id)
    assert (kept.code_reference, kept.applicant_user) == (reference, "first-browser")
    assert kept.code_hash and shown.replace("-", "") not in kept.code_hash and len(kept.code_hash) == 64

    desk.handle("web", "second-browser", Text("団体情報の変更"))
    desk.handle("web", "second-browser", Text(reference))
    [wrong] = desk.handle("web", "second-browser", Text("ABCDE-FGHJK"))
    assert "確認できませんでした" in wrong.text and group(desk, group_id).applicant_user == "first-browser"
    opened = desk.handle("web", "second-browser", Text(shown.lower()))
    assert "確認しました" in opened[0].text and "団体登録の前に" in opened[1].text
    assert (group(desk, group_id).applicant_channel, group(desk, group_id).applicant_user) == ("web", "second-browser")
    [again] = desk.handle("web", "first-browser", Text("団体の登録をやめる"))  # the code moved it: asked again
    assert "受付番号と登録コード" in again.text


def test_a_short_check_code_or_a_line_registration_opens_no_group(desk):
    with session_scope(desk.db) as session:
        case = cases.create(session, kind="group", prefix="G", channel="web", user_id="older-browser",
                            answers=dict(REGISTRATION), now=desk.clock(), tz=desk.config.tz)
        short = case_codes.issue(session, case)  # a registration from before registration codes
        reference = case.reference
    group_id = approve(desk, reference)
    with Session(desk.db) as session:
        assert case_codes.group_for(session, reference, short) is None
    with session_scope(desk.db) as session:
        line_case = cases.create(session, kind="group", prefix="G", channel="line", user_id="user:Ux",
                                 answers={**REGISTRATION, "name": "LINEの会"}, now=desk.clock(), tz=desk.config.tz)
        case_codes.issue(session, line_case, case_codes.REGISTRATION_LENGTH)
        decide(session, desk, line_case, STAFF, "承認", "", desk.clock())
        line_group = session.exec(select(PartnerGroup).where(PartnerGroup.name == "LINEの会")).one()
        assert (line_group.code_reference, line_group.code_hash) == ("", None)
    assert group(desk, group_id).applicant_user == "older-browser"


def test_erasing_the_applicant_makes_the_code_open_nothing(desk):
    reference, shown = web_registration(desk, "first-browser")
    group_id = approve(desk, reference)
    with session_scope(desk.db) as session:
        privacy.erase_person(session, privacy.Person("web", "first-browser"), "tester", desk.clock(),
                             privacy.AuditKey("k"))
    assert (group(desk, group_id).code_reference, group(desk, group_id).code_hash) == ("", None)
    with Session(desk.db) as session:
        assert case_codes.group_for(session, reference, shown.replace("-", "")) is None
        assert session.exec(select(Case).where(Case.reference == reference)).one().check_code_hash is None
