"""Fuzzing every endpoint a stranger can reach: the web chat API, POST /slack/events and the LINE
webhook, with random headers (signatures, timestamps, content types, cookies, client addresses)
and random bodies (JSON of any shape, huge, deeply nested, not UTF-8), unsigned and correctly
signed so that the parsing behind the signature is reached too. No answer may be a 5xx, and a
well-formed request still works afterwards.

Plain `random` with a fixed seed (KYODO_FUZZ_SEED); KYODO_FUZZ_EXAMPLES examples per endpoint."""
import json
import os
import random
import socket
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import quote, urlencode

import httpx

from tests.support.live import post_webhook, sign, text_event, wait_until
from tests.support.slack_fake import SLACK_SECRET, signed_headers

EXAMPLES = int(os.environ.get("KYODO_FUZZ_EXAMPLES", "1500"))
REPLY = "/v2/bot/message/reply"
SEED = int(os.environ.get("KYODO_FUZZ_SEED", "20261202"))
ALPHABETS = ("abcXYZ019", "相談協働提案です。ー", " \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "\x01\x1f\x7f\u00e9\u00fc",
             "😀🏯", "\u200b\u202e\ufeff", "\ud800\udfff")
HEADER_ALPHABETS = ("abcXYZ019", "=+/.:-_ \t", "éü相談", "\"'<>\\;,")
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
                 "application/json; charset=shift_jis", "application/xml", "", "json", "x/x; boundary=\"",
                 "application/x-www-form-urlencoded; charset=utf-8", "ａｐｐｌｉｃａｔｉｏｎ/json")


def random_text(rng: random.Random, longest: int = 30) -> str:
    alphabet = "".join(rng.sample(ALPHABETS, rng.randint(1, 3)))
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


def random_header(rng: random.Random) -> bytes:
    """A header value as raw bytes: printable, non-ASCII or not UTF-8 (control bytes HTTP itself forbids)."""
    if rng.random() < 0.05:
        return b"9" * rng.choice((20, 5_000))
    alphabet = "".join(rng.sample(HEADER_ALPHABETS, rng.randint(1, 2)))
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
    raw = text.encode("utf-8") if rng.random() < 0.8 else text.encode("utf-8")[:-1] + b"\xff"
    return raw.strip()


def random_json(rng: random.Random, depth: int = 0) -> object:
    kinds = ["null", "bool", "int", "float", "text"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "dict":
        return {random_text(rng, 8): random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return {"null": None, "bool": rng.random() < 0.5, "int": rng.choice((0, -1, 1, 2**31, 2**63, -(2**70), 10**40)),
            "float": rng.choice((0.5, -1e308, 1e-320, 3.14)), "text": random_text(rng)}[kind]


def dumps(value: object) -> bytes:
    """JSON as a client might send it: ASCII escapes (lone surrogates included) or raw UTF-8."""
    return json.dumps(value, ensure_ascii=True).encode() if "\ud800" in repr(value) else \
        json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def odd_body(rng: random.Random) -> bytes:
    """Bodies no endpoint should take: bytes, broken UTF-8, deep nesting, huge, not-quite-JSON."""
    return rng.choice((
        lambda: rng.randbytes(rng.randint(0, 300)),
        lambda: b'{"text": "\xff\xfe\xe3\x81"}',
        lambda: b"[" * rng.choice((100, 5_000, 200_000)),
        lambda: b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
        lambda: b'{"text": "' + b"x" * rng.choice((16_000, 2_000_000)) + b'"}',
        lambda: b'{"text": NaN}', lambda: b'{"text": Infinity, "ids": [-Infinity]}',
        lambda: b"", lambda: b"null", lambda: b'"text"', lambda: b"\xef\xbb\xbf{}",
        lambda: b'{"text": "a", "text": 1}',
    ))()


def cover(rng: random.Random, attempt: Callable[[httpx.Client, random.Random], httpx.Response],
          client: httpx.Client) -> Counter:
    """EXAMPLES fuzzed requests; every answer below 500 (the first 5xx fails with what was sent)."""
    statuses: Counter = Counter()
    for _ in range(EXAMPLES):
        answer = attempt(client, rng)
        sent = answer.request
        assert answer.status_code < 500, (answer.status_code, sent.method, str(sent.url)[:300],
                                          dict(sent.headers), sent.content[:300], answer.text[:300])
        statuses[answer.status_code] += 1
    return statuses


WEB_PATHS = (("POST", "/api/chat"), ("POST", "/api/chat/ack"), ("GET", "/api/chat/poll"), ("GET", "/api/chat/history"))


def web_body(rng: random.Random) -> bytes:
    shapes = (
        lambda: {"text": random_json(rng)}, lambda: {"text": random_text(rng, 200)},
        lambda: {"postback": random_json(rng), "label": random_json(rng)},
        lambda: {"postback": random_text(rng, 400), "label": random_text(rng, 60)},
        lambda: {"ids": [random_json(rng) for _ in range(rng.randint(0, 5))]},
        lambda: {"ids": list(range(rng.choice((0, 3, 201))))}, lambda: random_json(rng),
    )
    return odd_body(rng) if rng.random() < 0.25 else dumps(rng.choice(shapes)())


def web_cookie(rng: random.Random, issued: str) -> bytes | None:
    sid, _, mac = issued.partition(".")
    return rng.choice((
        lambda: None, lambda: issued.encode(), lambda: f"{sid}.{mac[::-1]}".encode(), lambda: f"{sid[:-1]}x.{mac}".encode(),
        lambda: random_header(rng), lambda: b"." * rng.randint(1, 200), lambda: (issued + "." + issued).encode(),
        lambda: "相談.署名".encode(), lambda: b"\xff\xfe.\x80",
    ))()


def web_attempt(issued: str) -> Callable[[httpx.Client, random.Random], httpx.Response]:
    def attempt(client: httpx.Client, rng: random.Random) -> httpx.Response:
        method, path = rng.choice(WEB_PATHS)
        query = rng.choice(("", "?" + quote(random_text(rng), safe="=&", errors="surrogatepass"),
                            "?after=-1&ids=" + "9" * 50, "?%ff%fe=%80"))
        headers: dict[bytes, bytes] = {b"x-forwarded-for": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1".encode()}
        if rng.random() < 0.2:
            headers[b"x-forwarded-for"] = random_header(rng)
        cookie = web_cookie(rng, issued)
        if cookie is not None:
            headers[b"cookie"] = b"kyodo_sid=" + cookie
        if method == "GET":
            return client.request(method, path + query, headers=headers, content=web_body(rng) if rng.random() < 0.1 else None)
        headers[b"content-type"] = rng.choice(CONTENT_TYPES).encode() if rng.random() < 0.8 else random_header(rng)
        return client.request(method, path + query, headers=headers, content=web_body(rng))
    return attempt


def test_fuzzed_web_chat_requests_never_get_a_server_error(desk_server):
    rng = random.Random(SEED)
    with httpx.Client(base_url=desk_server.url, timeout=30) as client:
        issued = client.post("/api/chat", json={"text": "こんにちは"}).cookies["kyodo_sid"]
        client.cookies.clear()
        statuses = cover(rng, web_attempt(issued), client)
        assert statuses[200] > 0 and statuses[400] > 0 and statuses[413] > 0
        client.cookies.clear()
        answer = client.post("/api/chat", json={"text": "公民館の休館日は？"}, headers={"x-forwarded-for": "10.9.9.9"})
    assert answer.status_code == 200 and answer.json()["messages"]


def slack_body(rng: random.Random) -> tuple[bytes, str]:
    """A body and the content type it claims: interactivity, a slash command, an event, a url_verification."""
    interaction = {"type": rng.choice(("block_actions", "view_submission", "view_closed", "shortcut", random_text(rng, 8))),
                   "user": rng.choice(({"id": "USTAFF1"}, {"id": random_json(rng)}, random_json(rng))),
                   "actions": rng.choice(([{"action_id": rng.choice(("case_claim", "case_reply", "case_status")),
                                            "value": random_json(rng), "block_id": random_text(rng)}], random_json(rng))),
                   "view": rng.choice(({"type": "modal", "callback_id": rng.choice(("status_modal", "reply_modal")),
                                        "private_metadata": random_json(rng), "state": random_json(rng)}, random_json(rng)))}
    event = {"type": rng.choice(("event_callback", "url_verification", random_text(rng, 8))),
             "event_id": random_json(rng), "challenge": random_json(rng), "token": random_json(rng),
             "event": rng.choice(({"type": rng.choice(("app_home_opened", "message")), "user": random_json(rng),
                                   "text": random_json(rng), "channel": random_json(rng)}, random_json(rng)))}
    command = {"command": rng.choice(("/kyodo", random_text(rng, 8))), "text": random_text(rng, 60),
               "user_id": rng.choice(("USTAFF1", random_text(rng, 12))), "response_url": random_text(rng)}
    form = "application/x-www-form-urlencoded"
    return rng.choice((
        lambda: (urlencode({"payload": dumps(rng.choice((interaction, random_json(rng)))).decode("utf-8", "surrogatepass")},
                           errors="surrogatepass").encode(), form),
        lambda: (urlencode({k: v for k, v in command.items() if rng.random() < 0.8}, errors="surrogatepass").encode(), form),
        lambda: (dumps({k: v for k, v in event.items() if rng.random() < 0.7}), "application/json"),
        lambda: (dumps({"type": "url_verification", "challenge": random_json(rng)}), "application/json"),
        lambda: (b"payload=" + quote(random_text(rng), errors="surrogatepass").encode(), form),
        lambda: (odd_body(rng), rng.choice(CONTENT_TYPES)),
    ))()


def slack_attempt(client: httpx.Client, rng: random.Random) -> httpx.Response:
    body, content_type = slack_body(rng)
    now = int(time.time())
    signature = signed_headers(body, SLACK_SECRET, rng.choice((now, now, now - 400, now + 30)))
    headers: dict[bytes, bytes] = {k.lower().encode(): v.encode() for k, v in signature.items() if rng.random() < 0.9}
    headers[b"content-type"] = content_type.encode() if rng.random() < 0.9 else random_header(rng)
    for name in (b"x-slack-request-timestamp", b"x-slack-signature", b"x-slack-retry-num", b"x-slack-retry-reason"):
        if rng.random() < 0.2:
            headers[name] = random_header(rng)
    return client.post("/slack/events", content=body, headers=headers)


def test_fuzzed_slack_requests_never_get_a_server_error(desk_server):
    with httpx.Client(base_url=desk_server.url, timeout=30) as client:
        statuses = cover(random.Random(SEED + 1), slack_attempt, client)
        assert statuses[200] > 0 and statuses[400] > 0 and statuses[401] > 0
        body = b'{"type":"url_verification","challenge":"still-works","token":"x"}'
        answer = client.post("/slack/events", content=body, headers={"content-type": "application/json",
                                                                     **signed_headers(body)})
    assert answer.status_code == 200 and "still-works" in answer.text


def line_attempt(client: httpx.Client, rng: random.Random) -> httpx.Response:
    """A well-formed webhook body under random headers: the signature garbage, right, or right for other bytes."""
    body = dumps({"destination": "Uxxxxxxxx", "events": [text_event("公民館の休館日は？", user=f"Ufuzz{rng.randint(0, 9)}")]})
    if rng.random() < 0.2:
        body = odd_body(rng)
    headers: dict[bytes, bytes] = {b"content-type": rng.choice(CONTENT_TYPES).encode() if rng.random() < 0.8 else random_header(rng)}
    signature = rng.choice((lambda: sign(body).encode(), lambda: sign(body + b" ").encode(), lambda: random_header(rng),
                            lambda: sign(body).encode()[:-2] + "é".encode(), lambda: b"=" * rng.randint(1, 90), lambda: None))()
    if signature is not None:
        headers[b"x-line-signature"] = signature
    return client.post("/line/webhook", content=body, headers=headers)


def raw_request(url: str, path: str, headers: dict[str, str], body: bytes, declared: int) -> int | None:
    """A request whose Content-Length is `declared`, not the body's length; the answer's status,
    or None when the server (rightly) just closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {declared}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)  # a body shorter than declared ends here
        answer = b""
        while chunk := sock.recv(65_536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def test_content_lengths_that_lie_never_get_a_server_error(desk_server):
    body = dumps({"destination": "Uxxxxxxxx", "events": [text_event("こんにちは", user="Ulength")]})
    targets = (("/line/webhook", {"x-line-signature": sign(body), "content-type": "application/json"}),
               ("/slack/events", {**signed_headers(body), "content-type": "application/json"}),
               ("/api/chat", {"content-type": "application/json"}))
    answers = [raw_request(desk_server.url, path, headers, body, declared)
               for path, headers in targets for declared in (0, 1, len(body) // 2, len(body) + 1, 10 * len(body))]
    assert all(status is None or status < 500 for status in answers), answers
    assert any(status is not None for status in answers)


def test_fuzzed_line_webhook_headers_never_get_a_server_error(desk_server):
    with httpx.Client(base_url=desk_server.url, timeout=30) as client:
        statuses = cover(random.Random(SEED + 2), line_attempt, client)
    assert statuses[200] > 0 and statuses[401] > 0
    event = text_event("公民館の休館日は？", user="Uafterfuzz")
    assert post_webhook(desk_server.url, [event]).status_code == 200
    wait_until(lambda: any(event["replyToken"] in json.dumps(call.body) for call in desk_server.line.calls(REPLY)),
               60, "the reply after the fuzzing")


FORM = "application/x-www-form-urlencoded"
VIEW = {"type": "view_submission", "user": {"id": "USTAFF1"},
        "view": {"type": "modal", "callback_id": "status_modal", "private_metadata": "1", "state": 1}}
# (content type, signed body, status now): each was a 500, or (the two commands) a listener failing
# with a traceback when it answered, before the endpoint checked what bolt and the listeners read
FOUND_BY_FUZZING = [
    ("application/json", b'{"type": "event_callback", "event_id": "Ev1", "event": null}', 400),
    ("application/json", b'{"type": "event_callback", "user": 5, "event": {"type": "app_home_opened"}}', 400),
    (FORM, urlencode({"command": "/kyodo", "text": "help", "user_id": "USTAFF1"}).encode(), 400),
    (FORM, urlencode({"command": "/kyodo", "text": "help", "user_id": "USTAFF1", "response_url": "相談"}).encode(), 400),
    (FORM, urlencode({"payload": json.dumps(VIEW)}).encode(), 400),
    ("application/json", b'{"type": "event_callback", "text": "\xff\xfe"}', 401),  # signed, but no UTF-8: Slack never sends it
]


def test_the_requests_the_fuzzing_found_are_refused_with_a_4xx(desk_server):
    with httpx.Client(base_url=desk_server.url, timeout=30) as client:
        for content_type, body, status in FOUND_BY_FUZZING:
            answer = client.post("/slack/events", content=body, headers={"content-type": content_type, **signed_headers(body)})
            assert answer.status_code == status, body
        huge_stamp = {**signed_headers(b"{}"), "X-Slack-Request-Timestamp": "9" * 5_000}
        assert client.post("/slack/events", content=b"{}", headers=huge_stamp).status_code == 401
        not_utf8 = b'{"events": "\xff"}'
        assert client.post("/line/webhook", content=not_utf8,
                           headers={b"x-line-signature": "é".encode() * 20}).status_code == 401
        answer = client.post("/api/chat", json={"text": "こんにちは"}, headers={b"cookie": "kyodo_sid=相談.署名".encode()})
    assert answer.status_code == 200 and answer.cookies["kyodo_sid"].isascii()
