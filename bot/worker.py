"""The background loops of `serve`: the inbox worker (events → turns) and the outbox sender."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.engine import Connection, Engine, Row

from bot import staffactions
from bot.channels import Channel, Incoming, SendResult, retry_later
from bot.runtime import Desk, TurnRequest
from store import inbox, leases, outbox, privacy
from store.conversations import Conflict
from store.db import session_scope

log = logging.getLogger(__name__)
IDLE_WAIT = 0.5
GIVE_WAY_PAUSE, GIVE_WAY_POLL = 0.2, 0.005
SENDS_IN_PARALLEL = 16
RENEW_EVERY = 2.0  # seconds between renewals of the leases of sends in flight (outbox.LEASE: 10 s)


class Loop:
    """A daemon thread that repeats `step` until stopped; `wake` cuts its idle wait short.
    With `give_way` set, it pauses between steps while webhook requests pile up (see Pressure)."""

    give_way: Callable[[], bool] | None = None

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
            self._give_way()

    def _give_way(self) -> None:
        until = time.monotonic() + GIVE_WAY_PAUSE
        while self.give_way and self.give_way() and time.monotonic() < until and not self._stop.is_set():
            time.sleep(GIVE_WAY_POLL)

    def step(self) -> bool:
        raise NotImplementedError


class Pressure:
    """Whether webhook requests are piling up faster than they are stored: in this process
    (`local`), or in a web process that said so by NOTIFY (`felt`). The loops then pause between
    steps, for up to GIVE_WAY_PAUSE at a time, leaving the CPU (and this process's interpreter
    lock) to the acks, which are due within seconds; the backlog of replies drains a little later,
    and is never stopped for good."""

    def __init__(self) -> None:
        self._until = 0.0
        self.local: Callable[[], bool] | None = None

    def felt(self) -> None:
        self._until = time.monotonic() + GIVE_WAY_PAUSE

    def __call__(self) -> bool:
        return time.monotonic() < self._until or bool(self.local and self.local())


class InboxWorker(Loop):
    """Turns stored events into conversation turns: a batch of events (one per person) per
    transaction, their states read and written in bulk. A failing turn is recorded on its own
    event; a conflict redoes the batch. On SQLite a transaction holds the single write lock that
    webhook acks wait for: small batches."""

    def __init__(self, db: Engine, desk: Desk, channels: dict[str, Channel], on_queued=None):
        super().__init__("inbox-worker")
        self.db, self.desk, self.channels, self.on_queued = db, desk, channels, on_queued
        self.batch = 8 if db.dialect.name == "sqlite" else 32
        self.audit_key = privacy.AuditKey(desk.config.audit_key)

    def step(self) -> bool:
        """Process one batch; True when there was work."""
        try:
            with session_scope(self.db) as session:
                rows = inbox.claim_batch(session, self.batch)
                self._process(session, rows)
        except Conflict:
            log.info("a turn conflicted; the batch is redone")
            return True
        if rows and self.on_queued:
            self.on_queued()
        return bool(rows)

    def _process(self, session, rows) -> None:
        self._staff_actions(session, [row for row in rows if row.channel == staffactions.CHANNEL])
        translated, ignored = [], []
        for row in (row for row in rows if row.channel != staffactions.CHANNEL):
            channel = self.channels.get(row.channel)
            try:
                incoming = channel.to_core(row.payload) if channel else None
            except Exception as exc:  # a malformed event fails alone, never the batch
                self._failed(session, row, exc)
                continue
            if incoming is None:
                ignored.append(row.id)
            else:
                translated.append((row, incoming))
        replays = self._replays(session, translated)
        privacy.forget_events(session, sorted(replays))
        taken = [(row, incoming) for row, incoming in translated if row.id not in replays]
        outcomes = self.desk.turns(session, [
            TurnRequest(row.channel, incoming.user_key, incoming.event, incoming.private,
                        outbox=partial(self.channels[row.channel].outbox_rows, incoming.user_key, reply_to=row.payload))
            for row, incoming in taken])
        inbox.finish_many(session, ignored, inbox.IGNORED)
        inbox.finish_many(session, [row.id for (row, _), outcome in zip(taken, outcomes, strict=True)
                                    if not isinstance(outcome, Exception)])
        for (row, _), outcome in zip(taken, outcomes, strict=True):
            if isinstance(outcome, Exception):
                self._failed(session, row, outcome)

    def _replays(self, session, translated: list[tuple[Row, Incoming]]) -> set[int]:
        """The events of erased people from before their erasure (the platform replaying them):
        their ids, to be dropped unread."""
        subjects = {row.id: self.audit_key.subject(session, row.channel, incoming.user_key)
                    for row, incoming in translated}
        erased = privacy.erased_at(session, subjects.values())
        return {row.id for row, incoming in translated if subjects[row.id] in erased
                and (incoming.at is None or incoming.at < erased[subjects[row.id]])}

    def _staff_actions(self, session, rows) -> None:
        """Slack staff actions (bot/staffactions.py): each done, and marked done, in this transaction."""
        for row in rows:
            try:
                with session.begin_nested():
                    staffactions.carry_out(session, self.desk, row.payload)
            except Exception as exc:  # a bug in one action fails it alone
                self._failed(session, row, exc)
                continue
            inbox.finish_many(session, [row.id])

    @staticmethod
    def _failed(session, row, exc: Exception) -> None:
        log.error("inbox event %s failed", row.id, exc_info=exc)
        error = exc.__class__.__name__
        if inbox.record_failure(session, row, error):  # never silently: staff are told (no personal data in it)
            outbox.enqueue(session, channel="slack", target="staff", kind="post", payload={
                "text": f"⚠️ {row.channel} のイベント（inbox {row.id}）を処理できませんでした。市民への返信が届いていない可能性があります。"
                        f"原因: {error}", "blocks": None})


class OutboxSender(Loop):
    """Keeps up to `parallel` sends in flight: leases due rows (one per target, so each person's
    messages keep their order) whenever a place is free, so a platform that takes 100 ms per
    request still gets many per second and one slow send holds up no other.

    Each send's outcome is recorded by the thread that made it, as soon as it returns, before its
    place takes more work (sends finishing together share one transaction: whichever thread
    records first records the others' outcomes too). A stopping process records what it sent.
    Leases are short and renewed while their sends are in flight; on start, rows that a dead
    process held are taken back at once (`take_back`)."""

    def __init__(self, db: Engine, channels: dict[str, Channel], parallel: int = SENDS_IN_PARALLEL,
                 take_back: bool = True):
        super().__init__("outbox-sender")
        self.db, self.channels, self.parallel = db, channels, parallel
        self.holder = leases.new_holder()
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="outbox-send")
        self._places = threading.Condition()
        self._held: dict[int, Row] = {}  # leased here, outcome not yet recorded
        self._finished: list[tuple[Row, SendResult]] = []  # sent, waiting for the record
        self._recording = threading.Lock()
        self._life: Connection | None = None  # the PostgreSQL life lock (see leases.hold_life)
        self._taking_back = take_back
        self._renew_at = 0.0

    def step(self) -> bool:
        if self._taking_back:
            self.take_back()
        recorded = self._record_finished()
        self._renew_leases()
        with self._places:
            self._places.wait_for(lambda: len(self._held) < self.parallel, timeout=RENEW_EVERY)
            free = self.parallel - len(self._held)
        if not free:
            return True
        with session_scope(self.db) as session:
            rows = outbox.lease_due(session, tuple(self.channels), datetime.now(UTC), limit=free, holder=self.holder)
        with self._places:
            rows = [row for row in rows if row.id not in self._held]  # a lease renewed too late: still ours
            self._held.update((row.id, row) for row in rows)
        for row in rows:
            self._pool.submit(self._send, row)
        return bool(rows or recorded)

    def take_back(self) -> int:
        """Once, on start: make the rows that dead senders held due now. Their outcome is unknown;
        they are the only sends that may reach a person twice (counted in the log)."""
        self._taking_back = False
        channels = tuple(self.channels)
        if self._life is None:
            self._life = leases.hold_life(self.db, self.holder)
        with session_scope(self.db) as session:
            now = datetime.now(UTC)
            dead = leases.dead_holders(self._life, outbox.holders(session, channels, now), self.holder)
            taken = outbox.take_back(session, channels, dead, now)
        if taken:
            log.warning("outbox: %d send(s) in flight when the previous sender stopped taken back; "
                        "their outcome is unknown, so a reply among them may arrive twice", taken)
        return taken

    def drain(self) -> None:
        """Send what is due now, record every outcome, then stop (a one-off sender, as in the CLI)."""
        while self.step() or self._waiting_for_sends():
            pass
        self.close()

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        self.close()

    def close(self) -> None:
        """Let the sends in flight finish and record them; let go of the life lock."""
        self._pool.shutdown(wait=True)
        self._record_finished()
        leases.end_life(self._life)
        self._life = None

    def _waiting_for_sends(self) -> bool:
        with self._places:
            return not self._places.wait_for(lambda: not self._held, timeout=RENEW_EVERY)

    def _send(self, row: Row) -> None:
        try:
            result = self.channels[row.channel].send(row)
        except Exception as exc:  # a bug in one send must not undo the record of the others
            log.exception("outbox %s: send raised", row.id)
            result = retry_later(row.attempts, exc.__class__.__name__)
        with self._places:
            self._finished.append((row, result))
        try:
            self._record_finished()
        except Exception:  # a dropped connection, say: the loop records it at its next step, never resends
            log.warning("outbox %s: sent, but its record failed; recorded at the next step", row.id, exc_info=True)
        self.wake()

    def _record_finished(self) -> int:
        """Record every outcome waiting, in one transaction; their places are then free."""
        with self._recording:
            with self._places:
                finished, self._finished = self._finished, []
            if not finished:
                return 0
            try:
                self._record(finished)
            except Exception:
                with self._places:
                    self._finished[:0] = finished
                raise
            with self._places:
                for row, _result in finished:
                    self._held.pop(row.id, None)
                self._places.notify_all()
        return len(finished)

    def _renew_leases(self) -> None:
        if time.monotonic() < self._renew_at:
            return
        self._renew_at = time.monotonic() + RENEW_EVERY
        with self._places:
            held = list(self._held)
        if held:
            with session_scope(self.db) as session:
                outbox.renew(session, held, self.holder, datetime.now(UTC))

    def _record(self, finished: list[tuple[Row, SendResult]]) -> None:
        with session_scope(self.db) as session:
            outbox.mark_sent(session, [row.id for row, result in finished if result.outcome == "sent"])
            for row, result in finished:
                if result.outcome in ("retry", "retry_as_push"):
                    outbox.mark_retry(session, row.id, result.delay, result.error,
                                      drop_reply_token=result.outcome == "retry_as_push")
                    if result.outcome == "retry":
                        log.warning("outbox %s: will retry (%s)", row.id, result.error)
                elif result.outcome != "sent":
                    outbox.mark_failed(session, row.id, result.error)
                    log.error("outbox %s: failed for good (%s)", row.id, result.error)
