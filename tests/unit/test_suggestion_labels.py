"""Suggestion buttons under an answer carry whole titles: an entry's short title when its title is
too long for a phone's button, never a title cut in the middle of a word."""
from bot.messages import Card
from bot.replies import answer_replies
from knowledge.entries import MAX_LABEL_CHARS


def test_related_buttons_use_the_short_title_not_a_truncated_one(kb):
    by_label = {entry.label: entry for entry in kb.entries}
    seen_short = 0
    for entry in kb.entries:
        answer = kb.ask(entry.title)
        if answer.abstained:
            continue
        [card] = [r for r in answer_replies(answer) if isinstance(r, Card)]
        for button in card.buttons:
            assert button.label in by_label, f"{button.label!r} is not an entry's title or short title"
            assert len(button.label) <= MAX_LABEL_CHARS
            seen_short += by_label[button.label].short == button.label
    assert seen_short >= 10  # long titles really reach buttons through their short form


def test_plan_measure_with_a_long_title_is_offered_by_its_short_title(kb):
    entry = kb.entry("plan-shisaku-04-1")
    assert len(entry.title) > MAX_LABEL_CHARS and entry.label == entry.short == "施策4① センターの事業"
