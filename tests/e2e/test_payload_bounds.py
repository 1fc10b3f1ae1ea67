"""Payloads stay within LINE's and Slack's limits however much there is to show: the mocks refuse
(and fail the test on) anything the real platforms would refuse (tests/support/platform_limits.py)."""
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot import console
from handlers.config import LineConfig
from handlers.line import LineChannel
from store import case_status, cases
from store.models import Case
from tests.support.live import LINE_SECRET, LINE_TOKEN, post_webhook, postback_event, text_event, wait_until
from tests.support.slack_fake import button, command

REPLY, PUSH, POST = "/v2/bot/message/reply", "/v2/bot/message/push", "/chat.postMessage"
STEPS = ["相談したい", "同意する", "町内会・自治会", "岡山東町内会", "子ども食堂を始めたい", "中区", "LINE", "なし", "送信"]
JST = ZoneInfo("Asia/Tokyo")


def _texts(requests) -> str:
    return json.dumps([r.body for r in requests], ensure_ascii=False)


def _many_cases(db, user: str, count: int, assignee: str | None = None) -> tuple[set[str], set[str]]:
    """`count` cases of one person, one in four still open; returns (open, closed) references."""
    opened, closed = set(), set()
    start = datetime(2026, 4, 1, 9, tzinfo=UTC)
    with Session(db) as session:
        for i in range(count):
            case = cases.create(session, kind="consultation", prefix="S", answers={"content": f"相談{i}"},
                                channel="line", user_id=f"user:{user}", now=start + timedelta(hours=i), tz=JST)
            case.assignee = assignee
            if i % 4:
                case.status = case_status.DONE if i % 2 else case_status.WITHDRAWN
            (closed if i % 4 else opened).add(case.reference)
        session.commit()
    return opened, closed


def _shown_references(message: dict, candidates: set[str]) -> set[str]:
    body = json.dumps(message["contents"]["body"], ensure_ascii=False)
    return {reference for reference in candidates if reference in body}


def _quick_reply(message: dict, label: str) -> str:
    return next(item["action"]["data"] for item in message["quickReply"]["items"] if item["action"]["label"] == label)


def test_status_for_200_cases_shows_open_ones_first_a_page_at_a_time(line_server):
    opened, closed = _many_cases(line_server.db, "Umany", 200)
    post_webhook(line_server.url, [text_event("状況確認", user="Umany")])
    [first] = line_server.line.wait_for(REPLY)
    assert first.status == 200
    card = first.body["messages"][0]
    page_one = _shown_references(card, opened | closed)
    assert len(page_one) == 5 and page_one <= opened  # open cases first, a phone screen's worth
    assert "全200件" in json.dumps(card, ensure_ascii=False)
    post_webhook(line_server.url, [postback_event(_quick_reply(card, "もっと見る"), user="Umany")])
    second = line_server.line.wait_for(REPLY, 2)[-1]
    assert second.status == 200
    page_two = _shown_references(second.body["messages"][0], opened | closed)
    assert len(page_two) == 5 and page_two <= opened and not page_two & page_one


def _citizen_case(server, user: str, content: str = "子ども食堂を始めたい") -> Case:
    for step in STEPS:
        assert post_webhook(server.url, [text_event(content if step == STEPS[4] else step, user=user)]).status_code == 200

    def stored():
        with Session(server.db) as session:
            return session.exec(select(Case).where(Case.user_id == f"user:{user}")).first()
    return wait_until(stored)


def test_a_very_long_staff_reply_reaches_line_in_several_messages_five_per_request(desk_server):
    case = _citizen_case(desk_server, "Ulong")
    text = "".join(f"{i:05d}：お問い合わせの件、担当課と確認しました。" for i in range(1300))  # about 30,000 characters
    line = LineChannel(LineConfig(LINE_SECRET, LINE_TOKEN, desk_server.line.url))
    with Session(desk_server.db) as session:
        console.reply(session, {"line": line}, case.reference, text, "山田", datetime.now(UTC))
        session.commit()
    pushes = desk_server.line.wait_for(PUSH, 2)
    assert [r.status for r in pushes] == [200, 200]
    sent = [m["text"] for r in pushes for m in r.body["messages"]]
    assert [len(r.body["messages"]) for r in pushes] == [5, len(sent) - 5] and len(sent) >= 6
    assert "".join(sent) == f"【担当者より・{case.reference}】\n{text}"  # nothing lost, in order
    # the reply echoed in the case thread comes in posts Slack takes whole
    wait_until(lambda: "01299：" in _texts(desk_server.slack.calls(POST)))
    echoed = [r for r in desk_server.slack.calls(POST) if r.body.get("thread_ts")]
    assert all(r.status == 200 and len(r.body["text"]) <= 4000 for r in echoed)


def test_a_2000_character_consultation_gets_its_card_summary_and_all_of_it_in_the_thread(desk_server):
    content = ("会場<A&B>と保険の相談。" * 200)[:2000]  # escaped for Slack it passes a section's 3,000
    case = _citizen_case(desk_server, "Ubig", content)

    def thread_answers():
        return [r for r in desk_server.slack.calls(POST) if r.body.get("thread_ts") and r.body.get("blocks")]
    [answers] = wait_until(thread_answers)
    assert all(r.status == 200 for r in desk_server.slack.calls(POST) + desk_server.line.calls(REPLY))
    sections = "".join(block["text"]["text"] for block in answers.body["blocks"])
    escaped = content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert len(answers.body["blocks"]) >= 2 and escaped in sections.replace("\n", "")
    assert case.reference in answers.body["text"]


def test_a_5000_character_citizen_message_is_relayed_to_the_thread_in_posts_slack_takes(desk_server):
    case = _citizen_case(desk_server, "Urelay")
    wait_until(lambda: card_ready(desk_server, case.id))
    button(desk_server.url, "case_claim", case.id)
    wait_until(lambda: card_ready(desk_server, case.id, relay=True))
    message = ("騒音＆ごみ<共有スペース>の件で、" * 400)[:4999] + "終"  # escaping makes it longer than it is
    post_webhook(desk_server.url, [text_event(message, user="Urelay")])
    wait_until(lambda: "終" in _texts(r for r in desk_server.slack.calls(POST) if r.body.get("thread_ts")))
    relayed = [r for r in desk_server.slack.calls(POST) if "共有スペース" in r.body.get("text", "")]
    assert len(relayed) >= 2 and all(r.status == 200 and len(r.body["text"]) <= 4000 for r in relayed)


def card_ready(server, case_id: int, relay: bool = False) -> bool:
    with Session(server.db) as session:
        case = session.get(Case, case_id)
        return bool(case and case.slack_ts and (case.relay_open or not relay))


def test_staff_lists_of_many_cases_are_answered_within_slacks_text_limit(desk_server):
    _many_cases(desk_server.db, "Ulisted", 120, assignee="U0123456789A")
    for n, scope in enumerate(("all", "open"), start=1):
        command(desk_server.url, f"cases {scope}", f"{desk_server.slack.url}/respond/{n}")
        [answer] = desk_server.slack.wait_for(f"/respond/{n}")
        assert answer.status == 200 and answer.body["text"].count("S-2026-") >= 30
