"""The LINE channel end to end over real HTTP: signed webhooks in, Messaging API calls out (mock)."""
import json
import threading
import time

import httpx
import pytest
from sqlmodel import Session, select

from store.models import Case, Inbox, Outbox
from tests.support.live import line_event, post_webhook, postback_event, settle, sign, text_event

REPLY, PUSH, LOADING = "/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/chat/loading/start"


def all_text(request) -> str:
    """Every text a LINE request carries (text messages, flex alt text and contents, quick replies)."""
    return json.dumps(request.body, ensure_ascii=False)


def test_wrong_or_missing_signature_is_401_and_stores_nothing(line_server):
    body = json.dumps({"events": [text_event("こんにちは")]}).encode()
    assert post_webhook(line_server.url, [], signature=None, body=body).status_code == 401
    assert post_webhook(line_server.url, [], signature=sign(body, "another-secret"), body=body).status_code == 401
    assert post_webhook(line_server.url, [], signature="not base64 at all", body=body).status_code == 401
    with Session(line_server.db) as session:
        assert session.exec(select(Inbox)).all() == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"events": "x"}', b"\xff\xfe",
                                  b'{"events": [{"type": "message", "x": ' + b"[" * 800 + b"]" * 800 + b"}]}"])
def test_malformed_but_signed_body_is_400(line_server, body):
    assert post_webhook(line_server.url, [], body=body).status_code == 400


def test_oversized_body_is_413(line_server):
    body = b'{"events": [' + b" " * 1_100_000 + b"]}"
    assert post_webhook(line_server.url, [], body=body).status_code == 413


def test_verification_request_with_no_events_is_200(line_server):
    assert post_webhook(line_server.url, []).status_code == 200


def test_question_is_answered_with_the_reply_token(line_server):
    event = text_event("公民館の休館日は？", reply_token="token-1")
    response = post_webhook(line_server.url, [event])
    assert response.status_code == 200
    [call] = line_server.line.wait_for(REPLY)
    assert call.body["replyToken"] == "token-1"
    assert call.headers["Authorization"] == "Bearer test-line-access-token"
    assert "水曜" in all_text(call) and call.body["messages"][0]["type"] == "flex"


def test_redelivered_event_is_processed_once(line_server):
    event = text_event("協働推進委員会の委員は何人？", event_id="01REDELIVERED")
    again = dict(event, deliveryContext={"isRedelivery": True})
    for body in ([event], [again], [event]):
        assert post_webhook(line_server.url, body).status_code == 200
    line_server.line.wait_for(REPLY)
    settle(line_server.db)
    time.sleep(0.3)
    assert len(line_server.line.calls(REPLY)) == 1


ALL_EVENT_TYPES = [
    text_event("こんにちは"),
    *[line_event("message", message={"id": f"m{i}", "type": t}) for i, t in
      enumerate(["image", "video", "audio", "file", "location", "sticker"])],
    line_event("follow"), line_event("unfollow"), line_event("join", source="group"),
    line_event("leave", source="group"), line_event("memberJoined", source="group", joined={"members": []}),
    line_event("memberLeft", source="group", left={"members": []}),
    postback_event("a=menu", params={"datetime": "2026-12-01T10:00"}),
    line_event("beacon", beacon={"hwid": "d41d8cd98f", "type": "enter"}),
    line_event("accountLink", link={"result": "ok", "nonce": "n"}),
    line_event("unsend", unsend={"messageId": "m0"}),
    line_event("videoPlayComplete", videoPlayComplete={"trackingId": "t"}),
    line_event("messageEdited", message={"id": "m1", "type": "text", "text": "edited"}),
    line_event("membership", membership={"type": "joined", "membershipId": 1}),
    line_event("module", module={"type": "attached", "botId": "b", "scopes": []}),
    line_event("activated", chatControl={"expireAt": 0}), line_event("deactivated"),
    line_event("botSuspended"), line_event("botResumed"),
    line_event("somethingNewFromLine", surprise={"nested": [1, 2]}),
]


def test_every_event_type_in_one_body_is_accepted_and_only_the_meaningful_ones_answered(line_server):
    assert post_webhook(line_server.url, ALL_EVENT_TYPES).status_code == 200
    settle(line_server.db)
    with Session(line_server.db) as session:
        rows = session.exec(select(Inbox)).all()
    assert len(rows) == len(ALL_EVENT_TYPES)
    assert {r.status for r in rows} <= {"done", "ignored"}
    answered = {r.payload["type"] + ":" + (r.payload.get("message") or {}).get("type", "") for r in rows if r.status == "done"}
    assert answered == {"message:text", "message:image", "message:video", "message:audio", "message:file",
                        "message:location", "message:sticker", "follow:", "unfollow:", "postback:"}
    texts = [all_text(c) for c in line_server.line.calls(REPLY)]
    assert sum("文字のメッセージだけ" in t for t in texts) == 6
    assert any("友だち追加ありがとうございます" in t for t in texts)


def test_group_chat_never_starts_a_personal_data_form(line_server):
    post_webhook(line_server.url, [line_event("message", source="group", message={"id": "g", "type": "text", "text": "相談したいです"})])
    [call] = line_server.line.wait_for(REPLY)
    assert "1対1のトーク" in all_text(call) and "個人情報の取り扱い" not in all_text(call)


def test_stale_reply_token_falls_back_to_push(line_server):
    line_server.line.fail(REPLY, 400, body={"message": "Invalid reply token"})
    post_webhook(line_server.url, [text_event("公民館の休館日は？", user="Upush")])
    [push] = line_server.line.wait_for(PUSH)
    assert push.body["to"] == "Upush" and "水曜" in all_text(push)
    assert push.headers.get("X-Line-Retry-Key")


def test_server_errors_are_retried_until_sent(line_server):
    line_server.line.fail(REPLY, 500, times=2)
    post_webhook(line_server.url, [text_event("公民館の休館日は？", user="Uretry")])
    calls = line_server.line.wait_for(REPLY, 3)
    assert len(calls) == 3 and calls[2].at - calls[0].at >= 1.0  # 0.5 s, then 1 s backoff
    settle(line_server.db)


def test_429_waits_for_retry_after(line_server):
    line_server.line.fail(REPLY, 429, headers={"Retry-After": "2"})
    post_webhook(line_server.url, [text_event("公民館の休館日は？", user="U429")])
    first = line_server.line.wait_for(REPLY)[0]
    # The reply token is stale by the time a long Retry-After ends; the message still arrives once.
    delivered = line_server.line.wait_for(REPLY, 2, timeout=20)[1]
    assert delivered.at - first.at >= 2.0
    settle(line_server.db)


def test_permanent_failure_is_recorded_not_dropped(line_server):
    line_server.line.fail(REPLY, 403, body={"message": "forbidden"})
    post_webhook(line_server.url, [text_event("公民館の休館日は？", user="U403")])
    line_server.line.wait_for(REPLY)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with Session(line_server.db) as session:
            row = session.exec(select(Outbox).where(Outbox.target == "U403")).first()
        if row and row.status == "failed":
            break
        time.sleep(0.05)
    assert row.status == "failed" and "403" in row.last_error


def test_twenty_people_take_consultations_at_once(line_server):
    steps = ["相談したい", "同意する", "個人", "名前", "地域の見守り活動を始めたい", "なし", "LINE", "なし", "送信"]
    errors = []

    def person(n: int):
        try:
            for step in steps:
                assert post_webhook(line_server.url, [text_event(step, user=f"U{n:02d}")]).status_code == 200
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    settle(line_server.db, 60)
    with Session(line_server.db) as session:
        cases = session.exec(select(Case)).all()
    assert len(cases) == 20 and len({c.user_id for c in cases}) == 20
    assert len({c.reference for c in cases}) == 20
    assert len(line_server.line.calls(REPLY)) == 20 * len(steps)


def test_web_chat_works_on_the_same_server(line_server):
    with httpx.Client(base_url=line_server.url) as client:
        first = client.post("/api/chat", json={"text": "相談したい"})
        assert first.status_code == 200 and "kyodo_sid" in first.cookies
        consent = next(c for c in first.json()["messages"][0]["choices"] if c["label"] == "同意する")
        second = client.post("/api/chat", json={"postback": consent["data"]})
        assert "どなたからのご相談" in json.dumps(second.json(), ensure_ascii=False)
        assert client.post("/api/chat", content=b"{bad").status_code == 400
        assert client.post("/api/chat", json={"other": 1}).status_code == 400
        odd = client.post("/api/chat", content=b'{"text": "\\u516c\\u6c11\\u9928\\ud800\\u0000"}')  # lone surrogate, NUL
        assert odd.status_code == 200 and odd.json()["messages"]
        assert client.post("/api/chat", content=b'{"text": ' + b"[" * 800 + b"]" * 800 + b"}").status_code == 400
    assert httpx.get(f"{line_server.url}/healthz").json()["channels"] == ["line", "web"]


def test_an_accepted_message_is_never_sent_again_whatever_line_answers(line_server):
    line_server.line.answer(REPLY, {"unexpected": "shape"})
    post_webhook(line_server.url, [text_event("公民館の休館日は？", user="Uodd")])
    line_server.line.wait_for(REPLY)
    settle(line_server.db)
    time.sleep(0.5)
    assert len(line_server.line.calls(REPLY)) == 1


def test_rendered_messages_are_valid_for_the_line_sdk(kb):
    """Everything the desk sends parses as LINE Messaging API messages (the SDK's own models)."""
    from datetime import datetime

    from linebot.v3.messaging import Message

    from bot.engine import Context, handle
    from bot.messages import Text
    from bot.state import State
    from handlers.line_render import render
    from tests.support.chat import JST

    state, now = State(), datetime(2026, 11, 30, 10, tzinfo=JST)
    typed = ["メニュー", "公民館の休館日は？", "相談したい", "同意する", "個人", "山田" * 60, "あ" * 1990, "なし", "LINE", "なし",
             "状況確認", "ごみの日"]
    for text in typed:
        turn = handle(state, Text(text), Context(now=now, knowledge=kb))
        state = turn.state
        for batch in render(turn.replies):
            assert len(batch) <= 5
            for message in batch:
                Message.from_dict(message)
                for item in (message.get("quickReply") or {}).get("items", []):
                    assert len(item["action"]["label"]) <= 20 and len(item["action"]["data"]) <= 300


def test_an_unsure_answer_offers_quick_replies_that_open_the_entry(line_server, kb):
    offered = kb.ask("町内会長 相談先 どこ").maybe  # close to several entries, none sure enough
    assert offered, "the question no longer falls in the 「もしかして」 band; pick another"
    post_webhook(line_server.url, [text_event("町内会長 相談先 どこ", reply_token="token-maybe")])
    [call] = line_server.line.wait_for(REPLY)
    items = call.body["messages"][-1]["quickReply"]["items"]
    postbacks = [item["action"]["data"] for item in items if item["action"]["type"] == "postback"]
    [shows] = [data for data in postbacks if data.startswith(f"a=show&e={offered[0].id}&")]  # with the question
    assert "かもしれません" in all_text(call)
    post_webhook(line_server.url, [postback_event(shows, reply_token="token-show")])
    shown = [c for c in line_server.line.wait_for(REPLY, count=2) if c.body["replyToken"] == "token-show"]
    assert shown and offered[0].title in all_text(shown[0])
