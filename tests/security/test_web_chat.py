"""The web chat's API as a browser (or an abuser) meets it: security headers, API docs off,
signed session ids, a poll that reads without consuming, limits answered with 429 in Japanese,
no conversation rows for visitors who need none, and the history a reloaded page shows."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.server import create_app
from app.settings import Settings
from bot.messages import Say
from bot.runtime import Desk
from handlers import web
from handlers.config import WebConfig
from handlers.http import SecurityHeaders
from store import outbox
from store.db import session_scope
from store.models import Case, Conversation, Outbox

PLENTY = WebConfig(messages_per_minute=1e6, message_burst=10**6, address_messages_per_minute=1e6,
                   address_message_burst=10**6, process_messages_per_second=1e6, process_message_burst=10**6)


def client_for(db, kb, config: WebConfig = PLENTY) -> TestClient:
    app = FastAPI()
    app.add_middleware(SecurityHeaders)
    app.include_router(web.router(Desk(db, kb, Settings().desk), config))
    return TestClient(app)


def count(db, table) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def tap(client: TestClient, messages: list[dict], label: str):
    for message in messages:
        for choice in message.get("choices", []) + message.get("buttons", []):
            if choice["label"] == label:
                return client.post("/api/chat", json={"postback": choice["data"], "label": label})
    raise AssertionError(f"no button {label!r}")


def fill_consultation(client: TestClient) -> list[dict]:
    """Up to the summary card: what the person sees before 送信する."""
    messages = client.post("/api/chat", json={"postback": "a=menu"}).json()["messages"]
    for step in ("相談する", "同意する", "個人", "山田花子", "子ども食堂の場所を探しています", "スキップ", "メール",
                 "hanako@example.jp", "スキップ"):
        labels = {c["label"] for m in messages for c in m.get("choices", []) + m.get("buttons", [])}
        answer = tap(client, messages, step) if step in labels else client.post("/api/chat", json={"text": step})
        assert answer.status_code == 200, answer.text
        messages = answer.json()["messages"]
    assert any(m.get("kind") == "summary" for m in messages)
    return messages


def test_every_answer_carries_the_security_headers_and_the_docs_are_off(db, kb):
    app = create_app(Settings(), Desk(db, kb, Settings().desk), run_scheduler=False)
    with TestClient(app) as client:
        answers = [client.get("/"), client.get("/static/chat.js"), client.get("/favicon.ico"), client.get("/healthz"),
                   client.post("/api/chat", json={"text": "公民館の休館日は？"}), client.post("/api/chat", content=b"{"),
                   client.get("/static/nothing.js"), client.post("/line/webhook", content=b"{}")]
        for answer in answers:
            csp = answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] and "camera=()" in answer.headers["permissions-policy"]
        assert answers[2].status_code == 200 and answers[5].status_code == 400
        assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
        assert "Secure" not in answers[4].headers["set-cookie"]


def test_docs_and_a_secure_cookie_when_the_settings_say_so(db, kb):
    settings = Settings(api_docs=True, cookie_secure=True)
    with TestClient(create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)) as client:
        assert client.get("/openapi.json").status_code == 200 and client.get("/docs").status_code == 200
        cookie = client.post("/api/chat", json={"postback": "a=menu"}).headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_session_id_the_client_chose_is_replaced_by_one_the_server_signed(db, kb):
    client = client_for(db, kb)
    chosen = "attacker-chosen-session-id-0001"
    client.cookies.set(web.COOKIE, chosen)
    answer = client.post("/api/chat", json={"text": "相談したい"})
    issued = answer.cookies.get(web.COOKIE)
    assert issued and issued != chosen and "." in issued
    with Session(db) as session:
        users = [c.user_id for c in session.exec(select(Conversation)).all()]
    assert users == [issued.split(".")[0]] and chosen not in users
    forged = f"{web.COOKIE}={issued.split('.')[0]}.forgedforgedforgedforged"
    replaced = client_for(db, kb).post("/api/chat", json={"text": "こんにちは"}, headers={"cookie": forged})
    assert replaced.cookies.get(web.COOKIE, "").split(".")[0] not in ("", issued.split(".")[0])


def test_poll_reads_without_consuming_and_an_ack_takes_only_the_sessions_own_rows(db, kb):
    client, other = client_for(db, kb), client_for(db, kb)
    client.post("/api/chat", json={"postback": "a=menu"})
    other.post("/api/chat", json={"postback": "a=menu"})
    sid = client.cookies[web.COOKIE].split(".")[0]
    staff_reply = web.WebChannel().outbox_rows(sid, [Say("職員からのお返事です。")])
    with session_scope(db) as session:
        outbox.enqueue_many(session, staff_reply)
    first, second = client.get("/api/chat/poll").json()["items"], client.get("/api/chat/poll").json()["items"]
    assert first == second and first[0]["messages"][0]["text"] == "職員からのお返事です。"
    assert other.get("/api/chat/poll").json()["items"] == []
    assert other.post("/api/chat/ack", json={"ids": [first[0]["id"]]}).json() == {"acknowledged": 0}
    assert client.post("/api/chat/ack", json={"ids": [first[0]["id"]]}).json() == {"acknowledged": 1}
    assert client.get("/api/chat/poll").json()["items"] == []
    assert client.get("/api/chat/history").json()["turns"][-1]["messages"][0]["text"] == "職員からのお返事です。"
    assert client.post("/api/chat/ack", json={"ids": "all"}).status_code == 400


def test_too_many_messages_are_answered_429_in_japanese(db, kb):
    client = client_for(db, kb, WebConfig(message_burst=3, messages_per_minute=1))
    client.post("/api/chat", json={"postback": "a=menu"})  # cookie-less: only the address's bucket
    answers = [client.post("/api/chat", json={"text": "公民館の休館日は？"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "少し時間をおいて" in answers[-1].json()["error"] and int(answers[-1].headers["retry-after"]) >= 1
    crowd = client_for(db, kb, WebConfig(address_message_burst=2, address_messages_per_minute=1))
    assert [crowd.post("/api/chat", json={"text": "こんにちは"}).status_code for _ in range(3)] == [200, 200, 429]


def test_a_daily_cap_on_cases_keeps_the_draft_and_says_why(db, kb):
    client = client_for(db, kb, replace(PLENTY, cases_per_day=1))
    assert "受付番号は" in str(tap(client, fill_consultation(client), "送信する").json())
    refused = tap(client, fill_consultation(client), "送信する")
    assert refused.status_code == 429 and "上限" in refused.json()["error"] and "電話" in refused.json()["error"]
    assert count(db, Case) == 1
    assert client.get("/api/chat/history").json()["draft"]["choices"][0]["label"] == "続ける"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_eight_thousand_cookieless_questions_store_no_conversation(db, kb):
    client = client_for(db, kb)
    for n in range(8000):
        client.cookies.clear()
        answer = client.post("/api/chat", json={"text": "補助金はありますか？" if n % 2 else "公民館の休館日は？"})
        assert answer.status_code == 200
    assert count(db, Conversation) == 0 and count(db, Outbox) == 0
    client.post("/api/chat", json={"text": "相談したい"})  # a form needs state: now there is a row
    assert count(db, Conversation) == 1


def test_history_brings_back_the_turns_and_the_open_draft(db, kb):
    client = client_for(db, kb)
    client.post("/api/chat", json={"postback": "a=menu"})
    client.post("/api/chat", json={"text": "公民館の休館日は？"})
    tap(client, client.post("/api/chat", json={"text": "相談したい"}).json()["messages"], "同意する")
    history = client.get("/api/chat/history").json()
    assert [t["me"] for t in history["turns"]] == ["公民館の休館日は？", "相談したい", "同意する"]
    assert history["draft"]["text"] == f"入力中の{kb.profile.texts.forms['consultation'].title}があります。続けますか？"
    resumed = client.post("/api/chat", json={"postback": history["draft"]["choices"][0]["data"]})
    assert "（1/" in str(resumed.json())
    assert client_for(db, kb).get("/api/chat/history").json() == {"turns": [], "draft": None}


def test_no_turn_of_the_conversation_may_be_kept_in_a_cache(db, kb):
    client = client_for(db, kb)  # else the back button shows a sent form as still being filled in
    answered = client.post("/api/chat", json={"text": "公民館の休館日は？"})
    for response in (answered, client.get("/api/chat/history"), client.get("/api/chat/poll")):
        assert response.headers["cache-control"] == "no-store"


def test_text_longer_than_the_box_allows_is_refused_saying_the_limit_and_nothing_is_kept(db, kb):
    client = client_for(db, kb)
    refused = client.post("/api/chat", json={"text": "あ" * (web.MAX_TEXT + 1)})
    assert refused.status_code == 413 and "5,000字まで" in refused.json()["error"]
    assert count(db, Case) == 0
    assert client.post("/api/chat", json={"text": "あ" * web.MAX_TEXT}).status_code == 200
    escaped = json.dumps({"text": "あ" * web.MAX_TEXT})  # ASCII-escaped, as Python's json sends it by default
    sent = client.post("/api/chat", content=escaped, headers={"content-type": "application/json"})
    assert sent.status_code == 200


def test_the_apps_own_404_and_405_answer_in_the_shape_of_its_refusals(db, kb):
    client = TestClient(create_app(Settings(), Desk(db, kb, Settings().desk), run_scheduler=False))
    wrong_method = client.get("/api/chat")
    assert wrong_method.status_code == 405 and "受け付けていません" in wrong_method.json()["error"]
    assert "POST" in wrong_method.headers["allow"]
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "見つかりません。"}
    for path in ("/", "/healthz", "/static/chat.js"):  # uptime checks ask with HEAD
        head = client.head(path)
        assert head.status_code == 200 and "content-security-policy" in head.headers


def test_head_sends_the_gets_headers_and_no_body():
    """Straight through the ASGI app (the test client drops a HEAD's body itself)."""
    import asyncio

    from handlers.http import HeadAsGet

    async def page(scope, receive, send):
        assert scope["method"] == "GET"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello", "more_body": False})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    asyncio.run(HeadAsGet(page)({"type": "http", "method": "HEAD", "path": "/"}, receive, send))
    assert sent[0]["headers"] == [(b"content-length", b"5")]
    assert [m["body"] for m in sent[1:]] == [b""] and sent[-1]["more_body"] is False
