"""The background loops of `serve`: the inbox worker (events → turns) and the outbox sender."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from bot.channels import Channel, retry_later
from bot.runtime import Desk
from store import inbox, outbox
from store.conversations import Conflict
from store.db import session_scope

log = logging.getLogger(__name__)
IDLE_WAIT = 0.5
LEASED_AT_ONCE = 5  # × the 10 s send timeout stays inside the outbox lease


class Loop:
    """A daemon thread that repeats `step` until stopped; `wake` cuts its idle wait short."""

    def __init__(self, name: str):
        self.name = name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        """Finish the work in hand (drain), then stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                busy = self.step()
            except Exception:
                log.exception("%s step failed", self.name)
                busy = False
            if self._stop.is_set() and not busy:
                return
            if not busy:
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()

    def step(self) -> bool:
        raise NotImplementedError


class InboxWorker(Loop):
    """Turns stored events into conversation turns: a batch of events (one per person) per
    transaction, each in a savepoint, so one event's failure or conflict never affects another.
    On SQLite a transaction holds the single write lock that webhook acks wait for: small batches."""

    def __init__(self, db: Engine, desk: Desk, channels: dict[str, Channel], on_queued=None):
        super().__init__("inbox-worker")
        self.db, self.desk, self.channels, self.on_queued = db, desk, channels, on_queued
        self.batch = 4 if db.dialect.name == "sqlite" else 16

    def step(self) -> bool:
        """Process one batch; True when there was work."""
        with session_scope(self.db) as session:
            rows = inbox.claim_batch(session, self.batch)
            for row in rows:
                self._process(session, row)
        if rows and self.on_queued:
            self.on_queued()
        return bool(rows)

    def _process(self, session, row) -> None:
        try:
            with session.begin_nested():
                channel = self.channels.get(row.channel)
                incoming = channel.to_core(row.payload) if channel else None
                if incoming is None:
                    inbox.finish(session, row, inbox.IGNORED)
                    return
                before = getattr(channel, "before_turn", None)
                if before:
                    before(incoming, datetime.now(timezone.utc) - row.received_at)
                replies = self.desk.turn(session, row.channel, incoming.user_key, incoming.event, incoming.private)
                channel.deliver(session, incoming.user_key, replies, reply_to=row.payload)
                inbox.finish(session, row)
        except Conflict:
            return  # left pending: redone on a later step, from the new state
        except Exception as exc:
            log.exception("inbox event %s failed", row.id)
            with session.begin_nested():
                inbox.record_failure(session, row, exc.__class__.__name__)
                if row.status == inbox.FAILED:  # never silently: staff are told (no personal data in it)
                    outbox.enqueue(session, channel="slack", target="staff", kind="post", payload={
                        "text": f"⚠️ {row.channel} のイベント（inbox {row.id}）を処理できませんでした。市民への返信が届いていない可能性があります。"
                                f"原因: {row.last_error}", "blocks": None})


class OutboxSender(Loop):
    def __init__(self, db: Engine, channels: dict[str, Channel]):
        super().__init__("outbox-sender")
        self.db, self.channels = db, channels

    def step(self) -> bool:
        with session_scope(self.db) as session:
            rows = outbox.lease_due(session, tuple(self.channels), datetime.now(timezone.utc), limit=LEASED_AT_ONCE)
            session.expunge_all()
        for row in rows:
            try:
                result = self.channels[row.channel].send(row)
            except Exception as exc:  # a bug in one send must not undo the record of the others
                log.exception("outbox %s: send raised", row.id)
                result = retry_later(row.attempts, exc.__class__.__name__)
            self._record(row, result)
        return bool(rows)

    def _record(self, row, result) -> None:
        """Written right after the send, so a row LINE or Slack took is never sent again."""
        with session_scope(self.db) as session:
            if result.outcome == "sent":
                outbox.mark_sent(session, row.id)
            elif result.outcome == "retry_as_push":
                outbox.drop_reply_token(session, row.id)
                outbox.mark_retry(session, row.id, result.delay, result.error)
            elif result.outcome == "retry":
                outbox.mark_retry(session, row.id, result.delay, result.error)
                log.warning("outbox %s: will retry (%s)", row.id, result.error)
            else:
                outbox.mark_failed(session, row.id, result.error)
                log.error("outbox %s: failed for good (%s)", row.id, result.error)
