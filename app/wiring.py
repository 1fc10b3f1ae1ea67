"""Wiring: settings → database (migrated) + knowledge base → the desk."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge

if TYPE_CHECKING:
    from bot.runtime import Desk


def knowledge(settings: Settings) -> KnowledgeBase:
    return load_knowledge(settings.knowledge_dir or None, settings.cache_dir or None)


def answering_knowledge(settings: Settings) -> KnowledgeBase:
    """The knowledge base as `serve` answers from it: the files with the staff-made knowledge over
    them; the files alone when there is no database yet (nothing is created for a question)."""
    kb = knowledge(settings)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return kb
    from bot.staff_knowledge import current_overlay
    from store.db import make_engine, session_scope

    db = make_engine(settings.database_url)
    try:
        with session_scope(db) as session:
            return kb.overlaid(current_overlay(session, kb))
    except SQLAlchemyError:  # no tables yet, or the server is down: the files still answer
        return kb
    finally:
        db.dispose()


def build_desk(settings: Settings) -> Desk:
    from bot.runtime import Desk  # here, so that `ask` and `kb` start without the database layers
    from bot.staff_knowledge import KnowledgeReloader
    from store.db import make_engine, migrate

    db = make_engine(settings.database_url)
    migrate(db)
    desk = Desk(db, knowledge(settings), settings.desk)
    KnowledgeReloader(desk).refresh()  # the staff-made knowledge, before the first answer
    return desk
