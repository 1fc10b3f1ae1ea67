"""APScheduler 3: fixed job ids, the office's time zone, one scheduler across processes (a lease).

Cron cannot say "first business day": the jobs run on the days it may fall on and the code
decides. What is due is decided from the clock and the ledger, so the jobs themselves need no
persistent store: a process that starts late catches up at once.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import group_upkeep
from bot.digest import weekly_digest
from bot.indicators import Indicator, load_indicators
from bot.reminders import Post, due_posts, publish
from bot.runtime import Desk
from bot.worker import Loop
from store import leases, notes, privacy
from store.case_status import CLOSED
from store.db import session_scope

log = logging.getLogger(__name__)
MISFIRE_GRACE = 6 * 60 * 60  # a job that fired late (a busy or paused process) still runs that day


def registry_for(desk: Desk) -> list[Indicator]:
    return load_indicators(Path(desk.knowledge.folder))


def run_due(desk: Desk, registry: list[Indicator], now: datetime, dry_run: bool = False) -> list[Post]:
    """Post (queue) whatever is due at `now` and not yet posted; returns what was (or would be) posted."""
    done = []
    with session_scope(desk.db) as session:
        digest = weekly_digest(session, desk.knowledge, now, desk.config.tz)
        due = due_posts(session, registry, now, desk.config.tz, desk.config.overdue_business_days)
        for post in due + ([digest] if digest else []):
            if dry_run or publish(session, post, now):
                done.append(post)
        if dry_run:
            session.rollback()
    for post in done:
        log.info("%s %s for %s", "would queue" if dry_run else "queued", post.job, post.period)
    return done


class DeskJobs:
    """The scheduled jobs of one desk. They only ask `run_due` what is due now; the ledger makes
    every post go out once, so a restart or a second process cannot post twice."""

    def __init__(self, desk: Desk, on_queued: Callable[[], None] | None = None):
        self.desk, self.on_queued = desk, on_queued
        self.registry = registry_for(desk)

    def tick(self) -> None:
        if run_due(self.desk, self.registry, self.desk.clock()) and self.on_queued:
            self.on_queued()

    def retention(self) -> None:
        """Daily: personal data past its time is removed (store/privacy.py)."""
        with session_scope(self.desk.db) as session:
            counts = privacy.apply_retention(session, self.desk.clock(), self.desk.config.retention_years, CLOSED)
            counts["question notes"] = notes.prune(session, self.desk.clock())
        log.info("retention: %s", counts)

    def group_upkeep(self) -> None:
        """Daily: groups not confirmed for a year are asked (the ledger: never twice), unanswered ones hidden."""
        with session_scope(self.desk.db) as session:
            done = group_upkeep.run(session, self.desk.channels, self.desk.clock(), self.desk.config.tz)
        log.info("group upkeep: %d asked, %d hidden", len(done.asked), len(done.hidden))
        if (done.asked or done.hidden) and self.on_queued:
            self.on_queued()

    def start(self) -> BackgroundScheduler:
        tz = self.desk.config.tz
        scheduler = BackgroundScheduler(timezone=tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
        schedule = {
            "indicator-reminders": (self.tick, CronTrigger(day="1-14", hour=9, minute=0, timezone=tz)),
            "overdue-cases": (self.tick, CronTrigger(day_of_week="mon-fri", hour=9, minute=30, timezone=tz)),
            "knowledge-digest": (self.tick, CronTrigger(day_of_week="mon-fri", hour=9, minute=0, timezone=tz)),
            "retention": (self.retention, CronTrigger(hour=3, minute=0, timezone=tz)),
            "group-upkeep": (self.group_upkeep, CronTrigger(hour=10, minute=0, timezone=tz)),
        }
        for job_id, (job, trigger) in schedule.items():
            scheduler.add_job(job, trigger, id=job_id, replace_existing=True)
        scheduler.start()
        self.tick()  # catch up at start: a restart after 09:00 on a due day still posts that day
        return scheduler


LEASE_NAME = "scheduler"


class SchedulerLeader(Loop):
    """Runs the scheduler in exactly one process: the holder of the database lease. Every process
    tries to take it; a holder that dies stops renewing and another takes over within LEASE_TTL."""

    def __init__(self, desk: Desk, lease_seconds: int = 30, on_queued: Callable[[], None] | None = None):
        super().__init__("scheduler-lease")
        self.desk, self.on_queued = desk, on_queued
        self.ttl = timedelta(seconds=lease_seconds)
        self.renew_every = self.ttl.total_seconds() / 3
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.scheduler: BackgroundScheduler | None = None
        self._last = 0.0

    def step(self) -> bool:
        if time.monotonic() - self._last < self.renew_every:
            return False
        self._last = time.monotonic()
        with session_scope(self.desk.db) as session:
            leading = leases.acquire(session, LEASE_NAME, self.holder, datetime.now(UTC), self.ttl)
        if leading and self.scheduler is None:
            log.info("this process now runs the scheduler")
            self.scheduler = DeskJobs(self.desk, self.on_queued).start()
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
