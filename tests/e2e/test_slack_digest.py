"""The weekly digest's buttons end to end, through signed Slack requests to the running server and
the Slack mock: what the web chat declined is posted in groups, each with 既存の回答に結びつける /
新しい回答を作る / 対象外; each modal's submission changes what the same web chat answers within
seconds, without a restart; a refused submission keeps the modal open with the reason; someone
outside the staff changes nothing."""
import json
import uuid
from datetime import UTC, datetime, time, timedelta
from time import monotonic, sleep

import httpx

from app.settings import Settings
from bot.digest import first_business_day_of_week
from bot.runtime import Desk
from scheduler.jobs import registry_for, run_due
from tests.e2e.test_web_status_check import Browser
from tests.support.chat import JST
from tests.support.live import wait_until
from tests.support.slack_fake import STAFF_CHANNEL, interact, submit_view

POST = "/chat.postMessage"
LINKED = "まちづくりのお金の相談にのってほしい"
PARKING = "センターに駐車場はありますか"
DOG = "飼い犬の登録はどこでできますか"
PARKING_ANSWER = "センターには来館者用の駐車場はありません。バスや自転車でお越しください。"


def next_digest_time(now: datetime) -> datetime:
    """The first moment from now at which the digest is due (the week's first business day, 09:00)."""
    local = now.astimezone(JST)
    for i in range(11):
        day = local.date() + timedelta(days=i)
        at = max(datetime.combine(day, time(9, 5), JST), local + timedelta(minutes=1))
        if first_business_day_of_week(day) == day and at.date() == day:
            return at
    raise AssertionError("no business day in 11 days")


def click(url: str, action_id: str, value: str, user: str = "USTAFF1") -> httpx.Response:
    return interact(url, {
        "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
        "trigger_id": uuid.uuid4().hex, "channel": {"id": STAFF_CHANNEL}, "container": {"type": "message"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}],
    })


def opened_view(server, action_id: str, question: str) -> dict:
    """Clicks a digest button and returns the modal it opened."""
    before = len(server.slack.calls("/views.open"))
    assert click(server.url, action_id, question).status_code == 200
    opened = server.slack.wait_for("/views.open", count=before + 1)[before]
    view = opened.body["view"]
    return json.loads(view) if isinstance(view, str) else view


def text(value: str) -> dict:
    return {"text": {"type": "plain_text_input", "value": value}}


def picked(value: str) -> dict:
    return {"value": {"type": "static_select", "selected_option": {"value": value}}}


def date_picked(day: str) -> dict:
    return {"value": {"type": "datepicker", "selected_date": day}}


def answers_within(browser: Browser, question: str, expected: str, seconds: float = 10.0) -> bool:
    """Asks again once a second (the web chat allows a session a few messages a minute) until the
    answer says `expected`."""
    deadline = monotonic() + seconds
    while monotonic() < deadline:
        if expected in browser.say(question):
            return True
        sleep(1.0)
    return False


def post_digest(server, kb) -> list[dict]:
    """Runs the digest as the scheduler would; returns the buttons under its groups."""
    at = next_digest_time(datetime.now(UTC))
    desk = Desk(server.db, kb, Settings().desk, clock=lambda: at)
    assert [post.job for post in run_due(desk, registry_for(desk), at)] == ["knowledge-digest"]
    posted = wait_until(lambda: [r for r in server.slack.calls(POST) if "答えられなかった質問" in str(r.body.get("text"))])
    blocks = posted[0].body["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def test_the_digest_buttons_fix_what_the_web_chat_could_not_answer(desk_server, kb):
    browser = Browser(desk_server.url)
    for question in (LINKED, PARKING, DOG):
        assert "申し訳ありません" in browser.say(question)  # declined
    buttons = post_digest(desk_server, kb)
    for question in (LINKED, PARKING, DOG):
        assert [b["text"]["text"] for b in buttons if b["value"] == question] == ["既存の回答に結びつける", "新しい回答を作る", "対象外"]

    view = opened_view(desk_server, "unanswered_link", LINKED)
    options = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert view["callback_id"] == "unanswered_link_modal" and "faq-kuzukuri-soudan" in options
    answered = submit_view(desk_server.url, "unanswered_link_modal", "",
                           {"question": text(LINKED), "entry": picked("faq-kuzukuri-soudan")})
    assert answered.status_code == 200 and not answered.content
    assert answers_within(browser, LINKED, "申請前に相談できます")

    view = opened_view(desk_server, "unanswered_answer", PARKING)
    assert "centre" in [o["value"] for b in view["blocks"] if b["block_id"] == "source" for o in b["element"]["options"]]
    values = {"question": text(PARKING), "title": text("センターの駐車場"), "answer": text("長い" * 201),
              "source": picked("centre"), "as_of": date_picked("2026-12-01"),
              "review_by": date_picked((datetime.now(UTC) + timedelta(days=120)).date().isoformat())}  # never past
    refused = submit_view(desk_server.url, "unanswered_answer_modal", "", values)
    assert refused.json()["response_action"] == "errors" and "402" in refused.json()["errors"]["answer"]
    assert submit_view(desk_server.url, "unanswered_answer_modal", "",
                       {**values, "answer": text(PARKING_ANSWER)}).status_code == 200
    assert answers_within(browser, PARKING, PARKING_ANSWER)

    view = opened_view(desk_server, "unanswered_route", DOG)
    [words] = [b["element"]["initial_value"] for b in view["blocks"] if b.get("block_id") == "words"]
    assert "飼い犬" in words
    assert submit_view(desk_server.url, "unanswered_route_modal", "",
                       {"topic": text("犬の登録"), "words": text(words)}).status_code == 200
    assert answers_within(browser, DOG, "犬の登録については")
    assert "立場の異なる主体どうしが" in browser.say("協働とは")  # the desk's own questions still answered
    told = [r.body.get("text", "") for r in desk_server.slack.calls("/chat.postEphemeral")]
    assert sum("数秒で窓口の回答に反映されます" in t for t in told) == 3


def test_someone_outside_the_staff_can_neither_open_nor_submit_the_digest_modals(desk_server, kb):
    assert click(desk_server.url, "unanswered_answer", PARKING, user="UOUTSIDER").status_code == 200
    wait_until(lambda: desk_server.slack.calls("/chat.postEphemeral"))
    assert desk_server.slack.calls("/views.open") == []
    refused = submit_view(desk_server.url, "unanswered_route_modal", "",
                          {"topic": text("犬の登録"), "words": text("飼い犬")}, user="UOUTSIDER")
    assert refused.json()["response_action"] == "errors"
    browser = Browser(desk_server.url)
    assert "犬の登録については" not in browser.say(DOG)
