"""Wiring: settings → database (migrated) + knowledge base → the desk."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.settings import Settings
from knowledge.base import KnowledgeBase, load_knowledge

if TYPE_CHECKING:
    from bot.runtime import Desk


def knowledge(settings: Settings) -> KnowledgeBase:
    return load_knowledge(settings.knowledge_dir or None, settings.cache_dir or None)


def build_desk(settings: Settings) -> Desk:
    from bot.runtime import Desk  # here, so that `ask` and `kb` start without the database layers
    from bot.staff_knowledge import KnowledgeReloader
    from store.db import make_engine, migrate

    db = make_engine(settings.database_url)
    migrate(db)
    desk = Desk(db, knowledge(settings), settings.desk)
    KnowledgeReloader(desk).refresh()  # the staff-made knowledge, before the first answer
    return desk
