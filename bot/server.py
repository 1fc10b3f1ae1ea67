"""The web server of `kyodo-desk serve`: HTTP endpoints plus the inbox worker and outbox sender."""
from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot import logs
from bot.app import build_desk
from bot.runtime import Desk
from bot.settings import Settings
from bot.worker import InboxWorker, OutboxSender
from handlers import web

log = logging.getLogger("kyodo_desk")


def create_app(settings: Settings, desk: Desk | None = None, run_scheduler: bool = True) -> FastAPI:
    logs.protect()
    desk = desk or build_desk(settings)
    citizens: dict = {"web": web.WebChannel()}  # channels citizens are reached on
    senders: dict = {}  # channels the outbox sender delivers (the web chat polls instead)
    writer = None
    if settings.line_enabled:
        from handlers.line import LineChannel, inbox_writer

        citizens["line"] = senders["line"] = LineChannel(settings)
        writer = inbox_writer(desk.db)
    else:
        log.warning("LINE channel off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on")
    bolt = None
    if settings.slack_enabled:
        from handlers import slack

        client = slack.web_client(settings)
        senders["slack"] = slack.SlackChannel(client, desk, settings)
    else:
        log.warning("Slack staff desk off: set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_STAFF_CHANNEL to turn it on")
    desk.channels = citizens
    sender = OutboxSender(desk.db, senders)
    worker = InboxWorker(desk.db, desk, {k: v for k, v in citizens.items() if k != "web"}, on_queued=sender.wake)
    if settings.slack_enabled:
        bolt = slack.build_app(settings, desk, client, on_queued=sender.wake)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        from scheduler import jobs

        leader = jobs.SchedulerLeader(desk, on_queued=sender.wake) if run_scheduler else None
        # The knowledge base and dictionaries are loaded for good: kept out of the collector's
        # full passes, which otherwise stall every request for tens of milliseconds.
        gc.collect()
        gc.freeze()
        for loop in (writer, worker, sender, leader):
            if loop:
                loop.start()
        yield
        for loop in (writer, leader, worker, sender):  # the sender last: it sends what the worker finished
            if loop:
                loop.stop()
        gc.unfreeze()

    app = FastAPI(title="kyodo-desk", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.desk, app.state.worker, app.state.sender = desk, worker, sender

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "channels": sorted(set(citizens) | set(senders))})

    from handlers.line import webhook_router

    app.include_router(webhook_router(settings, writer, worker.wake))
    app.include_router(web.router(desk))
    if bolt is not None:
        app.include_router(slack.router(bolt, settings.slack_signing_secret))
    return app


def app_from_env() -> FastAPI:
    """The app factory each worker process of `serve --workers N` builds."""
    logs.setup()
    return create_app(Settings.from_env())


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    logs.setup()
    if workers > 1:
        if settings.database_url.startswith("sqlite"):
            log.warning("several workers on SQLite share one file: use PostgreSQL (DATABASE_URL) to scale out")
        uvicorn.run("bot.server:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, timeout_graceful_shutdown=10)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False, timeout_graceful_shutdown=10)
