"""Hostile requests to POST /slack/events: broken signature headers are refused with a 4xx, and a
correctly signed request naming a case that does not exist gets an error for the staff member,
never a 500."""
import json
import time

import httpx
import pytest

from tests.support.slack_fake import button, interact, signed_headers, submit_view

EPHEMERAL = "/chat.postEphemeral"
BODY = b'{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"USTAFF1"}}'


@pytest.mark.parametrize("headers", [
    {"X-Slack-Request-Timestamp": "abc"},
    {"X-Slack-Request-Timestamp": "１２３".encode()},  # digits, but not ASCII ones
    {"X-Slack-Request-Timestamp": ""},
    {"X-Slack-Signature": "v0=é".encode()},
    {"X-Slack-Signature": ("v0=" + "ü" * 64).encode()},
    {"X-Slack-Signature": ""},
])
def test_broken_signature_headers_are_refused_never_a_500(desk_server, headers):
    sent = {"content-type": "application/json", **signed_headers(BODY), **headers}
    answer = httpx.post(f"{desk_server.url}/slack/events", content=BODY, headers=sent)
    assert answer.status_code == 401


def test_a_timestamp_of_now_with_a_wrong_signature_is_still_refused(desk_server):
    sent = {"content-type": "application/json", "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64}
    assert httpx.post(f"{desk_server.url}/slack/events", content=BODY, headers=sent).status_code == 401


@pytest.mark.parametrize("case_id", ["99999", "abc"])
def test_a_signed_button_naming_no_case_tells_the_staff_member(desk_server, case_id):
    for action in ("case_claim", "case_reply", "case_status", "case_detail"):
        answer = interact(desk_server.url, {
            "type": "block_actions", "user": {"id": "USTAFF1"}, "team": {"id": "T1"}, "api_app_id": "A1",
            "trigger_id": "t", "channel": {"id": "CSTAFF"}, "container": {"type": "message"},
            "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": case_id, "action_ts": "1"}]})
        assert answer.status_code == 200
    told = desk_server.slack.wait_for(EPHEMERAL, 4)
    assert all("見つかりません" in call.body["text"] and call.body["user"] == "USTAFF1" for call in told)
    assert desk_server.slack.calls("/views.open") == []


@pytest.mark.parametrize("case_id", ["99999", "abc", ""])
def test_a_signed_modal_naming_no_case_is_answered_with_errors(desk_server, case_id):
    status = submit_view(desk_server.url, "status_modal", case_id,
                         {"status": {"value": {"selected_option": {"value": "協議中"}}}})
    reply = submit_view(desk_server.url, "reply_modal", case_id, {"message": {"text": {"value": "こんにちは"}}})
    for answer in (status, reply):
        assert answer.status_code == 200 and answer.json()["response_action"] == "errors"
    confirm = submit_view(desk_server.url, "reply_confirm", json.dumps({"case_id": case_id, "text": "x"}), {})
    assert confirm.status_code == 200
    assert "見つかりません" in desk_server.slack.wait_for(EPHEMERAL)[-1].body["text"]


def test_a_signed_payload_missing_its_parts_is_not_a_500(desk_server):
    for payload in ({"type": "block_actions", "user": {"id": "USTAFF1"}, "actions": [{"action_id": "case_claim"}]},
                    {"type": "view_submission", "user": {"id": "USTAFF1"}, "view": {"callback_id": "status_modal"}},
                    {"type": "view_submission", "user": "USTAFF1", "view": {"type": "modal", "callback_id": "status_modal"}},
                    {"type": "block_actions", "user": {"id": "USTAFF1"}, "actions": ["case_claim"]},
                    {"type": "view_submission", "view": {"type": "modal", "callback_id": "status_modal"}},
                    {"type": "view_submission", "user": {"id": "USTAFF1"},
                     "view": {"type": "modal", "callback_id": "reply_confirm", "private_metadata": "[1]"}},
                    {"type": "view_submission", "user": {"id": "USTAFF1"},
                     "view": {"callback_id": "indicator_report_modal", "private_metadata": "x"}}):
        assert interact(desk_server.url, payload).status_code < 500
    assert button(desk_server.url, "case_claim", 0).status_code == 200
