"""APScheduler 3 wiring: fixed job ids, a SQLAlchemy job store in the desk's database, Asia/Tokyo.

The jobs only ask `run_due` what is due now; the ledger makes every post go out once, so a
restart, a misfire caught up late, or a second process cannot post twice. Cron cannot say
"first business day": the jobs run on the days it may fall on and the code decides.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.runtime import Desk
from bot.worker import Loop
from scheduler.indicators import Indicator, load_indicators
from scheduler.reminders import Post, due_posts, publish
from bot.case_status import CLOSED
from store import leases, privacy
from store.db import session_scope

log = logging.getLogger(__name__)
MISFIRE_GRACE = 6 * 60 * 60  # a process down at 09:00 still posts when it is back that day
_desk: Desk | None = None
_registry: list[Indicator] = []
_on_queued = None


def registry_for(desk: Desk) -> list[Indicator]:
    return load_indicators(Path(desk.knowledge.folder))


def run_due(desk: Desk, registry: list[Indicator], now: datetime, dry_run: bool = False) -> list[Post]:
    """Post (queue) whatever is due at `now` and not yet posted; returns what was (or would be) posted."""
    tz = desk.settings.tz
    done = []
    with session_scope(desk.db) as session:
        for post in due_posts(session, registry, now, tz, desk.settings.overdue_business_days):
            if dry_run or publish(session, post, now):
                done.append(post)
        if dry_run:
            session.rollback()
    for post in done:
        log.info("%s %s for %s", "would post" if dry_run else "posted", post.job, post.period)
    return done


def retention() -> None:
    """Daily: personal data past its time is removed (store/privacy.py)."""
    if _desk is None:
        return
    with session_scope(_desk.db) as session:
        counts = privacy.apply_retention(session, _desk.clock(), _desk.settings.retention_years, CLOSED)
    log.info("retention: %s", counts)


def tick() -> None:
    """The scheduled job (module level, so that the job store can refer to it by name)."""
    if _desk is None:
        return
    if run_due(_desk, _registry, _desk.clock()) and _on_queued:
        _on_queued()


def _start(desk: Desk, on_queued=None) -> BackgroundScheduler:
    global _desk, _registry, _on_queued
    _desk, _registry, _on_queued = desk, registry_for(desk), on_queued
    tz = desk.settings.tz
    scheduler = BackgroundScheduler(timezone=tz, jobstores={"default": SQLAlchemyJobStore(engine=desk.db)},
                                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
    schedule = {
        "indicator-reminders": CronTrigger(day="1-14", hour=9, minute=0, timezone=tz),  # first business day, nudge
        "overdue-cases": CronTrigger(day_of_week="mon-fri", hour=9, minute=30, timezone=tz),
    }
    for job_id, trigger in schedule.items():
        scheduler.add_job(tick, trigger, id=job_id, replace_existing=True)
    scheduler.add_job(retention, CronTrigger(hour=3, minute=0, timezone=tz), id="retention", replace_existing=True)
    scheduler.start()
    tick()  # catch up at start: a restart after 09:00 on a due day still posts that day
    return scheduler


LEASE_NAME = "scheduler"


class SchedulerLeader(Loop):
    """Runs the scheduler in exactly one process: the holder of the database lease. Every process
    tries to take it; a holder that dies stops renewing and another takes over within LEASE_TTL."""

    def __init__(self, desk: Desk, on_queued=None):
        super().__init__("scheduler-lease")
        self.desk, self.on_queued = desk, on_queued
        self.ttl = timedelta(seconds=desk.settings.scheduler_lease_seconds)
        self.renew_every = self.ttl.total_seconds() / 3
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.scheduler: BackgroundScheduler | None = None
        self._last = 0.0

    def step(self) -> bool:
        if time.monotonic() - self._last < self.renew_every:
            return False
        self._last = time.monotonic()
        with session_scope(self.desk.db) as session:
            leading = leases.acquire(session, LEASE_NAME, self.holder, datetime.now(timezone.utc), self.ttl)
        if leading and self.scheduler is None:
            log.info("this process now runs the scheduler")
            self.scheduler = _start(self.desk, self.on_queued)
        elif not leading and self.scheduler is not None:
            log.warning("scheduler lease lost; stopping the scheduler here")
            self._stop_scheduler()
        return False

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        if self.scheduler is not None:
            self._stop_scheduler()
            with session_scope(self.desk.db) as session:
                leases.release(session, LEASE_NAME, self.holder)

    def _stop_scheduler(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.scheduler = None
