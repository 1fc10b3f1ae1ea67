"""Core replies → LINE messages (JSON as the Messaging API takes it), within LINE's limits."""
from __future__ import annotations

import json
from dataclasses import replace

from bot.messages import Card, Choice, Reply, Say

MAX_MESSAGES = 5  # per reply or push request
MAX_TEXT_UTF16 = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_DATA = 300
MAX_ALT_TEXT = 400
MAX_FIELD_VALUE = 300
MAX_BUBBLE_BYTES = 30_000  # LINE refuses a bubble whose JSON passes 30 KB
MAX_FIELDS = 20
MAX_FIELD_LABEL = 60
MAX_TITLE = 100
MAX_CARD_BODY = 1500
MAX_FOOTER = 300
MAX_BUBBLES = 12  # in a carousel
CAROUSEL_KINDS = frozenset({"group"})  # cards shown side by side in one message


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut_utf16(text: str, limit: int) -> str:
    if utf16_len(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        width = utf16_len(char)
        if used + width > limit - 1:
            break
        out.append(char)
        used += width
    return "".join(out) + "…"


def split_utf16(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    pieces, current, used = [], [], 0
    for char in text:
        width = utf16_len(char)
        if used + width > limit:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    pieces.append("".join(current))
    return pieces


def _action(choice: Choice) -> dict:
    label = cut_utf16(choice.label, MAX_LABEL)
    return {"type": "postback", "label": label, "data": choice.data[:MAX_DATA],
            "displayText": cut_utf16(choice.label, MAX_DATA)}


def _quick_reply(choices: tuple[Choice, ...]) -> dict | None:
    if not choices:
        return None
    return {"items": [{"type": "action", "action": _action(c)} for c in choices[:MAX_QUICK_REPLIES]]}


def _text(text: str, choices: tuple[Choice, ...] = ()) -> list[dict]:
    messages = [{"type": "text", "text": piece} for piece in split_utf16(text or " ")]
    quick = _quick_reply(choices)
    if quick:
        messages[-1]["quickReply"] = quick
    return messages


def _text_block(text: str, **style) -> dict:
    return {"type": "text", "text": text or " ", "wrap": True, **style}


def _card(card: Card) -> dict:
    return _flex(card.title, card.body, _bubble(card), card.choices)


def _carousel(cards: list[Card]) -> dict:
    """Cards side by side (the groups of a search), one message: the quick replies of the last one."""
    bubbles = [_bubble(fitted(card)) for card in cards[:MAX_BUBBLES]]
    titles = "、".join(card.title for card in cards)
    return _flex(titles, "", {"type": "carousel", "contents": bubbles}, cards[-1].choices)


def _bubble(card: Card) -> dict:
    body: list[dict] = []
    if card.body:
        body.append(_text_block(card.body, size="sm"))
    for label, value in card.fields:
        body.append({"type": "box", "layout": "vertical", "margin": "md", "contents": [
            _text_block(label, size="xs", color="#888888"),
            _text_block(cut_utf16(value, MAX_FIELD_VALUE), size="sm"),
        ]})
    if card.footer:
        body.append(_text_block(card.footer, size="xxs", color="#888888", margin="lg"))
    bubble: dict = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [_text_block(card.title, weight="bold", size="md")]},
        "body": {"type": "box", "layout": "vertical", "contents": body or [_text_block(" ")]},
    }
    if card.buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "button", "style": "primary" if i == 0 and card.kind == "summary" else "link", "height": "sm",
             "action": _action(b)} for i, b in enumerate(card.buttons[:4])
        ]}
    return bubble


def _flex(title: str, body: str, contents: dict, choices: tuple[Choice, ...]) -> dict:
    alt = cut_utf16(f"{title}\n{body}".strip(), MAX_ALT_TEXT)
    message = {"type": "flex", "altText": alt, "contents": contents}
    quick = _quick_reply(choices)
    if quick:
        message["quickReply"] = quick
    return message


def fitted(card: Card) -> Card:
    """The card cut to fit one bubble: long texts shortened, at most MAX_FIELDS fields, and the
    fields' values shortened further until the bubble's JSON is within LINE's 30 KB."""
    card = replace(card, title=cut_utf16(card.title, MAX_TITLE), body=cut_utf16(card.body, MAX_CARD_BODY),
                   footer=cut_utf16(card.footer, MAX_FOOTER),
                   fields=tuple((cut_utf16(label, MAX_FIELD_LABEL), value) for label, value in card.fields[:MAX_FIELDS]))
    limit = MAX_FIELD_VALUE
    while _bubble_bytes(card) > MAX_BUBBLE_BYTES and limit > 10:
        limit //= 2
        card = replace(card, fields=tuple((label, cut_utf16(value, limit)) for label, value in card.fields))
    return card


def _bubble_bytes(card: Card) -> int:
    return len(json.dumps(_card(card)["contents"], ensure_ascii=False, separators=(",", ":")).encode())


def render(replies: list[Reply]) -> list[list[dict]]:
    """LINE messages for the replies, in batches of at most five (one request each)."""
    messages: list[dict] = []
    side_by_side: list[Card] = []
    for reply in replies:
        if isinstance(reply, Card) and reply.kind in CAROUSEL_KINDS:
            side_by_side.append(reply)
            continue
        if side_by_side:
            messages.append(_carousel(side_by_side))
            side_by_side = []
        messages.extend(_text(reply.text, reply.choices) if isinstance(reply, Say) else [_card(fitted(reply))])
    if side_by_side:
        messages.append(_carousel(side_by_side))
    return [messages[i:i + MAX_MESSAGES] for i in range(0, len(messages), MAX_MESSAGES)]
