"""Security: oversized bodies, hostile text kept verbatim and harmless, personal data never in logs."""
import json
import logging
import time

import httpx
from sqlmodel import Session, select

from store.models import Case, Inbox
from tests.support.live import post_webhook, sign, text_event, wait_until
from tests.support.slack_fake import STAFF_CHANNEL, button, signed_headers, submit_view
from tests.support.slack_fake import event as slack_event

TEN_MB = 10 * 1024 * 1024


def chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b" " * size
        sent += size


def test_ten_megabyte_bodies_are_refused_with_413_without_reading_them(desk_server):
    for path in ("/line/webhook", "/slack/events"):
        declared = httpx.post(f"{desk_server.url}{path}", content=b"x" * TEN_MB, headers={"content-type": "application/json"}, timeout=30)
        assert declared.status_code == 413
        started = time.monotonic()
        streamed = httpx.post(f"{desk_server.url}{path}", content=chunks(TEN_MB), headers={"content-type": "application/json"}, timeout=30)
        assert streamed.status_code == 413 and time.monotonic() - started < 10


HOSTILE = "'); DROP TABLE \"case\"; -- <script>alert(1)</script> \x07\x1b[31m 𠮷野家 \u202e"


def card_placed(db):
    with Session(db) as session:
        case = session.exec(select(Case)).first()
    return case if case and case.slack_ts else None


def test_sql_looking_and_control_text_is_stored_and_shown_verbatim(desk_server):
    steps = ["相談したい", "同意する", "個人", "Robert'); DROP TABLE students;--", HOSTILE + "\x00", "なし", "LINE", "なし", "送信"]
    for step in steps:
        assert post_webhook(desk_server.url, [text_event(step, user="Uhostile")]).status_code == 200
    case = wait_until(lambda: card_placed(desk_server.db), 15, "the case card")
    assert case.answers["name"] == "Robert'); DROP TABLE students;--"
    assert case.answers["content"] == HOSTILE  # only the NUL is gone
    thread = desk_server.slack.wait_for("/chat.postMessage", 2)[1]
    assert "&lt;script&gt;" in thread.body["text"] and "<script>" not in thread.body["text"]
    assert "\x07\x1b[31m 𠮷野家 \u202e" in thread.body["text"]


def test_personal_data_never_reaches_the_logs_at_any_level(desk_server, caplog):
    secrets = {"name": "山田花子テスト", "phone": "090-4321-8765", "email": "hanako.secret@example.jp",
               "content": "ひみつの相談内容です", "staff_reply": "職員からの私的な返信", "note": "内部メモの内容",
               "relay": "市民の追伸です"}
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    steps = ["相談したい", "同意する", "個人", secrets["name"], secrets["content"], "なし", "電話", secrets["phone"], "なし", "送信"]
    for step in steps:
        post_webhook(desk_server.url, [text_event(step, user="Usecret")])
    case = wait_until(lambda: card_placed(desk_server.db), 15, "the case card")
    button(desk_server.url, "case_claim", case.id)
    preview = submit_view(desk_server.url, "reply_modal", str(case.id), {"message": {"text": {"value": secrets["staff_reply"]}}}).json()
    submit_view(desk_server.url, "reply_confirm", preview["view"]["private_metadata"], {})
    slack_event(desk_server.url, {"type": "message", "channel": STAFF_CHANNEL, "user": "USTAFF1", "text": secrets["note"],
                                  "ts": "1.2", "thread_ts": case.slack_ts})
    post_webhook(desk_server.url, [text_event(secrets["relay"], user="Usecret")])
    post_webhook(desk_server.url, [text_event(f"メールは {secrets['email']} です", user="Usecret")])
    desk_server.line.wait_for("/v2/bot/message/push", 1)
    time.sleep(1.0)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert any(case.reference in r.getMessage() for r in caplog.records)  # the flow did log
    for label, value in secrets.items():
        assert value not in logged, f"{label} leaked into the logs"


def test_signatures_are_checked_before_anything_is_stored(desk_server):
    body = json.dumps({"events": [text_event("相談したい")]}).encode()
    assert httpx.post(f"{desk_server.url}/line/webhook", content=body,
                      headers={"x-line-signature": sign(body, "forged")}).status_code == 401
    slack_body = b'{"type":"event_callback","event_id":"Ev9","event":{"type":"app_home_opened","user":"USTAFF1"}}'
    replayed = signed_headers(slack_body, timestamp=int(time.time()) - 301)
    assert httpx.post(f"{desk_server.url}/slack/events", content=slack_body,
                      headers={"content-type": "application/json", **replayed}).status_code == 401


def test_a_lone_surrogate_escape_is_stored_as_a_replacement_character_and_answered(desk_server):
    """JSON may carry "\\ud800" alone, which no text column (nor UTF-8) can hold. Refusing the event
    would make LINE redeliver it forever, so it is kept with U+FFFD in its place."""
    event = text_event("公民館\ud800の休館日", user="Usurrogate")
    body = json.dumps({"destination": "Uxxxxxxxx", "events": [event]}).encode()  # ASCII, with the escape
    assert b"\\ud800" in body
    assert post_webhook(desk_server.url, [], body=body).status_code == 200
    desk_server.line.wait_for("/v2/bot/message/reply", 1)
    with Session(desk_server.db) as session:
        stored = session.exec(select(Inbox)).one()
    assert stored.payload["message"]["text"] == "公民館\ufffdの休館日"
