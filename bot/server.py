"""The web server of `kyodo-desk serve`: HTTP endpoints plus the inbox worker and outbox sender."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.app import build_desk
from bot.runtime import Desk
from bot.settings import Settings
from bot.worker import InboxWorker, OutboxSender
from handlers import web

log = logging.getLogger("kyodo_desk")


def create_app(settings: Settings, desk: Desk | None = None) -> FastAPI:
    desk = desk or build_desk(settings)
    channels: dict = {}
    if settings.line_enabled:
        from handlers.line import LineChannel

        channels["line"] = LineChannel(settings)
    else:
        log.warning("LINE channel off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on")
    sender = OutboxSender(desk.db, {k: v for k, v in channels.items()})
    worker = InboxWorker(desk.db, desk, channels, on_queued=sender.wake)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        sender.start()
        yield
        worker.stop()
        sender.stop()

    app = FastAPI(title="kyodo-desk", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.desk, app.state.worker, app.state.sender = desk, worker, sender

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "channels": sorted(["web", *channels])})

    from handlers.line import webhook_router

    app.include_router(webhook_router(settings, desk.db, worker.wake))
    app.include_router(web.router(desk))
    return app


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
