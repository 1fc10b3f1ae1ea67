"""Wiring: settings → database (migrated) + knowledge base → the desk."""
from __future__ import annotations

from bot.runtime import Desk
from bot.settings import Settings
from knowledge.base import load_knowledge
from store.db import make_engine, migrate


def build_desk(settings: Settings) -> Desk:
    db = make_engine(settings.database_url)
    migrate(db)
    return Desk(db, load_knowledge(settings.knowledge_dir or None), settings)
