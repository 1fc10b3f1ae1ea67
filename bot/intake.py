"""Storing webhook events with group commit, on the server's event loop: concurrent requests hand
their events to one writer task, which stores everything waiting in one transaction and then
answers each request. The webhook thus costs a share of one commit, not a commit of its own.

On PostgreSQL a batch is a single autocommit statement on an async connection (one round trip,
no thread to hand the work to and back); SQLite has no async driver here, so its transaction
runs in a thread, one at a time."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from store import inbox
from store.db import make_async_engine, session_scope

log = logging.getLogger(__name__)
MOST_AT_ONCE = 500  # events per transaction
PILING_UP = 16  # requests waiting to be stored: more means the process cannot keep up with the webhooks
Event = tuple[str, str, dict]  # (event id, user key, payload)
Request = tuple[list[Event], asyncio.Future]


class InboxWriter:
    def __init__(self, db: Engine, channel: str, order: Callable[[Event], Any]):
        """`order`: the key events are stored in (and so processed in, per person), the same for
        every request, so that concurrent transactions storing the same events cannot deadlock."""
        self.db, self.channel, self.order = db, channel, order
        self._waiting: deque[Request] = deque()
        self._arrived = asyncio.Event()  # made anew by each start, for the loop it runs on
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._writing = 0  # requests in the transaction under way
        self._async_db = make_async_engine(db) if db.dialect.name == "postgresql" else None

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"{self.channel}-inbox-writer")

    async def stop(self, timeout: float = 10) -> None:
        """Store what is waiting, then stop (giving up after `timeout`: unanswered requests get
        no 200, so the platform redelivers them)."""
        self._stopping = True
        try:
            if self._task:
                self._arrived.set()
                await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.warning("the inbox writer did not finish storing within %s s", timeout)
        finally:
            if self._async_db:
                await self._async_db.dispose()

    def piling_up(self) -> bool:
        """Whether requests are arriving faster than they are stored and answered (safe to ask
        from any thread)."""
        return len(self._waiting) + self._writing >= PILING_UP

    async def store(self, events: list[Event]) -> int:
        """Store (event id, user key, payload) events in order; returns how many were new.
        Raises what storing raised (the caller answers 500, and the platform redelivers)."""
        if self._stopping:
            raise RuntimeError("the inbox writer has stopped")
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((events, stored))
        self._arrived.set()
        return await stored

    async def _run(self) -> None:
        while not self._stopping:
            await self._arrived.wait()
            self._arrived.clear()
            await self._store_waiting()

    async def _store_waiting(self) -> None:
        while self._waiting:
            batch, count = [], 0
            while self._waiting and count < MOST_AT_ONCE:
                batch.append(self._waiting.popleft())
                count += len(batch[-1][0])
            await self._store(batch)

    async def _store(self, batch: list[Request]) -> None:
        self._writing = len(batch)
        try:
            await self._write(batch)
        except Exception:  # one request's events must not fail the others': each alone
            log.warning("storing %d webhook requests together failed; storing each alone", len(batch))
            for request in batch:
                await self._write([request])
        finally:
            self._writing = 0

    async def _write(self, batch: list[Request]) -> None:
        """Raises only for a batch of several requests (which are then stored one by one)."""
        try:
            news = await self._add(sorted((e for events, _ in batch for e in events), key=self.order))
        except Exception as exc:
            if len(batch) > 1:
                raise
            _settle(batch[0][1], None, exc)
            return
        for events, stored in batch:
            _settle(stored, sum(event_id in news for event_id, _, _ in events), None)

    def _add(self, events: list[Event]) -> Awaitable[set[str]]:
        if self._async_db:
            return self._add_async(self._async_db, events)
        return asyncio.to_thread(self._add_in_thread, events)

    async def _add_async(self, db: AsyncEngine, events: list[Event]) -> set[str]:
        async with db.connect() as connection:
            return await inbox.add_many_async(connection, self.channel, events, under_pressure=self.piling_up())

    def _add_in_thread(self, events: list[Event]) -> set[str]:
        with session_scope(self.db) as session:
            return inbox.add_many(session, self.channel, events)


def _settle(future: asyncio.Future, result, exc: BaseException | None) -> None:
    if future.done():  # the request went away
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
