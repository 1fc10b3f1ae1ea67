"""`kyodo-desk remind run` from the command line (as cron runs it), then `serve` with its scheduler
on the same database: each reminder reaches Slack (the mock) exactly once, and a run for the
next month posts at once (issue 14)."""
import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.server import create_app
from app.settings import Settings
from bot.runtime import Desk
from knowledge.calendar import first_business_day
from scheduler.jobs import SchedulerLeader
from store.models import Outbox
from tests.support.live import LiveServer, wait_until
from tests.support.slack_fake import SLACK_SECRET, STAFF_CHANNEL

JST = ZoneInfo("Asia/Tokyo")
POST = "/chat.postMessage"


def reminders_for(slack_api, month_label: str) -> list:
    """The indicator reminders for `month_label` (e.g. 2026年11月分) that Slack accepted."""
    return [r for r in slack_api.accepted(POST) if f"成果指標の報告のお願い（{month_label}" in str(r.body.get("text"))]


def remind_run(db, slack_api, now: datetime) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=db.url.render_as_string(hide_password=False), SLACK_BOT_TOKEN="xoxb-test",
               SLACK_SIGNING_SECRET=SLACK_SECRET, SLACK_API_URL=slack_api.url + "/", SLACK_STAFF_CHANNEL=STAFF_CHANNEL)
    done = subprocess.run([sys.executable, "-m", "app", "remind", "run", "--now", now.isoformat()], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def staff_posts_settled(db) -> bool:
    with Session(db) as session:
        return session.exec(select(Outbox).where(Outbox.channel == "slack", Outbox.status == "pending")).first() is None


def first_business_morning(year: int, month: int) -> datetime:
    return datetime.combine(first_business_day(year, month), time(9, 5), JST)


def test_remind_run_then_serve_posts_each_reminder_once_and_the_next_month_at_once(db, kb, slack_api):
    december = first_business_morning(2026, 12)
    first = remind_run(db, slack_api, december)
    assert "2026年11月分" in first.stdout
    assert len(reminders_for(slack_api, "2026年11月分")) == 1  # posted by the command itself, not left for serve
    assert staff_posts_settled(db)  # the send is recorded: nothing is left pending for the next process

    # `serve` on the same database, later on the same due day: its scheduler catches up at start.
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                        slack_api_url=slack_api.url + "/", slack_staff_channel=STAFF_CHANNEL)
    afternoon = december + timedelta(hours=4)
    app = create_app(settings, Desk(db, kb, settings.desk, clock=lambda: afternoon))
    [leader] = [loop for loop in app.state.background.others if isinstance(loop, SchedulerLeader)]
    with LiveServer(app):
        wait_until(lambda: leader.scheduler, 20, "the scheduler started (and caught up)")
        wait_until(lambda: staff_posts_settled(db), 20, "the staff channel's posts sent")
        assert len(reminders_for(slack_api, "2026年11月分")) == 1

    january = first_business_morning(2027, 1)
    later = remind_run(db, slack_api, january)
    assert "2026年12月分" in later.stdout
    assert len(reminders_for(slack_api, "2026年12月分")) == 1  # at once: nothing older holds the channel up
    assert len(reminders_for(slack_api, "2026年11月分")) == 1
    assert staff_posts_settled(db)
