"""The mock LINE and Slack APIs refuse what the real ones refuse, so an oversized payload fails a test."""
import httpx
import pytest

from tests.support.mock_platform import MockPlatform
from tests.support.platform_limits import (
    line_refusal,
    line_violations,
    slack_refusal,
    slack_violations,
)

REPLY = "/v2/bot/message/reply"


def _text(text: str, **extra) -> dict:
    return {"type": "text", "text": text, **extra}


def _quick(*labels: str) -> dict:
    return {"items": [{"type": "action", "action": {"type": "postback", "label": label, "data": "a=menu",
                                                      "displayText": label}} for label in labels]}


def _flex(bubble: dict, alt: str = "alt") -> dict:
    return {"type": "flex", "altText": alt, "contents": bubble}


def _bubble(*texts: str, buttons: tuple[str, ...] = ()) -> dict:
    bubble = {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                          "contents": [{"type": "text", "text": t, "wrap": True} for t in texts]}}
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "postback", "label": b, "data": "a=menu"}} for b in buttons]}
    return bubble


@pytest.mark.parametrize("messages, rule", [
    ([_text("はい")] * 6, "messages: 6"),
    ([], "messages: 0"),
    ([_text("あ" * 5001)], "5001 UTF-16 units"),
    ([_text("🍎" * 2501)], "5002 UTF-16 units"),  # an emoji is two units
    ([_text("")], "0 UTF-16 units"),
    ([_text("はい", quickReply=_quick(*[f"項目{i}" for i in range(14)]))], "14 items"),
    ([_text("はい", quickReply=_quick("あ" * 21))], "label: 21 characters"),
    ([_flex(_bubble("本文"), alt="あ" * 1501)], "altText: 1501"),
    ([_flex(_bubble(*["あ" * 1000] * 11))], "bubble of"),
    ([_flex(_bubble("本文", buttons=("あ" * 41,)))], "label: 41 characters"),
    ([_flex({"type": "carousel", "contents": [_bubble("本文")] * 13})], "13 bubbles"),
    ([_flex({"type": "carousel", "contents": [_bubble("あ" * 2000)] * 10})], "carousel of"),
])
def test_line_limits_name_the_rule_broken(messages, rule):
    problems = line_violations(REPLY, {"replyToken": "t", "messages": messages})
    assert any(rule in p for p in problems), problems


def test_postback_data_over_300_characters_is_refused():
    action = {"type": "postback", "label": "押す", "data": "x" * 301}
    problems = line_violations(REPLY, {"messages": [_text("はい", quickReply={"items": [{"type": "action", "action": action}]})]})
    assert any("data: 301" in p for p in problems)


def test_payloads_at_the_limits_pass():
    messages = [_text("🍎" * 2500, quickReply=_quick(*["あ" * 20] * 13)),
                _flex(_bubble("本文", buttons=("あ" * 40,)), alt="あ" * 1500),
                _text("あ" * 5000), _text("はい"), _text("いいえ")]
    assert line_violations(REPLY, {"replyToken": "t", "messages": messages}) == []


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, value: str = "1") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "a", "value": value}


@pytest.mark.parametrize("path, body, rule", [
    ("/chat.postMessage", {"blocks": [_section("x")] * 51}, "blocks: 51"),
    ("/chat.postMessage", {"blocks": [_section("x" * 3001)]}, "3001 characters"),
    ("/chat.postMessage", {"blocks": [_section("")]}, "0 characters"),
    ("/chat.postMessage", {"text": "x" * 4001}, "text: 4001"),
    ("/chat.postMessage", {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}, "151"),
    ("/chat.postMessage", {"blocks": [{"type": "actions", "elements": [_button("x")] * 26}]}, "elements: 26"),
    ("/chat.postMessage", {"blocks": [{"type": "actions", "elements": [_button("x" * 76)]}]}, "76 characters"),
    ("/chat.postMessage", {"blocks": [{"type": "actions", "elements": [_button("x", "v" * 2001)]}]}, "value: 2001"),
    ("/chat.postMessage", {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}]},
     "fields: 11"),
    ("/views.publish", {"view": {"type": "home", "blocks": [_section("x")] * 101}}, "view.blocks: 101"),
    ("/views.open", {"view": {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25},
                              "blocks": [_section("x")]}}, "view.title: 25"),
    ("/views.open", {"view": {"type": "modal", "title": {"type": "plain_text", "text": "題"},
                              "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "選ぶ"},
                                          "element": {"type": "static_select", "action_id": "v", "options": [
                                              {"text": {"type": "plain_text", "text": "x" * 76}, "value": "x"}]}}]}},
     "options[0].text: 76"),
    ("/respond/1", {"text": "x" * 4001}, "text: 4001"),
])
def test_slack_limits_name_the_rule_broken(path, body, rule):
    problems = slack_violations(path, body)
    assert any(rule in p for p in problems), problems


def test_slack_blocks_sent_form_encoded_are_checked_too():
    import json

    assert slack_violations("/chat.postMessage", {"blocks": json.dumps([_section("x" * 3001)])})


def test_the_mock_answers_like_the_platform_and_records_the_violation():
    line = MockPlatform(limits=line_violations, refuse=line_refusal).start()
    slack = MockPlatform(limits=slack_violations, refuse=slack_refusal).start()
    try:
        refused = httpx.post(line.url + REPLY, json={"replyToken": "t", "messages": [_text("はい")] * 6})
        taken = httpx.post(line.url + REPLY, json={"replyToken": "t", "messages": [_text("はい")]})
        too_long = httpx.post(slack.url + "/chat.postMessage", json={"channel": "C", "text": "x" * 4001})
    finally:
        line.stop()
        slack.stop()
    assert refused.status_code == 400 and "error" in refused.json()["message"]
    assert taken.status_code == 200
    assert too_long.json() == {"ok": False, "error": "msg_too_long", "errors": [too_long.json()["errors"][0]]}
    assert [path for path, _ in line.violations] == [REPLY] and len(slack.violations) == 1
    assert [r.status for r in line.calls(REPLY)] == [400, 200]


def test_a_request_cut_off_by_a_killed_sender_is_not_a_request_the_platform_got():
    import socket

    line = MockPlatform(limits=line_violations, refuse=line_refusal).start()
    try:
        port = int(line.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as sender:
            sender.sendall(b"POST " + REPLY.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"replyTo")
        whole = httpx.post(line.url + REPLY, json={"replyToken": "t", "messages": [_text("はい")]})
    finally:
        line.stop()
    assert whole.status_code == 200
    assert line.violations == [] and [r.status for r in line.calls(REPLY)] == [200] and line.cut_off == 1
