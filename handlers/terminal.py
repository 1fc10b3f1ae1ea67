"""`kyodo-desk chat`: a conversation as a citizen in the terminal, on the same engine and store."""
from __future__ import annotations

import sys
from collections.abc import Callable

from bot.messages import Card, Choice, Postback, Reply, Say, Text


def render(replies: list[Reply]) -> tuple[str, list[Choice]]:
    """Text for the terminal, and the choices in the order they are numbered."""
    lines: list[str] = []
    choices: list[Choice] = []
    for reply in replies:
        if isinstance(reply, Say):
            lines.append(reply.text)
            offered = reply.choices
        else:
            lines.append(_card(reply))
            offered = reply.choices or reply.buttons
        choices = list(offered) or choices
    if choices:
        lines.append("  ".join(f"[{i}] {c.label}" for i, c in enumerate(choices, 1)))
    return "\n".join(lines), choices


def _card(card: Card) -> str:
    parts = [f"【{card.title}】"]
    if card.body:
        parts.append(card.body)
    parts.extend(f"・{label}: {value}" for label, value in card.fields)
    if card.footer:
        parts.append(card.footer)
    return "\n".join(parts)


def run(handle: Callable[[object], list[Reply]], read: Callable[[str], str] = input, write=print) -> int:
    write("協働のまちづくり窓口です。質問や「相談したい」などを入力してください（番号でボタンを選べます。終了は Ctrl-D）。")
    text, choices = render(handle(Text("メニュー")))
    write(text)
    while True:
        try:
            line = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return 0
        if not line:
            continue
        if choices and _picks_a_button(line) and not 1 <= int(line) <= len(choices):
            write(f"1〜{len(choices)} の番号で選んでください。")
            continue
        event = Postback(choices[int(line) - 1].data) if choices and _picks_a_button(line) else Text(line)
        text, choices = render(handle(event))
        write(text)
        sys.stdout.flush()


def _picks_a_button(line: str) -> bool:
    """One or two digits pick a button; longer numbers (a phone number) are text."""
    return line.isascii() and line.isdigit() and len(line) <= 2
