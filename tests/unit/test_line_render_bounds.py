"""Whatever the core says, the LINE messages rendered from it are within LINE's limits."""
from bot.messages import Card, Choice, Say
from handlers.line_render import render
from tests.support.platform_limits import line_violations


def _problems(replies) -> list[str]:
    return [p for batch in render(replies) for p in line_violations("/v2/bot/message/push", {"messages": batch})]


def _choices(count: int, label_chars: int, data_chars: int) -> tuple[Choice, ...]:
    return tuple(Choice(f"{i}" + "選" * label_chars, "a=show&e=" + "x" * data_chars) for i in range(count))


def test_an_enormous_card_still_fits_one_bubble():
    card = Card(title="題" * 1000, body="本" * 10_000, footer="注" * 5000,
                fields=tuple(("項目" * 250, "値" * 3000) for _ in range(40)),
                buttons=_choices(10, 100, 500), choices=_choices(30, 100, 500))
    assert _problems([card]) == []


def test_a_long_summary_keeps_every_field_shortened_to_fit():
    fields = tuple((f"項目{i}", f"{i}番目の回答。" + "協働" * 1000) for i in range(15))
    [[message]] = render([Card(title="協働提案の内容確認", fields=fields, kind="summary")])
    shown = str(message["contents"])
    assert all(f"{i}番目の回答。" in shown for i in range(15))
    assert _problems([Card(title="協働提案の内容確認", fields=fields, kind="summary")]) == []


def test_a_very_long_text_is_split_into_requests_of_five_messages():
    text = "".join(f"{i:05d}、" for i in range(6000))  # 36,000 characters
    batches = render([Say(text, _choices(20, 30, 400))])
    assert [len(b) for b in batches] == [5, 3]
    assert "".join(m["text"] for b in batches for m in b) == text
    assert _problems([Say(text, _choices(20, 30, 400))]) == []
