"""What staff send a citizen (a reply, a status notice) never takes away the buttons of a step they are in."""
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.settings import Settings
from bot import casework
from bot.messages import Postback, Text
from bot.runtime import Desk
from handlers.line import LineChannel
from store.db import session_scope
from store.models import Case, Outbox

CONSULT = ["相談したい", "同意する", "個人", "山田花子", "空き家の活用を相談したい", "なし", "電話", "090-1111-2222", "なし", "送信"]
USER = "user:Ustep"


def reply_from_staff(db, text: str) -> list[dict]:
    """The LINE messages staff's reply to the person's case is pushed as."""
    line = LineChannel(Settings(line_channel_secret="s", line_channel_access_token="t").line)
    with session_scope(db) as session:
        case = session.exec(select(Case).where(Case.user_id == USER)).one()
        assert casework.reply_to_citizen(session, {"line": line}, case, "USTAFF", text, datetime.now(UTC))
        pushed = session.exec(select(Outbox).where(Outbox.channel == "line").order_by(Outbox.id.desc())).first()
        return pushed.payload["messages"]


def quick_replies(message: dict) -> list[tuple[str, str]]:
    return [(i["action"]["label"], i["action"].get("data", "")) for i in message.get("quickReply", {}).get("items", [])]


def test_a_reply_while_idle_comes_with_the_menu(db, kb):
    desk = Desk(db, kb, Settings().desk)
    for line in CONSULT:
        desk.handle("line", USER, Text(line))
    [message] = reply_from_staff(db, "来週お電話します")
    assert "来週お電話します" in message["text"] and "相談する" in [label for label, _ in quick_replies(message)]


def test_a_reply_halfway_through_the_consent_offers_the_way_back_to_it(db, kb):
    desk = Desk(db, kb, Settings().desk)
    for line in CONSULT:
        desk.handle("line", USER, Text(line))
    desk.handle("line", USER, Text("提案したい"))  # the consent notice, with 同意する・同意しない
    reply, nudge = reply_from_staff(db, "来週お電話します")
    assert "来週お電話します" in reply["text"] and "quickReply" not in reply
    buttons = dict(quick_replies(nudge))
    assert "入力中" in nudge["text"] and set(buttons) == {"続ける", "やめる"}
    again = desk.handle("line", USER, Postback(buttons["続ける"]))
    assert "個人情報の取り扱い" in str(again) and "同意する" in str(again)


def test_a_reply_while_the_person_types_a_check_code_comes_with_the_menu(db, kb):
    """Typing a code has no buttons to bring back: 続ける would lead nowhere."""
    desk = Desk(db, kb, Settings().desk)
    for line in CONSULT:
        desk.handle("line", USER, Text(line))
    assert "確認コード" in str(desk.handle("line", USER, Text("S-2026-9999 はどうなってますか")))
    [message] = reply_from_staff(db, "来週お電話します")
    assert "相談する" in [label for label, _ in quick_replies(message)]


def test_resume_under_a_draft_left_too_long_says_only_that_it_was_discarded(db, kb):
    now = [datetime.now(UTC)]
    desk = Desk(db, kb, Settings().desk, clock=lambda: now[0])
    for line in CONSULT + ["提案したい", "同意する"]:
        desk.handle("line", USER, Text(line))
    _, nudge = reply_from_staff(db, "来週お電話します")
    now[0] += timedelta(days=8)
    later = str(desk.handle("line", USER, Postback(dict(quick_replies(nudge))["続ける"])))
    assert "破棄しました" in later and "以前のやり取り" not in later and "提案する" in later


def test_a_case_checked_from_another_device_shows_staffs_latest_message(db, kb):
    """Staff's reply went to the phone that sent the case; the web chat with the code shows it too."""
    desk = Desk(db, kb, Settings().desk)
    for line in CONSULT[:-1]:
        desk.handle("line", USER, Text(line))
    sent = str(desk.handle("line", USER, Text(CONSULT[-1])))
    reference, code = re.search(r"受付番号は (S-\d{4}-\d{4})", sent)[1], re.search(r"確認コードは (\w+)", sent)[1]
    reply_from_staff(db, "来年度の募集は5月ごろの予定です。")
    desk.handle("web", "w" * 24, Text(reference))
    shown = str(desk.handle("web", "w" * 24, Text(code)))
    assert "来年度の募集は5月ごろの予定です。" in shown and f"受付番号 {reference} を受け付けました" in shown
