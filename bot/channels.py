"""What the worker and the sender need from a channel adapter (handlers/ implement it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlmodel import Session

from bot.messages import Event, Reply
from store.models import Outbox


@dataclass(frozen=True)
class Incoming:
    """A stored platform event, translated: who it is from and what the engine should see."""
    user_key: str
    event: Event
    private: bool = True


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | retry | failed | retry_as_push
    delay: timedelta = timedelta(0)
    error: str = ""


class Channel(Protocol):
    name: str

    def to_core(self, payload: dict) -> Incoming | None:
        """None: an event the desk ignores (it is still acknowledged and recorded)."""

    def deliver(self, session: Session, user_key: str, replies: list[Reply], reply_to: dict | None = None) -> None:
        """Queue replies to a person (outbox rows) in the caller's transaction; `reply_to` is the
        platform event being answered, when there is one (its reply token)."""

    def send(self, row: Outbox) -> SendResult:
        """Send one outbox row to the platform."""
