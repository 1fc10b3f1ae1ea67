"""The Slack staff desk end to end: signed Slack requests in, Slack and LINE API calls out (mocks)."""
import csv
import io
import json
import time

import httpx
from sqlmodel import Session, select

from store.models import Case, CaseEvent
from tests.support.live import post_webhook, text_event, wait_until
from tests.support.slack_fake import (
    STAFF_CHANNEL,
    button,
    command,
    event,
    interact,
    post,
    signed_headers,
    submit_view,
)

POST, UPDATE, EPHEMERAL = "/chat.postMessage", "/chat.update", "/chat.postEphemeral"
PUSH, REPLY = "/v2/bot/message/push", "/v2/bot/message/reply"
STEPS = ["相談したい", "同意する", "町内会・自治会", "岡山東町内会", "子ども食堂を始めたい", "中区", "LINE", "なし", "送信"]


def submit_case(server, user="Ucitizen") -> Case:
    for step in STEPS:
        assert post_webhook(server.url, [text_event(step, user=user)]).status_code == 200

    def card_placed():
        with Session(server.db) as session:
            case = session.exec(select(Case).where(Case.user_id == f"user:{user}")).first()
            return case if case and case.slack_ts else None
    return wait_until(card_placed)


def case_now(server, case_id) -> Case:
    with Session(server.db) as session:
        return session.get(Case, case_id)


def texts(requests) -> str:
    return json.dumps([r.body for r in requests], ensure_ascii=False)


def test_new_case_gets_a_card_and_its_answers_in_the_thread(desk_server):
    case = submit_case(desk_server)
    [card] = desk_server.slack.calls(POST)[:1]
    assert card.body["channel"] == STAFF_CHANNEL
    card_json = json.dumps(card.body["blocks"], ensure_ascii=False)
    for expected in (case.reference, "町内会・自治会", "岡山東町内会", "中区", "LINE", "受付",
                     "担当する", "市民に返信", "ステータス変更", "詳細"):
        assert expected in card_json
    assert "岡山東町内会" not in card.body["text"]  # the notification text carries no personal data
    thread = desk_server.slack.wait_for(POST, 2)[1]
    assert thread.body["thread_ts"] == case.slack_ts and "子ども食堂を始めたい" in thread.body["text"]


def test_claim_assigns_updates_the_card_and_tells_the_citizen(desk_server):
    case = submit_case(desk_server)
    assert button(desk_server.url, "case_claim", case.id).status_code == 200
    wait_until(lambda: case_now(desk_server, case.id).assignee == "USTAFF1")
    assert case_now(desk_server, case.id).status == "対応中"
    update = desk_server.slack.wait_for(UPDATE)[-1]
    blocks = json.dumps(update.body["blocks"], ensure_ascii=False)
    assert update.body["ts"] == case.slack_ts and "<@USTAFF1>" in blocks and "対応中" in blocks
    push = desk_server.line.wait_for(PUSH)[-1]
    assert push.body["to"] == "Ucitizen" and "担当者が対応を始めました" in texts([push])
    # handed over to a colleague
    button(desk_server.url, "case_claim", case.id, user="USTAFF2")
    wait_until(lambda: case_now(desk_server, case.id).assignee == "USTAFF2")
    assert "引き継ぎ" in texts(desk_server.slack.wait_for(POST, 5))


def test_reply_goes_through_a_preview_then_to_the_citizen_and_the_thread(desk_server):
    case = submit_case(desk_server)
    button(desk_server.url, "case_reply", case.id)
    [opened] = desk_server.slack.wait_for("/views.open")
    view = opened.body["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["callback_id"] == "reply_modal"
    first = submit_view(desk_server.url, "reply_modal", str(case.id), {"message": {"text": {"value": "来週お電話します。"}}})
    preview = first.json()
    assert preview["response_action"] == "update" and "来週お電話します。" in json.dumps(preview, ensure_ascii=False)
    assert desk_server.line.calls(PUSH) == []  # nothing reaches the citizen before confirming
    submit_view(desk_server.url, "reply_confirm", preview["view"]["private_metadata"], {})
    push = desk_server.line.wait_for(PUSH)[-1]
    assert "来週お電話します。" in texts([push]) and case.reference in texts([push])
    wait_until(lambda: "が市民に返信しました" in texts(desk_server.slack.calls(POST)))


def test_citizen_messages_go_to_the_thread_while_staff_have_the_case_and_menu_ends_it(desk_server):
    case = submit_case(desk_server)
    button(desk_server.url, "case_claim", case.id)
    wait_until(lambda: case_now(desk_server, case.id).relay_open)
    replies_before = len(desk_server.line.calls(REPLY))
    hostile = "<!channel> 土曜日なら都合がいいです <https://evil.example|市の公式サイト>"
    post_webhook(desk_server.url, [text_event(hostile, user="Ucitizen")])
    ack = desk_server.line.wait_for(REPLY, replies_before + 1)[-1]
    assert "担当者にお伝えしました" in texts([ack])
    relayed = wait_until(lambda: [r for r in desk_server.slack.calls(POST) if "土曜日なら都合がいいです" in texts([r])])[0]
    assert "&lt;!channel&gt;" in relayed.body["text"] and "<!channel>" not in relayed.body["text"]
    assert "<https://evil" not in relayed.body["text"]
    # anything but the menu reaches the person, even words the bot would otherwise act on
    post_webhook(desk_server.url, [text_event("担当者と話したい", user="Ucitizen")])
    wait_until(lambda: "担当者と話したい" in texts(desk_server.slack.calls(POST)))
    replies_before += 1
    post_webhook(desk_server.url, [text_event("メニュー", user="Ucitizen")])
    wait_until(lambda: not case_now(desk_server, case.id).relay_open)
    post_webhook(desk_server.url, [text_event("公民館の休館日は？", user="Ucitizen")])
    answer = desk_server.line.wait_for(REPLY, replies_before + 3)[-1]
    assert "水曜" in texts([answer])  # the bot answers again


def test_thread_messages_are_internal_notes_never_sent_to_the_citizen(desk_server):
    case = submit_case(desk_server)
    pushes = len(desk_server.line.calls(PUSH))
    note = {"type": "message", "channel": STAFF_CHANNEL, "user": "USTAFF1", "text": "保護者会にも声をかける",
            "ts": "1700000999.000001", "thread_ts": case.slack_ts}
    assert event(desk_server.url, note, event_id="EvNOTE1").status_code == 200
    # Slack retries the same event: recorded once
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert event(desk_server.url, note, event_id="EvNOTE1", **retry).status_code == 200

    def notes():
        with Session(desk_server.db) as session:
            return session.exec(select(CaseEvent).where(CaseEvent.kind == "note")).all()
    wait_until(notes)
    time.sleep(0.5)
    assert [n.text for n in notes()] == ["保護者会にも声をかける"]
    assert len(desk_server.line.calls(PUSH)) == pushes


def test_status_change_updates_card_and_tells_the_citizen_in_plain_japanese(desk_server):
    case = submit_case(desk_server)
    button(desk_server.url, "case_status", case.id)
    desk_server.slack.wait_for("/views.open")
    submit_view(desk_server.url, "status_modal", str(case.id), {
        "status": {"value": {"selected_option": {"value": "協議中"}}}, "note": {"text": {"value": "環境局と調整"}}})
    wait_until(lambda: case_now(desk_server, case.id).status == "協議中")
    push = desk_server.line.wait_for(PUSH)[-1]
    assert "協議を進めています" in texts([push]) and "環境局" not in texts([push])  # the note stays internal
    with Session(desk_server.db) as session:
        [change] = session.exec(select(CaseEvent).where(CaseEvent.kind == "status")).all()
    assert change.actor == "USTAFF1" and "受付→協議中" in change.text


def test_a_closed_case_cannot_be_replied_to(desk_server):
    case = submit_case(desk_server)
    submit_view(desk_server.url, "status_modal", str(case.id), {"status": {"value": {"selected_option": {"value": "取り下げ"}}}})
    wait_until(lambda: case_now(desk_server, case.id).status == "取り下げ")
    pushes = len(desk_server.line.wait_for(PUSH, 1))  # the withdrawal notice itself
    submit_view(desk_server.url, "reply_confirm", json.dumps({"case_id": case.id, "text": "まだ話せますか"}), {})
    refusal = desk_server.slack.wait_for(EPHEMERAL)[-1]
    assert "市民には送れません" in refusal.body["text"]
    assert len(desk_server.line.calls(PUSH)) == pushes


def test_non_staff_are_refused_and_nothing_changes(desk_server):
    case = submit_case(desk_server)
    button(desk_server.url, "case_claim", case.id, user="UOUTSIDER")
    refusal = desk_server.slack.wait_for(EPHEMERAL)[-1]
    assert refusal.body["user"] == "UOUTSIDER" and "職員だけ" in refusal.body["text"]
    time.sleep(0.3)
    assert case_now(desk_server, case.id).assignee is None
    reply = submit_view(desk_server.url, "reply_modal", str(case.id), {"message": {"text": {"value": "x"}}}, user="UOUTSIDER")
    assert reply.json()["response_action"] == "errors"


def test_slack_429_is_retried_after_retry_after(desk_server):
    desk_server.slack.fail(POST, 429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"})
    submit_case(desk_server)
    first, second = desk_server.slack.calls(POST)[:2]
    assert first.status == 429 and second.at - first.at >= 1.0


def test_bad_signatures_and_replayed_timestamps_are_refused(desk_server):
    body = b'{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"USTAFF1"}}'
    wrong = {"content-type": "application/json", **signed_headers(body, secret="not-the-secret")}

    assert httpx.post(f"{desk_server.url}/slack/events", content=body, headers=wrong).status_code == 401
    old = {"content-type": "application/json", **signed_headers(body, timestamp=int(time.time()) - 600)}
    assert httpx.post(f"{desk_server.url}/slack/events", content=body, headers=old).status_code == 401
    assert post(desk_server.url, b"x" * 10, "application/json").status_code == 400  # signed, but not JSON
    assert httpx.post(f"{desk_server.url}/slack/events", content=b"x" * 10,
                      headers={"content-type": "application/json"}).status_code == 401  # not signed


def test_kyodo_export_uploads_a_csv_excel_can_open(desk_server):
    case = submit_case(desk_server)
    assert command(desk_server.url, "export", f"{desk_server.slack.url}/respond/1").status_code == 200
    upload = wait_until(lambda: [r for r in desk_server.slack.requests if r.path.startswith("/upload/")])[0]
    [shared] = desk_server.slack.wait_for("/files.completeUploadExternal")
    assert shared.body["channel_id"] == "DUSTAFF1"  # the requester's DM with the bot, never the channel
    raw = upload.raw.decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert rows[0][:4] == ["受付番号", "種別", "ステータス", "受付日時"]
    assert rows[1][0] == case.reference and "岡山東町内会" in rows[1]
    answer = desk_server.slack.wait_for("/respond/1")[-1]
    assert "1 件" in texts([answer])


def test_kyodo_cases_case_ask_and_help(desk_server):
    case = submit_case(desk_server)
    respond = f"{desk_server.slack.url}/respond/2"
    command(desk_server.url, "cases open", respond)
    assert case.reference in texts(desk_server.slack.wait_for("/respond/2", 1))
    command(desk_server.url, f"case {case.reference}", respond)
    assert "子ども食堂を始めたい" in texts(desk_server.slack.wait_for("/respond/2", 2))
    command(desk_server.url, "ask 公民館の休館日は？", respond)
    assert "水曜" in texts(desk_server.slack.wait_for("/respond/2", 3))
    command(desk_server.url, "cases all", respond, user="UOUTSIDER")
    assert "職員だけ" in texts(desk_server.slack.wait_for("/respond/2", 4)[-1:])
    command(desk_server.url, "", respond)
    assert "/kyodo の使い方" in texts(desk_server.slack.wait_for("/respond/2", 5)[-1:])


def test_app_home_lists_my_unassigned_and_overdue_cases(desk_server):
    case = submit_case(desk_server)
    event(desk_server.url, {"type": "app_home_opened", "user": "USTAFF1", "tab": "home"})
    [published] = desk_server.slack.wait_for("/views.publish")
    view = json.dumps(published.body["view"], ensure_ascii=False)
    assert "わたしの担当（0）" in view and "未担当（1）" in view and case.reference in view


def test_indicator_reminder_reaches_slack_and_the_report_button_records_a_figure(desk_server, kb):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.settings import Settings
    from bot.runtime import Desk
    from scheduler.jobs import registry_for, run_due
    from store import indicators as figures

    desk = Desk(desk_server.db, kb, Settings().desk)
    [post] = run_due(desk, registry_for(desk), datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    reminder = wait_until(lambda: [r for r in desk_server.slack.calls(POST) if "成果指標の報告のお願い" in texts([r])])[0]
    buttons = [b["accessory"]["value"] for b in reminder.body["blocks"] if "accessory" in b]
    assert "share-web-posts|2026-11" in buttons and not any(v.startswith("matching-count") for v in buttons)

    interact(desk_server.url, {"type": "block_actions", "user": {"id": "USTAFF1"}, "team": {"id": "T1"}, "api_app_id": "A1",
                               "trigger_id": "t1", "channel": {"id": STAFF_CHANNEL}, "container": {"type": "message"},
                               "actions": [{"type": "button", "action_id": "indicator_report", "block_id": "b",
                                            "value": "share-web-posts|2026-11", "action_ts": "1"}]})
    desk_server.slack.wait_for("/views.open")
    bad = submit_view(desk_server.url, "indicator_report_modal", "share-web-posts|2026-11", {"value": {"text": {"value": "たくさん"}}})
    assert bad.json()["response_action"] == "errors"
    good = submit_view(desk_server.url, "indicator_report_modal", "share-web-posts|2026-11",
                       {"value": {"text": {"value": "１２件"}}, "note": {"text": {"value": None}}})
    assert good.status_code == 200

    def stored():
        with Session(desk_server.db) as session:
            return figures.current(session, "share-web-posts", "2026-11")
    row = wait_until(stored)
    assert (row.value, row.reported_by) == (12.0, "USTAFF1")


def test_kyodo_report_posts_the_chart_and_table(desk_server):
    command(desk_server.url, "report 2026", f"{desk_server.slack.url}/respond/9")
    desk_server.slack.wait_for("/files.completeUploadExternal", timeout=30)
    assert len(desk_server.slack.calls("/files.getUploadURLExternal")) == 2
    uploads = [r for r in desk_server.slack.requests if r.path.startswith("/upload/")]
    assert sorted(r.raw[:8] == b"\x89PNG\r\n\x1a\n" for r in uploads) == [False, True]  # the chart and the CSV
    assert any(r.raw.startswith("\ufeff".encode()) for r in uploads)
    assert "2026年度" in texts(desk_server.slack.wait_for("/respond/9"))


def test_a_citizen_who_unfollowed_is_sent_nothing(desk_server):
    from tests.support.live import line_event

    case = submit_case(desk_server)
    post_webhook(desk_server.url, [line_event("unfollow", user="Ucitizen")])
    time.sleep(1.0)
    pushes = len(desk_server.line.calls(PUSH))
    submit_view(desk_server.url, "status_modal", str(case.id), {"status": {"value": {"selected_option": {"value": "協議中"}}}})
    wait_until(lambda: case_now(desk_server, case.id).status == "協議中")
    wait_until(lambda: len([r for r in desk_server.slack.calls(UPDATE)]) >= 1)
    time.sleep(1.0)
    assert len(desk_server.line.calls(PUSH)) == pushes


def test_a_staff_reply_reaches_a_web_chat_citizen_when_the_page_polls(desk_server):

    with httpx.Client(base_url=desk_server.url) as browser:
        for text in ["相談したい", "同意する", "個人", "web太郎", "イベントの協力者を探しています", "なし", "メール",
                     "web@example.jp", "なし", "送信"]:
            browser.post("/api/chat", json={"text": text})

        def web_case():
            with Session(desk_server.db) as session:
                case = session.exec(select(Case).where(Case.channel == "web")).first()
            return case if case and case.slack_ts else None
        case = wait_until(web_case)
        assert browser.get("/api/chat/poll").json() == {"items": []}
        preview = submit_view(desk_server.url, "reply_modal", str(case.id), {"message": {"text": {"value": "来週ご連絡します"}}}).json()
        submit_view(desk_server.url, "reply_confirm", preview["view"]["private_metadata"], {})
        items = wait_until(lambda: browser.get("/api/chat/poll").json()["items"])
        assert "来週ご連絡します" in items[0]["messages"][0]["text"]
        assert browser.post("/api/chat/ack", json={"ids": [item["id"] for item in items]}).json() == {"acknowledged": 1}
        assert browser.get("/api/chat/poll").json() == {"items": []}  # delivered once
    with httpx.Client(base_url=desk_server.url) as stranger:
        stranger.post("/api/chat", json={"text": "メニュー"})
        assert stranger.get("/api/chat/poll").json() == {"items": []}
