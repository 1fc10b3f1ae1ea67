"""Answers in a conversation are given on the city's date (JST, from the desk's clock), and a
decline says where to ask and offers a person: on the engine and on /api/chat."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.settings import Settings
from bot.messages import Postback
from bot.postbacks import Action, encode
from bot.runtime import Desk
from handlers import web
from handlers.config import WebConfig
from tests.support.chat import JST, EngineChat

PLENTY = WebConfig(messages_per_minute=1e6, message_burst=10**6, address_messages_per_minute=1e6,
                   address_message_burst=10**6)
DEADLINE_QUESTION = "区づくりの締め切りはいつ？"


def chat_client(db, kb, now: datetime) -> TestClient:
    app = FastAPI()
    app.include_router(web.router(Desk(db, kb, Settings().desk, clock=lambda: now), PLENTY))
    return TestClient(app)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") + m.get("body", "") for m in messages)


def labels(messages: list[dict]) -> list[str]:
    return [c["label"] for m in messages for c in m.get("choices", []) + m.get("buttons", [])]


def test_the_engine_answers_on_the_citys_date(kb):
    after = EngineChat(kb, now=datetime(2026, 7, 1, 0, 30, tzinfo=JST))  # 2026-06-30 15:30 UTC: already July in Okayama
    assert "2026年6月30日で終了しました" in after.say(DEADLINE_QUESTION)
    before = EngineChat(kb, now=datetime(2026, 6, 10, 9, 0, tzinfo=JST))
    out = before.say(DEADLINE_QUESTION)
    assert "2026年6月30日までです" in out and "終了しました" not in out


def test_a_tapped_entry_is_shown_on_the_citys_date(kb):
    chat = EngineChat(kb, now=datetime(2027, 4, 2, 9, 0, tzinfo=JST))
    shown = chat.send(Postback(encode(Action.SHOW, entry="faq-npo-teian-gaku")))
    assert "見直しの時期" in shown


def test_a_decline_names_where_to_ask_and_offers_a_person(kb):
    chat = EngineChat(kb)
    out = chat.say("ゴミの収集日を知りたい")
    assert "ごみの出し方や収集日" in out and "岡山市のホームページ、または市役所の担当課" in out
    assert "職員に相談する" in chat.labels


def test_api_chat_says_a_round_has_closed_on_the_desks_date(db, kb):
    after = chat_client(db, kb, datetime(2026, 6, 30, 15, 30, tzinfo=UTC))  # 00:30 on 1 July in JST
    messages = after.post("/api/chat", json={"text": DEADLINE_QUESTION}).json()["messages"]
    assert "2026年6月30日で終了しました" in texts(messages)
    before = chat_client(db, kb, datetime(2026, 6, 30, 14, 30, tzinfo=UTC))  # 23:30 on 30 June in JST
    messages = before.post("/api/chat", json={"text": DEADLINE_QUESTION}).json()["messages"]
    assert "2026年6月30日までです" in texts(messages)


def test_api_chat_decline_names_where_to_ask_with_a_button_for_staff(db, kb):
    client = chat_client(db, kb, datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    messages = client.post("/api/chat", json={"text": "住民票がほしい"}).json()["messages"]
    assert "住民票・戸籍・印鑑登録" in texts(messages) and "市役所の担当課" in texts(messages)
    assert "職員に相談する" in labels(messages)
