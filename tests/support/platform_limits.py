"""LINE's and Slack's documented payload limits, as the mock APIs check them: each check names
the rule a request breaks, so a renderer that builds an oversized payload fails the test that
sent it (the mock answers like the platform and records the violation; see conftest.py).

LINE (Messaging API reference): 1–5 messages per reply/push; text 1–5000 characters counted in
UTF-16 code units; altText ≤ 1500; quick reply ≤ 13 items; action labels ≤ 20 (≤ 40 on a Flex
button; counted in grapheme clusters, code points here); postback data ≤ 300, displayText ≤ 300;
a Flex bubble's JSON ≤ 30 KB, a carousel ≤ 12 bubbles and ≤ 50 KB; rich menu: ≤ 20 areas,
chatBarText ≤ 14.
Slack (Block Kit reference): ≤ 50 blocks in a message, ≤ 100 in a modal or App Home; section text
≤ 3000, ≤ 10 fields of ≤ 2000; header ≤ 150; actions ≤ 25 elements; button text ≤ 75, action_id
≤ 255, value ≤ 2000; block_id ≤ 255; option text ≤ 75, value ≤ 150, ≤ 100 options; input label
≤ 2000, plain_text_input max_length ≤ 3000; modal title/submit/close ≤ 24, private_metadata ≤ 3000,
callback_id ≤ 255; a message's text ≤ 4000 (Slack truncates past that); text objects not empty.
"""
from __future__ import annotations

import json

LINE_MESSAGE_PATHS = ("/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/multicast",
                      "/v2/bot/message/broadcast", "/v2/bot/message/narrowcast")
LINE_MAX_MESSAGES = 5
LINE_MAX_TEXT = 5000
LINE_MAX_ALT_TEXT = 1500
LINE_MAX_QUICK_REPLIES = 13
LINE_MAX_LABEL = 20
LINE_MAX_FLEX_BUTTON_LABEL = 40
LINE_MAX_DATA = 300
LINE_MAX_BUBBLE_BYTES = 30 * 1024
LINE_MAX_CAROUSEL_BUBBLES = 12
LINE_MAX_CAROUSEL_BYTES = 50 * 1024

SLACK_MESSAGE_METHODS = ("/chat.postMessage", "/chat.postEphemeral", "/chat.update", "/chat.scheduleMessage")
SLACK_VIEW_METHODS = ("/views.open", "/views.update", "/views.push", "/views.publish")
SLACK_MAX_MESSAGE_BLOCKS = 50
SLACK_MAX_VIEW_BLOCKS = 100
SLACK_MAX_MESSAGE_TEXT = 4000


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _json_bytes(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


# --- LINE ---------------------------------------------------------------------------------

def line_violations(path: str, body: dict) -> list[str]:
    """What LINE would refuse in this request (empty: LINE takes it)."""
    if path in LINE_MESSAGE_PATHS:
        messages = body.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= LINE_MAX_MESSAGES:
            count = len(messages) if isinstance(messages, list) else messages
            return [f"messages: {count} (1–{LINE_MAX_MESSAGES} per request)"]
        return [problem for i, message in enumerate(messages) for problem in _line_message(f"messages[{i}]", message)]
    if path == "/v2/bot/richmenu":
        return _line_rich_menu(body)
    return []


def _line_message(where: str, message: dict) -> list[str]:
    problems: list[str] = []
    kind = message.get("type")
    if kind == "text":
        text = message.get("text") or ""
        if not 1 <= utf16_units(text) <= LINE_MAX_TEXT:
            problems.append(f"{where}.text: {utf16_units(text)} UTF-16 units (1–{LINE_MAX_TEXT})")
    elif kind == "flex":
        alt = message.get("altText") or ""
        if not 1 <= utf16_units(alt) <= LINE_MAX_ALT_TEXT:
            problems.append(f"{where}.altText: {utf16_units(alt)} characters (1–{LINE_MAX_ALT_TEXT})")
        problems += _flex_container(f"{where}.contents", message.get("contents") or {})
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") or []
        if not 1 <= len(items) <= LINE_MAX_QUICK_REPLIES:
            problems.append(f"{where}.quickReply: {len(items)} items (1–{LINE_MAX_QUICK_REPLIES})")
        for j, item in enumerate(items):
            problems += _line_action(f"{where}.quickReply.items[{j}].action", item.get("action") or {}, LINE_MAX_LABEL)
    return problems


def _flex_container(where: str, container: dict) -> list[str]:
    if container.get("type") == "carousel":
        bubbles = container.get("contents") or []
        problems = []
        if not 1 <= len(bubbles) <= LINE_MAX_CAROUSEL_BUBBLES:
            problems.append(f"{where}: {len(bubbles)} bubbles (1–{LINE_MAX_CAROUSEL_BUBBLES})")
        if _json_bytes(container) > LINE_MAX_CAROUSEL_BYTES:
            problems.append(f"{where}: carousel of {_json_bytes(container)} bytes (≤ {LINE_MAX_CAROUSEL_BYTES})")
        return problems + [p for i, b in enumerate(bubbles) for p in _flex_bubble(f"{where}[{i}]", b)]
    return _flex_bubble(where, container)


def _flex_bubble(where: str, bubble: dict) -> list[str]:
    problems = []
    if _json_bytes(bubble) > LINE_MAX_BUBBLE_BYTES:
        problems.append(f"{where}: bubble of {_json_bytes(bubble)} bytes (≤ {LINE_MAX_BUBBLE_BYTES})")
    for path, node in _walk(where, bubble):
        if isinstance(node.get("action"), dict):
            limit = LINE_MAX_FLEX_BUTTON_LABEL if node.get("type") == "button" else LINE_MAX_LABEL
            problems += _line_action(f"{path}.action", node["action"], limit)
        if node.get("type") == "text" and "text" in node and not node.get("contents") and not node["text"]:
            problems.append(f"{path}.text: empty")
    return problems


def _walk(where: str, node: dict):
    yield where, node
    for key in ("header", "hero", "body", "footer"):
        if isinstance(node.get(key), dict):
            yield from _walk(f"{where}.{key}", node[key])
    for i, child in enumerate(node.get("contents") or [] if isinstance(node.get("contents"), list) else []):
        if isinstance(child, dict):
            yield from _walk(f"{where}.contents[{i}]", child)


def _line_action(where: str, action: dict, label_limit: int) -> list[str]:
    problems = []
    label = action.get("label")
    if label is not None and not 1 <= len(label) <= label_limit:
        problems.append(f"{where}.label: {len(label)} characters (1–{label_limit})")
    for key in ("data", "displayText", "text"):
        value = action.get(key)
        if value is not None and len(value) > LINE_MAX_DATA:
            problems.append(f"{where}.{key}: {len(value)} characters (≤ {LINE_MAX_DATA})")
    if action.get("type") == "postback" and not action.get("data"):
        problems.append(f"{where}.data: missing")
    return problems


def _line_rich_menu(body: dict) -> list[str]:
    problems = []
    if len(body.get("chatBarText") or "") > 14:
        problems.append(f"chatBarText: {len(body['chatBarText'])} characters (≤ 14)")
    areas = body.get("areas") or []
    if not 1 <= len(areas) <= 20:
        problems.append(f"areas: {len(areas)} (1–20)")
    for i, area in enumerate(areas):
        problems += _line_action(f"areas[{i}].action", area.get("action") or {}, LINE_MAX_LABEL)
    return problems


# --- Slack --------------------------------------------------------------------------------

def slack_violations(path: str, body: dict) -> list[str]:
    """What Slack would refuse (invalid_blocks, …) or truncate in this request."""
    if path in SLACK_MESSAGE_METHODS or path.startswith("/respond"):
        return _slack_message(body)
    if path in SLACK_VIEW_METHODS:
        return _slack_view(_loaded(body.get("view")) or {})
    return []


def _loaded(value):
    """Form-encoded calls carry blocks and views as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _slack_message(body: dict) -> list[str]:
    problems = []
    text = body.get("text")
    if isinstance(text, str) and len(text) > SLACK_MAX_MESSAGE_TEXT:
        problems.append(f"text: {len(text)} characters (≤ {SLACK_MAX_MESSAGE_TEXT}; Slack truncates longer ones)")
    blocks = _loaded(body.get("blocks")) or []
    if len(blocks) > SLACK_MAX_MESSAGE_BLOCKS:
        problems.append(f"blocks: {len(blocks)} (≤ {SLACK_MAX_MESSAGE_BLOCKS} in a message)")
    return problems + _slack_blocks(blocks)


def _slack_view(view: dict) -> list[str]:
    problems = []
    blocks = view.get("blocks") or []
    if len(blocks) > SLACK_MAX_VIEW_BLOCKS:
        problems.append(f"view.blocks: {len(blocks)} (≤ {SLACK_MAX_VIEW_BLOCKS})")
    if view.get("type") == "modal":
        for key in ("title", "submit", "close"):
            problems += _text_object(f"view.{key}", view.get(key), 24)
    if len(view.get("private_metadata") or "") > 3000:
        problems.append(f"view.private_metadata: {len(view['private_metadata'])} characters (≤ 3000)")
    if len(view.get("callback_id") or "") > 255:
        problems.append("view.callback_id: over 255 characters")
    return problems + _slack_blocks(blocks)


def _slack_blocks(blocks: list) -> list[str]:
    problems: list[str] = []
    for i, block in enumerate(blocks):
        where, kind = f"blocks[{i}]", block.get("type")
        if len(block.get("block_id") or "") > 255:
            problems.append(f"{where}.block_id: over 255 characters")
        if kind == "header":
            problems += _text_object(f"{where}.text", block.get("text"), 150)
        elif kind == "section":
            problems += _section(where, block)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}.elements: {len(elements)} (1–25)")
            problems += [p for j, e in enumerate(elements) for p in _element(f"{where}.elements[{j}]", e)]
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}.elements: {len(elements)} (1–10)")
        elif kind == "input":
            problems += _text_object(f"{where}.label", block.get("label"), 2000)
            problems += _element(f"{where}.element", block.get("element") or {})
    return problems


def _section(where: str, block: dict) -> list[str]:
    problems = []
    if "text" in block:
        problems += _text_object(f"{where}.text", block["text"], 3000)
    fields = block.get("fields") or []
    if len(fields) > 10:
        problems.append(f"{where}.fields: {len(fields)} (≤ 10)")
    for j, field in enumerate(fields):
        problems += _text_object(f"{where}.fields[{j}]", field, 2000)
    if "text" not in block and not fields:
        problems.append(f"{where}: neither text nor fields")
    if isinstance(block.get("accessory"), dict):
        problems += _element(f"{where}.accessory", block["accessory"])
    return problems


def _element(where: str, element: dict) -> list[str]:
    problems = []
    if len(element.get("action_id") or "") > 255:
        problems.append(f"{where}.action_id: over 255 characters")
    kind = element.get("type")
    if kind == "button":
        problems += _text_object(f"{where}.text", element.get("text"), 75)
        if len(element.get("value") or "") > 2000:
            problems.append(f"{where}.value: {len(element['value'])} characters (≤ 2000)")
    elif kind in ("static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes"):
        options = element.get("options") or []
        if not 1 <= len(options) <= 100:
            problems.append(f"{where}.options: {len(options)} (1–100)")
        for j, option in enumerate(options):
            problems += _text_object(f"{where}.options[{j}].text", option.get("text"), 75)
            if len(option.get("value") or "") > 150:
                problems.append(f"{where}.options[{j}].value: over 150 characters")
    elif kind == "plain_text_input":
        if (element.get("max_length") or 0) > 3000:
            problems.append(f"{where}.max_length: {element['max_length']} (≤ 3000)")
        if len(element.get("initial_value") or "") > 3000:
            problems.append(f"{where}.initial_value: over 3000 characters")
    return problems


def _text_object(where: str, obj, limit: int) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"{where}: not a text object"]
    length = len(obj["text"])
    if not 1 <= length <= limit:
        return [f"{where}: {length} characters (1–{limit})"]
    return []


def line_refusal(problems: list[str]) -> tuple[int, dict]:
    """LINE's answer to a request that breaks its limits."""
    return 400, {"message": f"The request body has {len(problems)} error(s)",
                 "details": [{"message": problem} for problem in problems]}


def slack_refusal(problems: list[str]) -> tuple[int, dict]:
    """Slack's answer: HTTP 200 with ok false (the SDK raises SlackApiError on it)."""
    error = "msg_too_long" if all(p.startswith("text:") for p in problems) else "invalid_blocks"
    return 200, {"ok": False, "error": error, "errors": problems}
