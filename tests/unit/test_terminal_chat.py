"""`kyodo-desk chat`: numbers pick buttons; a number outside them gets the valid range."""
from bot.messages import Postback, Text
from handlers.terminal import run
from tests.support.chat import EngineChat


def converse(kb, lines: list[str]) -> tuple[list[str], list]:
    chat, written, events = EngineChat(kb), [], []

    def handle(event):
        events.append(event)
        chat.send(event)
        return chat.replies

    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    assert run(handle, read=read, write=written.append) == 0
    return written, events


def test_a_number_outside_the_buttons_is_answered_with_the_range(kb):
    written, events = converse(kb, ["0", "99"])
    assert written[-3:-1] == ["1〜7 の番号で選んでください。"] * 2  # the menu's seven buttons
    assert len(events) == 1  # only the opening menu reached the desk


def test_a_number_inside_the_range_taps_and_a_phone_number_is_text(kb):
    written, events = converse(kb, ["2", "1", "1", "0861234567"])
    assert isinstance(events[1], Postback) and "個人情報" in written[2]
    assert events[-1] == Text("0861234567")
