"""A citizen talking to the engine in tests: send text, tap buttons by label, read what came back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.engine import CaseView, Context, NoCases, NoGroups, handle
from bot.forms import FORMS
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


class ListedCases:
    """Cases for the engine without a database: the person's own, and others with their check codes."""

    def __init__(self, own: list[CaseView], others: dict[tuple[str, str], CaseView] | None = None):
        self._own, self._others = own, others or {}

    def own(self) -> list[CaseView]:
        return list(self._own)

    def by_check_code(self, reference: str, code: str) -> CaseView | None:
        return self._others.get((reference, code))


class EngineChat:
    def __init__(self, kb, now: datetime | None = None, cases=None, channel: str = "line", groups=None, forms=None,
                 own_groups: tuple[tuple[int, str], ...] = ()):
        self.kb, self.state, self.now = kb, State(), now or datetime(2026, 11, 30, 10, 0, tzinfo=JST)
        self.cases, self.channel, self.groups = cases or NoCases(), channel, groups or NoGroups()
        self.own_groups = own_groups  # (id, name) of the groups the person registered (the store's answer)
        self.forms = forms or FORMS
        self.replies, self.effects = [], []

    def send(self, event) -> str:
        self.now += timedelta(seconds=30)
        context = Context(now=self.now, knowledge=self.kb, cases=self.cases, channel=self.channel, groups=self.groups,
                          forms=self.forms, own_groups=lambda: self.own_groups)
        turn = handle(self.state, event, context)
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
