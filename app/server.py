"""The web server of `kyodo-desk serve`: HTTP endpoints plus the inbox worker and outbox sender."""
from __future__ import annotations

import gc
import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException

from app import logs
from app.settings import SERVE_ROLES, Settings
from app.wiring import build_desk
from bot.intake import InboxWriter
from bot.runtime import Desk
from bot.staff_knowledge import KnowledgeReloader
from bot.worker import InboxWorker, OutboxSender, Pressure
from handlers import web
from handlers.http import HeadAsGet, SecurityHeaders
from store import signals

log = logging.getLogger("kyodo_desk")


# A worker process sharing a machine with web processes yields the CPU to them: acks are due in
# a second or two, replies can wait a moment, and under a burst the backlog drains afterwards.
WORKER_NICENESS = 10


def create_app(settings: Settings, desk: Desk | None = None, run_scheduler: bool = True, role: str = "all") -> FastAPI:
    """`role`: "all" (one process does everything), "web" (endpoints and storing only) or
    "worker" (the inbox worker, outbox sender and scheduler, with /healthz). Splitting them keeps
    the webhook's acks from waiting on the worker's CPU; on PostgreSQL a NOTIFY wakes the loops."""
    if role not in SERVE_ROLES:  # a process that would do nothing at all
        raise ValueError(f"unknown serve role {role!r}: one of {', '.join(SERVE_ROLES)}")
    logs.protect()
    desk = desk or build_desk(settings)
    serves, loops = role in ("all", "web"), role in ("all", "worker")
    citizens: dict = {"web": web.WebChannel()}  # channels citizens are reached on
    senders: dict = {}  # channels the outbox sender delivers (the web chat polls instead)
    if settings.line_enabled:
        from handlers.line import LineChannel

        citizens["line"] = senders["line"] = LineChannel(settings.line)
    else:
        log.warning("LINE channel off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on")
    slack_client = staff_desk = None
    if settings.slack_enabled:
        from bot.staffdesk import StaffDesk
        from handlers import slack

        slack_client, staff_desk = slack.web_client(settings.slack), StaffDesk(desk)
        senders["slack"] = slack.SlackChannel(slack_client, staff_desk, settings.slack)
    else:
        log.warning("Slack staff desk off (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_STAFF_CHANNEL to turn it on): "
                    "cases are seen and answered with `kyodo-desk cases list`; staff-channel posts wait unsent")
    desk.channels = citizens
    lease = settings.scheduler_lease_seconds if run_scheduler else None
    reloader = KnowledgeReloader(desk)  # every process answers from the newest staff-made knowledge
    background = _background(desk, citizens, senders, lease, reloader) if loops else Background(desk.db, others=(reloader,))
    if role == "worker":
        os.nice(WORKER_NICENESS)

    app = FastAPI(title="kyodo-desk", lifespan=background.lifespan, redoc_url=None,
                  docs_url="/docs" if settings.api_docs else None,
                  openapi_url="/openapi.json" if settings.api_docs else None)
    app.add_middleware(SecurityHeaders, docs_path=app.docs_url)
    app.add_middleware(HeadAsGet)
    app.add_exception_handler(HTTPException, _framework_error)  # type: ignore[arg-type]
    app.state.desk, app.state.background = desk, background

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "role": role, "channels": sorted(set(citizens) | set(senders))})

    if serves:
        _add_endpoints(app, settings, desk, background, slack_client, staff_desk)
    return app


FRAMEWORK_ERRORS = {404: "見つかりません。", 405: "この方法（HTTP メソッド）では受け付けていません。"}


async def _framework_error(request: Request, error: HTTPException) -> JSONResponse:
    """A 404 or 405 in the shape of the desk's own refusals: {"error": …}."""
    return JSONResponse({"error": FRAMEWORK_ERRORS.get(error.status_code, str(error.detail))},
                        status_code=error.status_code, headers=error.headers)


class Background:
    """What a process runs besides its endpoints, started and stopped with the app: the loops
    (threads) and the webhook writer (a task on the event loop)."""

    def __init__(self, db: Engine, worker: InboxWorker | None = None, sender: OutboxSender | None = None,
                 others: tuple = (), pressure: Pressure | None = None):
        self.db, self.worker, self.sender, self.others, self.pressure = db, worker, sender, list(others), pressure
        self.writer: InboxWriter | None = None  # on the event loop: started first, stopped first

    def wake_worker(self) -> None:
        if self.worker:
            self.worker.wake()

    def wake_all(self) -> None:
        self.wake_worker()
        self.wake_sender()

    def wake_sender(self) -> None:
        """After queuing messages outside the worker: this process's sender, or another's."""
        if self.sender:
            self.sender.wake()
        else:
            signals.announce(self.db, signals.OUTBOX)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI):
        # The knowledge base and dictionaries are loaded for good: kept out of the collector's
        # full passes, which otherwise stall every request for tens of milliseconds.
        gc.collect()
        gc.freeze()
        loops = [loop for loop in (*self.others, self.worker, self.sender) if loop]
        if self.writer:
            await self.writer.start()
        for loop in loops:
            loop.start()
        yield
        try:
            if self.writer:
                await self.writer.stop()
        finally:
            for loop in loops:  # the sender last: it sends what the worker finished
                loop.stop()
            gc.unfreeze()


def _background(desk: Desk, citizens: dict, senders: dict, scheduler_lease: int | None,
                reloader: KnowledgeReloader) -> Background:
    """The loops; `scheduler_lease`: seconds of the scheduler's lease (None: no scheduler here)."""
    from scheduler import jobs

    sender = OutboxSender(desk.db, senders)
    worker = InboxWorker(desk.db, desk, {k: v for k, v in citizens.items() if k != "web"}, on_queued=sender.wake)
    worker.give_way = sender.give_way = pressure = Pressure()
    others: list = [reloader]
    if desk.db.dialect.name == "postgresql":
        others.append(signals.Listener(desk.db, {signals.INBOX: worker.wake, signals.OUTBOX: sender.wake,
                                                 signals.PRESSURE: pressure.felt, signals.KNOWLEDGE: reloader.wake}))
    if scheduler_lease is not None:
        others.append(jobs.SchedulerLeader(desk, scheduler_lease, on_queued=sender.wake))
    return Background(desk.db, worker, sender, others, pressure)


def _add_endpoints(app: FastAPI, settings: Settings, desk: Desk, background: Background, slack_client,
                   staff_desk) -> None:
    from handlers.line import inbox_writer, webhook_router

    writer = background.writer = inbox_writer(desk.db) if settings.line_enabled else None
    if writer and background.pressure:
        background.pressure.local = writer.piling_up
    app.include_router(webhook_router(settings.line, writer, background.wake_worker))
    app.include_router(web.router(desk, settings.web, on_queued=background.wake_sender))
    if slack_client is not None:
        from handlers import slack

        staff_desk.on_stored = background.wake_all  # a staff action stored, or a message queued
        bolt = slack.build_app(settings.slack, staff_desk, slack_client)
        app.include_router(slack.router(bolt, settings.slack_signing_secret))


def _from_env(role: str) -> FastAPI:
    logs.setup()
    return create_app(Settings.from_env(), role=role)


# The app factories of `serve --workers N`, one per role: each process builds its own app, and
# uvicorn can only name a factory, not call it with arguments.
def all_role_app() -> FastAPI:
    return _from_env("all")


def web_role_app() -> FastAPI:
    return _from_env("web")


def worker_role_app() -> FastAPI:
    return _from_env("worker")


def serve(settings: Settings, host: str, port: int, workers: int = 1, role: str = "all") -> None:
    import uvicorn

    logs.setup()
    if role not in SERVE_ROLES:
        raise ValueError(f"unknown serve role {role!r}: one of {', '.join(SERVE_ROLES)}")
    options = dict(host=host, port=port, log_level="info", access_log=False, timeout_graceful_shutdown=10)
    if workers > 1:
        if settings.database_url.startswith("sqlite"):
            log.warning("several workers on SQLite share one file: use PostgreSQL (DATABASE_URL) to scale out")
        uvicorn.run(f"app.server:{role}_role_app", factory=True, workers=workers, **options)
        return
    uvicorn.run(create_app(settings, role=role), **options)
