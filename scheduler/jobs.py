"""APScheduler 3 wiring: fixed job ids, a SQLAlchemy job store in the desk's database, Asia/Tokyo.

The jobs only ask `run_due` what is due now; the ledger makes every post go out once, so a
restart, a misfire caught up late, or a second process cannot post twice. Cron cannot say
"first business day": the jobs run on the days it may fall on and the code decides.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.runtime import Desk
from scheduler.indicators import Indicator, load_indicators
from scheduler.reminders import Post, due_posts, publish
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


def tick() -> None:
    """The scheduled job (module level, so that the job store can refer to it by name)."""
    if _desk is None:
        return
    if run_due(_desk, _registry, _desk.clock()) and _on_queued:
        _on_queued()


def start(desk: Desk, on_queued=None) -> BackgroundScheduler:
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
    scheduler.start()
    tick()  # catch up at start: a restart after 09:00 on a due day still posts that day
    return scheduler
