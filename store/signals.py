"""Wake-ups across processes on PostgreSQL: work stored where no loop runs to take it (webhook
events in a web process, a staff action's messages) is announced with a NOTIFY, and a listener
thread in each process that runs the loops turns it into the loop's wake. Without it, a loop in
another process would find the work only at its next idle poll. A process's own loops are woken
directly (a NOTIFY in every transaction would serialise the commits: PostgreSQL holds a lock
from a notifying transaction's commit to its end). SQLite runs in one process."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

log = logging.getLogger(__name__)
INBOX = "kyodo_inbox"
OUTBOX = "kyodo_outbox"
PRESSURE = "kyodo_pressure"  # a web process cannot keep up with its webhooks
KNOWLEDGE = "kyodo_knowledge"  # staff-made knowledge changed: every process reloads it
RECONNECT_WAIT = 1.0


def notification(channel: str) -> TextClause:
    return text(f"NOTIFY {channel}")


def notify(session: Session, channel: str) -> None:
    """Within the transaction that stored the work: delivered only if it commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(notification(channel))


def announce(db: Engine, channel: str) -> None:
    """For work already committed."""
    if db.dialect.name == "postgresql":
        with db.begin() as connection:
            connection.execute(notification(channel))


class Listener:
    """LISTENs on its own connection (outside the pool) and calls the wake of each channel."""

    def __init__(self, db: Engine, wakes: dict[str, Callable[[], None]]):
        self.db, self.wakes = db, wakes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # a dropped connection: the loops still poll meanwhile
                log.warning("notification listener lost its connection (%s); reconnecting", exc.__class__.__name__)
                self._stop.wait(RECONNECT_WAIT)

    def _listen(self) -> None:
        pooled = self.db.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()
        try:
            if connection is None:
                raise ConnectionError("the pool handed out a connection without its driver connection")
            connection.autocommit = True
            for channel in self.wakes:
                connection.execute(f"LISTEN {channel}")
            for channel in (INBOX, OUTBOX):  # work stored while not listening
                if channel in self.wakes:
                    self.wakes[channel]()
            while not self._stop.is_set():
                for note in connection.notifies(timeout=0.5):
                    self.wakes[note.channel]()
        finally:
            pooled.close()
