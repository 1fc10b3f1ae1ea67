"""What the worker and the sender need from a channel adapter (handlers/ implement it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.messages import Event, Reply
from store import outbox
from store.outbox import OutboxRow


@dataclass(frozen=True)
class Incoming:
    """A stored platform event, translated: who it is from and what the engine should see."""
    user_key: str
    event: Event
    private: bool = True
    at: datetime | None = None  # when it happened, by the platform's clock (a replay keeps it)


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | retry | failed | retry_as_push
    delay: timedelta = timedelta(0)
    error: str = ""


class Channel(Protocol):
    name: str

    def to_core(self, payload: dict) -> Incoming | None:
        """None: an event the desk ignores (it is still acknowledged and recorded)."""

    def outbox_rows(self, user_key: str, replies: list[Reply], reply_to: dict | None = None) -> list[dict]:
        """Replies to a person rendered as outbox rows (see store.outbox.row); `reply_to` is the
        platform event being answered, when there is one (its reply token)."""

    def send(self, row: OutboxRow) -> SendResult:
        """Send one outbox row to the platform."""


MAX_SEND_ATTEMPTS = 8


def retry_later(attempts: int, error: str, retry_after: str | int | None = None) -> SendResult:
    """Backoff for a send that may work later: the platform's Retry-After when it gave one,
    otherwise 0.5 s doubling up to 5 minutes; given up (failed, recorded) after MAX_SEND_ATTEMPTS."""
    if attempts + 1 >= MAX_SEND_ATTEMPTS:
        return SendResult("failed", error=f"gave up after {attempts + 1} attempts: {error}")
    if retry_after is not None and str(retry_after).isdigit():
        delay = timedelta(seconds=int(retry_after))
    else:
        delay = timedelta(seconds=min(300, 0.5 * 2 ** attempts))
    return SendResult("retry", delay=delay, error=error)


def http_outcome(status: int, attempts: int, retry_after: str | None, failure: str) -> SendResult:
    """429 and 5xx are worth retrying; any other refusal is final."""
    if status == 429:
        return retry_later(attempts, "429 rate limited", retry_after)
    if status >= 500:
        return retry_later(attempts, f"{status} from the platform")
    return SendResult("failed", error=failure)


def deliver(session: Session, channel: Channel, user_key: str, replies: list[Reply]) -> None:
    """Queue replies to a person in the caller's transaction."""
    outbox.enqueue_many(session, channel.outbox_rows(user_key, replies))
