"""Feedback on every answer (役に立った / 違う) and the questions kept for staff: declined, 違う and
unsure answers are stored masked, without the person, and removed after 90 days."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.settings import Settings
from bot.messages import NoteQuestion
from bot.postbacks import LIMIT, Action, about_question, decode
from bot.runtime import Desk
from handlers import line_render, web
from handlers.config import WebConfig
from store import notes
from store.db import session_scope
from store.models import Conversation
from tests.support.chat import EngineChat

PLENTY = WebConfig(messages_per_minute=1e6, message_burst=10**6, address_messages_per_minute=1e6,
                   address_message_burst=10**6)
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
QUESTION = "区づくり推進事業の上限はいくら？"


def test_every_answer_offers_helpful_and_wrong(kb):
    chat = EngineChat(kb)
    chat.say(QUESTION)
    assert chat.labels[:2] == ["役に立った", "違う"]
    chat.tap("区づくり推進事業の補助率")  # a tapped related entry is an answer too
    assert {"役に立った", "違う"} <= set(chat.labels)


def test_helpful_says_thanks_and_is_recorded(kb):
    chat = EngineChat(kb)
    chat.say(QUESTION)
    assert "ありがとうございます" in chat.tap("役に立った")
    assert chat.effects == [NoteQuestion("helpful", QUESTION, "faq-kuzukuri-jogen")]


def test_wrong_offers_tips_other_entries_and_staff_and_is_recorded(kb):
    chat = EngineChat(kb)
    chat.say(QUESTION)
    out = chat.tap("違う")
    assert "聞き方を変える" in out and "名前を入れる" in out
    assert "職員に相談する" in chat.labels and len(chat.labels) >= 4
    shown = [decode(c.data).entry for c in chat.replies[0].choices if decode(c.data).action is Action.SHOW]
    assert shown and "faq-kuzukuri-jogen" not in shown
    assert chat.effects == [NoteQuestion("wrong", QUESTION, "faq-kuzukuri-jogen")]
    assert "区づくり" in chat.tap(chat.labels[0])


def test_an_answer_marked_wrong_is_not_offered_again_after_the_next_one_is_marked_wrong_too(kb):
    chat = EngineChat(kb)
    chat.say(QUESTION)
    chat.tap("違う")
    second = next(decode(c.data) for c in chat.replies[0].choices if decode(c.data).action is Action.SHOW)
    chat.tap(chat.labels[0])
    chat.tap("違う")
    assert chat.effects == [NoteQuestion("wrong", QUESTION, second.entry)]  # the question carried along
    offered = {decode(c.data).entry for c in chat.replies[0].choices if decode(c.data).action is Action.SHOW}
    assert offered and not {"faq-kuzukuri-jogen", second.entry} & offered


def test_wrong_does_not_offer_a_twin_of_the_answer_marked_wrong(kb):
    wrong = kb.entry("faq-center-toha")
    twins = [e.id for e in kb.entries if e.title == wrong.title and e.id != wrong.id]
    assert twins, "no entry shares the title any more; pick another pair"
    offered = kb.alternatives("センターってなに？", (wrong.id,))
    assert offered and not {r.id for r in offered} & {wrong.id, *twins}
    assert len({r.label for r in offered}) == len(offered)


def test_two_entries_titled_alike_are_offered_as_one_button(kb):
    chat = EngineChat(kb)
    chat.say("補助金はいくらまで出ますか？")  # faq-shimin-kyodo-gaiyo and the program's entry: 「市民協働推進事業とは」
    labels = [c.label for c in chat.replies[0].choices]
    assert "市民協働推進事業とは" in labels and len(labels) == len(set(labels))


def test_an_entry_picked_among_maybe_is_rated_for_the_question_declined(kb):
    question = "NPOとボランティア団体の違いは？"
    chat = EngineChat(kb)
    chat.say(question)
    picked = next(c for c in chat.replies[0].choices if decode(c.data).action is Action.SHOW)
    entry = decode(picked.data).entry
    chat.tap(picked.label)
    chat.tap("違う")
    assert chat.effects == [NoteQuestion("wrong", question, entry)]
    chat.say(question)
    chat.tap(picked.label)
    chat.tap("役に立った")
    assert chat.effects == [NoteQuestion("helpful", question, entry)]


def test_an_answer_leaving_part_of_the_question_unanswered_is_noted_for_staff(kb):
    chat = EngineChat(kb)
    chat.say("センターはどこですか。駐車場はありますか。")
    (note,) = [e for e in chat.effects if isinstance(e, NoteQuestion)]
    assert note.kind == "partial" and note.entry_id == "faq-center-basho"


def test_a_decline_in_the_words_of_an_entry_lacking_the_fact_names_it_for_staff(kb):
    chat = EngineChat(kb)
    chat.say("センターって日曜もあいとる？")
    (note,) = [e for e in chat.effects if isinstance(e, NoteQuestion)]
    assert note.kind == "declined" and note.entry_id == "faq-center-jikan"
    assert "役に立った" not in chat.labels and "職員に相談する" in chat.labels


def test_declines_are_noted_but_never_a_forms_answer(kb):
    chat = EngineChat(kb)
    chat.say("ゴミの収集日を知りたい")
    assert chat.effects == [NoteQuestion("declined", "ゴミの収集日を知りたい", "", 0.0)]
    chat.say("相談したい")
    chat.tap("同意する")
    chat.tap("個人")
    chat.say("山田花子です。電話は090-1111-2222、ゴミの日はいつですか？")
    assert not [e for e in chat.effects if isinstance(e, NoteQuestion)]


def test_feedback_buttons_fit_line_with_a_long_question():
    data = about_question(Action.WRONG, "faq-kuzukuri-jogen", "町内会で防災訓練をしたいのですが" * 20)
    assert len(data) <= LIMIT and decode(data).question.startswith("町内会で防災訓練")
    assert decode(data).question.endswith("…")  # staff see that the question was cut
    short = "町内会で防災訓練をしたい"
    assert decode(about_question(Action.WRONG, "faq-kuzukuri-jogen", short)).question == short
    assert decode(data.replace("q=", "q=%%%")).question == ""  # damaged data: no question, no error
    passed = tuple(f"faq-entry-{n:02d}" for n in range(8))
    data = about_question(Action.SHOW, "faq-kuzukuri-jogen", "町内会で防災訓練をしたいのですが" * 20, passed)
    carried = decode(data)
    assert len(data) <= LIMIT and carried.passed_entries == passed[-5:] and carried.question.endswith("…")


def test_line_shows_the_feedback_as_quick_replies(kb):
    chat = EngineChat(kb)
    chat.say(QUESTION)
    [[card]] = line_render.render(chat.replies)
    items = [item["action"]["label"] for item in card["quickReply"]["items"]]
    assert items[:2] == ["役に立った", "違う"] and len(items) <= line_render.MAX_QUICK_REPLIES


def test_personal_data_is_masked_before_storing():
    assert notes.mask_personal("電話は０８６－１２３－４５６７、hanako@example.jp まで") == "電話は［電話番号］、［メール］ まで"
    assert notes.mask_personal("2026年度の上限は250万円？") == "2026年度の上限は250万円？"
    assert notes.mask_personal("コードは DNYPE-74ERP、確認は ａｂｃ２３４、XKQMNP") == "コードは ［コード］、確認は ［コード］、［コード］"
    assert notes.mask_personal("covid19の影響でG-2026-0001の活動が") == "covid19の影響でG-2026-0001の活動が"
    assert notes.mask_personal("SDGs17 の seminar") == "SDGs17 の seminar"  # not of the codes' letters, or not capitals


def test_a_phone_number_typed_in_a_question_is_said_to_reach_nobody_with_a_way_to_staff(kb):
    chat = EngineChat(kb)
    out = chat.say("補助金の締め切りを知りたいので、090-8765-4321 に折り返しください")
    assert "職員には届きません" in out and "職員に相談する" in chat.labels
    for question in ("補助金の締め切りを知りたい", "086-803-1062はセンターの番号ですか？",  # the desk's own number
                     "募集期間 2026-04-01 - 2026-06-30 の次はいつ？"):
        assert "職員には届きません" not in EngineChat(kb).say(question)


@pytest.mark.parametrize("code", ["DNYPE-74ERP", "dnype74erp", "ABC234", "XKQMNP"])
def test_a_code_sent_alone_asks_for_the_reference_first_and_is_not_kept(kb, code):
    chat = EngineChat(kb)
    out = chat.say(code)
    assert "先に受付番号" in out and "状況確認" in chat.labels
    assert not [e for e in chat.effects if isinstance(e, NoteQuestion)]


def client(db, kb) -> TestClient:
    app = FastAPI()
    app.include_router(web.router(Desk(db, kb, Settings().desk, clock=lambda: NOW), PLENTY))
    return TestClient(app)


def tap(browser: TestClient, messages: list[dict], label: str) -> list[dict]:
    for message in messages:
        for choice in message.get("choices", []) + message.get("buttons", []):
            if choice["label"] == label:
                return browser.post("/api/chat", json={"postback": choice["data"]}).json()["messages"]
    raise AssertionError(f"no button {label!r}")


def test_web_chat_keeps_declined_and_wrong_without_the_person(db, kb):
    browser = client(db, kb)
    browser.post("/api/chat", json={"text": "住民票の写しをhanako@example.jp に送って"})
    answered = browser.post("/api/chat", json={"text": QUESTION}).json()["messages"]
    tips = tap(browser, answered, "違う")
    assert "聞き方を変える" in "".join(m.get("text", "") for m in tips)
    with session_scope(db) as session:
        kept = [(n.kind, n.question, n.entry_id, n.channel) for n in notes.unanswered(session)]
        conversations = session.exec(select(func.count()).select_from(Conversation)).one()
    assert kept == [("wrong", QUESTION, "faq-kuzukuri-jogen", "web"), ("declined", "住民票の写しを［メール］ に送って", "", "web")]
    assert conversations == 0  # questions and feedback need no conversation row


def test_notes_older_than_90_days_are_pruned(db):
    with session_scope(db) as session:
        notes.add(session, "declined", "古い質問", "", 0.1, "line", NOW - timedelta(days=91))
        notes.add(session, "declined", "新しい質問", "", 0.1, "line", NOW - timedelta(days=89))
    with session_scope(db) as session:
        assert notes.prune(session, NOW) == 1
    with Session(db) as session:
        assert [n.question for n in notes.unanswered(session)] == ["新しい質問"]


def test_feedback_works_in_a_group_chat_too(kb):
    from bot.engine import Context, handle
    from bot.messages import Postback, Text
    from bot.state import State

    group = Context(now=datetime(2026, 11, 30, 10, 0, tzinfo=UTC), knowledge=kb, private=False)
    answered = handle(State(), Text(QUESTION + "？"), group)
    wrong = next(c for c in answered.replies[0].choices if c.label == "違う")
    turn = handle(answered.state, Postback(wrong.data), group)
    assert "聞き方を変える" in turn.replies[0].text
    assert turn.effects == [NoteQuestion("wrong", QUESTION + "？", "faq-kuzukuri-jogen")]
