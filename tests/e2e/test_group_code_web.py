"""A group registered on the web chat, changed and withdrawn days later from other browsers with its
registration code, end to end: /api/chat for the citizens (a cookie session per browser), the Slack
desk's 承認 button for staff (the Slack mock checks the cards), the directory as citizens search it.
A wrong code changes nothing."""
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.partners import GroupDirectory
from knowledge.base import DEFAULT_FOLDER
from store import case_status
from store.models import Case, Conversation, Outbox, PartnerGroup
from tests.e2e.test_web_status_check import Browser
from tests.support.live import wait_until
from tests.support.slack_fake import button

NAME = "岡山国際交流の会"


def register(browser: Browser) -> tuple[str, str]:
    """団体登録 on the web chat: the reference and the registration code of the confirmation."""
    browser.say("団体を登録したい")
    browser.tap("同意する")
    browser.say(NAME)
    browser.tap("NPO・市民活動団体")
    browser.say("国際")
    browser.tap("市内全域")
    browser.tap("決定")
    browser.say("日本語教室の運営")
    browser.say("会場を貸してくれる企業")
    browser.say("info@kokusai.example.jp")
    browser.tap("はい")
    browser.tap("スキップ")
    done = browser.tap("送信する")
    found = re.search(r"受付番号は (G-\d{4}-\d{4}) です。.*登録コードは ([A-Z0-9]{5}-[A-Z0-9]{5}) です", done, re.S)
    assert found, done
    return found.group(1), found.group(2)


def approve(server, reference: str) -> None:
    """承認 on the registration's card in the staff channel, once the card is there."""
    def placed():
        with Session(server.db) as session:
            case = session.exec(select(Case).where(Case.reference == reference)).one()
            return case.id if case.slack_ts else None
    case_id = wait_until(placed)
    assert button(server.url, "registration_approve", case_id).status_code == 200
    wait_until(lambda: _case(server, reference).status == case_status.DONE)


def _case(server, reference: str) -> Case:
    with Session(server.db) as session:
        return session.exec(select(Case).where(Case.reference == reference)).one()


def kept_anywhere(server, code: str) -> bool:
    """Whether the code is in any stored message, history turn or conversation state, in either form."""
    with Session(server.db) as session:
        stored = [row.payload for row in session.exec(select(Outbox))]
        stored += [row.state for row in session.exec(select(Conversation))]
    text = json.dumps(stored, ensure_ascii=False).upper()
    return code in text or code.replace("-", "") in text


def the_group(server) -> PartnerGroup:
    with Session(server.db) as session:
        return session.exec(select(PartnerGroup).where(PartnerGroup.name == NAME)).one()


def test_a_web_registration_is_changed_and_withdrawn_from_new_browsers_with_its_code(desk_server):
    directory = GroupDirectory.for_folder(desk_server.db, Path(DEFAULT_FOLDER), ZoneInfo("Asia/Tokyo"))
    first = Browser(desk_server.url)
    reference, code = register(first)
    approve(desk_server, reference)
    history = json.dumps(first.client.get("/api/chat/history").json(), ensure_ascii=False)
    assert "登録コードは ＊＊＊＊＊ です" in history and code not in history  # shown once
    [hit] = directory.search("国際 日本語教室").hits
    assert hit.group.offers == "日本語教室の運営"

    later = Browser(desk_server.url)  # another browser, days later: the first session is gone
    later.say("メニュー")
    later.tap("仲間をさがす")
    assert "受付番号と登録コード" in later.tap("団体情報の変更")
    assert "登録コード（英数字10文字）" in later.say(reference)
    wrong = later.say("ABCDE-FGHJK" if code != "ABCDE-FGHJK" else "ABCDE-FGHJM")
    assert "確認できませんでした" in wrong and "あと2回" in wrong
    before = the_group(desk_server)
    assert before.applicant_user != "" and "団体登録の前に" not in wrong

    opened = later.say(code.lower())
    assert "登録コードを確認しました" in opened and "団体登録の前に" in opened
    summary = later.tap("同意する")
    assert f"変更する登録 {NAME}（団体ID {before.id}）" in summary
    later.tap("修正する")
    later.tap("できること")
    later.say("日本語教室の運営と通訳ボランティアの派遣")
    change = later.tap("送信する")
    change_reference = re.search(r"受付番号は (G-\d{4}-\d{4})", change).group(1)
    assert "確認コードは" in change and "登録コードは" not in change  # the registration's code stays the one
    [hit] = directory.search("国際 日本語教室").hits
    assert hit.group.offers == "日本語教室の運営"  # the entry stays as it was until staff approve
    approve(desk_server, change_reference)
    [hit] = directory.search("国際 日本語教室").hits
    assert (hit.group.id, hit.group.name, hit.group.offers) == (before.id, NAME, "日本語教室の運営と通訳ボランティアの派遣")
    with Session(desk_server.db) as session:
        assert len(session.exec(select(PartnerGroup)).all()) == 1

    again = Browser(desk_server.url)  # yet another browser withdraws the entry with the same code
    assert "受付番号と登録コード" in again.say("団体の登録をやめる")
    asked = again.say(f"{reference} {code}")
    assert f"「{NAME}」の掲載をやめると" in asked
    assert "取りやめました" in again.tap("登録をやめる")
    assert the_group(desk_server).status == "終了" and directory.search("国際 日本語教室").total == 0
    assert not kept_anywhere(desk_server, code)  # typed twice, shown once: kept only as a hash


def test_a_wrong_code_changes_nothing(desk_server):
    reference, code = register(Browser(desk_server.url))
    approve(desk_server, reference)
    before = the_group(desk_server)
    stranger = Browser(desk_server.url)
    stranger.say("団体の登録をやめる")
    wrongs = [c for c in ("ABCDE-FGHJK", "ZZZZZ-ZZZZZ", "22222-22222", "33333-33333") if c != code][:3]
    for attempt, wrong in enumerate(wrongs, 1):
        answer = stranger.say(f"{reference} {wrong}" if attempt == 1 else wrong)
        assert "確認できませんでした" in answer and "掲載をやめると" not in answer
    assert "職員にご相談ください" in answer
    assert "登録をやめる" not in [c["label"] for m in stranger.messages for c in m["choices"]]
    after = the_group(desk_server)
    assert (after.status, after.applicant_user, after.offers) == (before.status, before.applicant_user, before.offers)
