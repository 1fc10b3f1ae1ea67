"""Erasure leaves nothing: a LINE citizen and a web chat citizen, each with a whole history, are
erased with `kyodo-desk privacy erase`; then every column of every table is read and none of their
values may remain, the desk's messages in their Slack threads are gone, and a replay of their old
LINE event changes nothing."""
import json
import os
import re
import subprocess
import sys

from sqlalchemy import select
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_models

from store import outbox
from store.models import Case, Conversation, Erasure, Inbox, Outbox, PrivacyAudit
from tests.e2e.test_slack_desk import submit_case
from tests.e2e.test_web_status_check import Browser, submit_consultation
from tests.support.live import post_webhook, text_event, wait_until
from tests.support.slack_fake import STAFF_CHANNEL, button, event, submit_view

LINE_USER = "Uerase0001"
CONSULT = ["相談したい", "同意する", "個人", "山田花子", "空き家の活用を相談したい", "なし", "電話", "090-1111-2222", "なし", "送信"]
RELAYED = "追加の連絡です。日中は080-2222-3333にお願いします"
STAFF_REPLY = "山田花子さん、来週お電話します。"
STAFF_NOTE = "山田花子さんには空き家バンクを案内済み"
LINE_NEEDLES = ("山田花子", "090-1111-2222", "空き家の活用を相談したい", "080-2222-3333", "追加の連絡です",
                "来週お電話します", "空き家バンクを案内済み", LINE_USER)
WEB_NEEDLES = ("岡山花子", "hanako@example.jp", "公園の清掃活動を一緒にしてくれる団体を探しています")
POST, DELETE, UPDATE, PUSH, REPLY = "/chat.postMessage", "/chat.delete", "/chat.update", "/v2/bot/message/push", "/v2/bot/message/reply"


def line_case_with_history(server) -> tuple[Case, dict]:
    """A consultation on LINE; staff take it, the citizen writes to the thread, staff reply and note."""
    first = text_event(CONSULT[0], user=LINE_USER)
    post_webhook(server.url, [first])
    for step in CONSULT[1:]:
        assert post_webhook(server.url, [text_event(step, user=LINE_USER)]).status_code == 200
    case = wait_until(lambda: _case_of(server, f"user:{LINE_USER}", placed=True))
    button(server.url, "case_claim", case.id)
    wait_until(lambda: _case_of(server, f"user:{LINE_USER}").relay_open)
    post_webhook(server.url, [text_event(RELAYED, user=LINE_USER)])
    wait_until(lambda: [r for r in server.slack.calls(POST) if "080-2222-3333" in json.dumps(r.body, ensure_ascii=False)])
    preview = submit_view(server.url, "reply_modal", str(case.id), {"message": {"text": {"value": STAFF_REPLY}}}).json()
    submit_view(server.url, "reply_confirm", preview["view"]["private_metadata"], {})
    wait_until(lambda: [r for r in server.line.calls(PUSH) if "来週お電話します" in json.dumps(r.body, ensure_ascii=False)])
    # A staff member's note in the thread: Slack keeps it (the mock's history), the desk records it.
    note_ts = server.slack.history.add(STAFF_CHANNEL, STAFF_NOTE, thread_ts=case.slack_ts, user="USTAFF1")
    event(server.url, {"type": "message", "channel": STAFF_CHANNEL, "user": "USTAFF1", "text": STAFF_NOTE,
                       "ts": note_ts, "thread_ts": case.slack_ts})
    wait_until(lambda: _slack_idle(server) and _events_done(server))
    return case, first


def web_case_with_history(server) -> tuple[Case, str]:
    browser = Browser(server.url)
    confirmation = submit_consultation(browser)
    reference = re.search(r"受付番号は (S-\d{4}-\d{4})", confirmation).group(1)
    code = re.search(r"確認コードは ([A-Z0-9]{6})", confirmation).group(1)
    assert reference in browser.say("状況確認")  # a turn in the page's history
    with Session(server.db) as session:
        user_id = session.exec(select_models(Case).where(Case.reference == reference)).one().user_id
    case = wait_until(lambda: _slack_idle(server) and _case_of(server, user_id, placed=True))
    assert case.check_code_hash
    return case, code


def _case_of(server, user_id: str, placed: bool = False) -> Case | None:
    with Session(server.db) as session:
        case = session.exec(select_models(Case).where(Case.user_id == user_id)).first()
    return case if case and (case.slack_ts or not placed) else None


def _slack_idle(server) -> bool:
    with Session(server.db) as session:
        return not session.exec(select_models(Outbox).where(Outbox.channel == "slack",
                                                            Outbox.status == outbox.PENDING)).first()


def _events_done(server) -> bool:
    with Session(server.db) as session:
        return not session.exec(select_models(Inbox).where(Inbox.status == "pending")).first()


def erase(server, *how: str) -> str:
    url = server.db.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LINE_"))} | {"DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "app", "privacy", "erase", *how, "--by", "窓口 佐藤", "--yes"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def remaining(db, needles) -> list[str]:
    """Every value of every column of every table that holds one of `needles`."""
    found = []
    with Session(db) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
                    found += [f"{table.name}.{column}: {needle}" for needle in needles if needle in text]
    return found


def test_erasure_leaves_no_trace_in_the_database_or_slack_and_replays_change_nothing(desk_server):
    server = desk_server
    kept = submit_case(server, user="Ukeep")  # someone else, untouched
    case, first_event = line_case_with_history(server)
    web_case, code = web_case_with_history(server)
    needles = (*LINE_NEEDLES, *WEB_NEEDLES, web_case.user_id, code)
    assert len(remaining(server.db, needles)) > 10  # the scan sees the person before the erasure
    thread_before = server.slack.history.thread(case.slack_ts)
    assert len([m for m in thread_before if "bot_id" in m]) >= 4  # card, answers, relay, reply notice…

    assert "cases 1" in erase(server, "--line-user", LINE_USER)
    assert "cases 1" in erase(server, "--reference", web_case.reference.lower())
    wait_until(lambda: _slack_idle(server), what="the Slack erasures sent")

    assert remaining(server.db, needles) == []
    with Session(server.db) as session:
        erased = {c.id: c for c in session.exec(select_models(Case))}
        audits = session.exec(select_models(PrivacyAudit).where(PrivacyAudit.action == "erase")).all()
        tombstones = session.exec(select_models(Erasure)).all()
    assert erased[case.id].kind == "consultation" and erased[case.id].status == "対応中"  # the counts survive
    assert erased[web_case.id].check_code_hash is None
    assert erased[kept.id].answers["name"] == "岡山東町内会"
    assert len(audits) == 2 and len(tombstones) == 2 and {a.subject for a in audits} == {t.subject for t in tombstones}
    assert all(len(a.subject) == 64 and LINE_USER not in a.subject for a in audits)

    # Slack: only the card (redrawn) and the staff member's own note stay in the thread.
    for erased_case in (case, web_case):
        left = server.slack.history.thread(erased_case.slack_ts)
        assert [m["ts"] for m in left if "bot_id" in m] == [erased_case.slack_ts]
    assert [m["text"] for m in server.slack.history.thread(case.slack_ts) if "bot_id" not in m] == [STAFF_NOTE]
    deleted = {r.body["ts"] for r in server.slack.calls(DELETE) if r.status == 200}
    assert {m["ts"] for m in thread_before if "bot_id" in m and m["ts"] != case.slack_ts} <= deleted
    cards = [r for r in server.slack.calls(UPDATE) if r.body.get("ts") in (case.slack_ts, web_case.slack_ts)]
    redrawn = json.dumps([r.body for r in cards[-2:]], ensure_ascii=False)
    assert case.reference in redrawn and web_case.reference in redrawn
    assert not [n for n in needles if n in redrawn]
    assert len(server.slack.history.thread(kept.slack_ts)) >= 2  # someone else's thread is untouched

    # LINE replays the person's first event: dropped unread, nothing sent, nothing stored.
    sent_before = len(server.line.calls(PUSH)) + len(server.line.calls(REPLY))
    redelivered = {**first_event, "deliveryContext": {"isRedelivery": True}}
    assert post_webhook(server.url, [redelivered]).status_code == 200
    wait_until(lambda: _events_done(server) and not _rows_of(server, f"user:{LINE_USER}"), what="the replay dropped")
    assert len(server.line.calls(PUSH)) + len(server.line.calls(REPLY)) == sent_before
    assert remaining(server.db, needles) == []


def _rows_of(server, user_key: str) -> list:
    with Session(server.db) as session:
        return [*session.exec(select_models(Inbox).where(Inbox.user_key == user_key)),
                *session.exec(select_models(Conversation).where(Conversation.user_id == user_key))]


def test_a_new_message_after_the_erasure_starts_afresh(desk_server):
    post_webhook(desk_server.url, [text_event("相談したい", user=LINE_USER)])
    wait_until(lambda: _events_done(desk_server) and _rows_of(desk_server, f"user:{LINE_USER}"))
    assert "cases 0" in erase(desk_server, "--line-user", LINE_USER)
    replies = len(desk_server.line.calls(REPLY))
    post_webhook(desk_server.url, [text_event("こんにちは", user=LINE_USER)])  # sent after the erasure
    desk_server.line.wait_for(REPLY, replies + 1)
