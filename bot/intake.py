"""Storing webhook events with group commit: concurrent requests hand their events to one writer
thread, which stores everything waiting in one transaction and then answers each request. The
webhook thus costs no thread per request and a share of one commit, not a commit of its own."""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from store import inbox
from store.db import session_scope

log = logging.getLogger(__name__)
MOST_AT_ONCE = 500  # events per transaction
Event = tuple[str, str, dict]  # (event id, user key, payload)


class InboxWriter:
    def __init__(self, db: Engine, channel: str, order: Callable[[Event], Any]):
        """`order`: the key events are stored in (and so processed in, per person), the same for
        every request, so that concurrent transactions storing the same events cannot deadlock."""
        self.db, self.channel, self.order = db, channel, order
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{channel}-inbox-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Store what is waiting, then stop."""
        self._waiting.put(None)
        self._thread.join(timeout)

    async def store(self, events: list[Event]) -> int:
        """Store (event id, user key, payload) events in order; returns how many were new.
        Raises what storing raised (the caller answers 500, and the platform redelivers)."""
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._waiting.put((events, stored, loop))
        return await stored

    def _run(self) -> None:
        while True:
            batch, stopping = self._take()
            if batch:
                self._store(batch)
            if stopping:
                return

    def _take(self) -> tuple[list, bool]:
        """What waits now: at least one request (waiting for it), up to MOST_AT_ONCE events;
        True when asked to stop."""
        batch, count = [], 0
        item = self._waiting.get()
        while True:
            if item is None:
                return batch, True
            batch.append(item)
            count += len(item[0])
            if count >= MOST_AT_ONCE:
                return batch, False
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                return batch, False

    def _store(self, batch: list) -> None:
        try:
            self._write(batch)
        except Exception:  # one request's events must not fail the others': each alone
            log.warning("storing %d webhook requests together failed; storing each alone", len(batch))
            for item in batch:
                self._write([item])

    def _write(self, batch: list) -> None:
        try:
            with session_scope(self.db) as session:
                news = inbox.add_many(session, self.channel, sorted((e for events, _, _ in batch for e in events), key=self.order))
        except Exception as exc:
            if len(batch) > 1:
                raise
            _answer(batch[0], None, exc)
            return
        for item in batch:
            _answer(item, sum(event_id in news for event_id, _, _ in item[0]), None)


def _answer(item, result, exc: BaseException | None) -> None:
    _, stored, loop = item
    try:
        loop.call_soon_threadsafe(_settle, stored, result, exc)
    except RuntimeError:  # the server's loop has closed: nobody is waiting any more
        pass


def _settle(future: asyncio.Future, result, exc: BaseException | None) -> None:
    if future.done():  # the request went away
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
