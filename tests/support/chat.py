"""A citizen talking to the engine in tests: send text, tap buttons by label, read what came back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.engine import Context, handle
from bot.messages import Card, Choice, Postback, Say, Text
from bot.state import State

JST = timezone(timedelta(hours=9))


def reply_text(replies) -> str:
    parts = []
    for reply in replies:
        if isinstance(reply, Say):
            parts.append(reply.text)
        elif isinstance(reply, Card):
            parts.extend([reply.title, reply.body, reply.footer] + [f"{k}: {v}" for k, v in reply.fields])
    return "\n".join(parts)


def reply_choices(replies) -> list[Choice]:
    out: list[Choice] = []
    for reply in replies:
        out.extend(reply.choices)
        if isinstance(reply, Card):
            out.extend(reply.buttons)
    return out


class EngineChat:
    def __init__(self, kb, now: datetime | None = None, cases=list):
        self.kb, self.state, self.now, self.cases = kb, State(), now or datetime(2026, 11, 30, 10, 0, tzinfo=JST), cases
        self.replies, self.effects = [], []

    def send(self, event) -> str:
        self.now += timedelta(seconds=30)
        turn = handle(self.state, event, Context(now=self.now, knowledge=self.kb, cases=self.cases))
        self.state, self.replies, self.effects = turn.state, turn.replies, turn.effects
        return reply_text(self.replies)

    def say(self, text: str) -> str:
        return self.send(Text(text))

    def tap(self, label: str) -> str:
        return self.send(Postback(self.choice(label).data))

    def choice(self, label: str) -> Choice:
        for choice in reply_choices(self.replies):
            if choice.label == label:
                return choice
        raise AssertionError(f"no button {label!r} in {[c.label for c in reply_choices(self.replies)]}")

    @property
    def labels(self) -> list[str]:
        return [c.label for c in reply_choices(self.replies)]
