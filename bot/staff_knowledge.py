"""Staff-made knowledge: adding, linking and retiring it (checked like the files), and keeping
every process's knowledge base current with it.

A change is a row in the database; each process checks the overlay's version every couple of
seconds (sooner when a PostgreSQL NOTIFY wakes it), builds the new index aside and swaps it in:
answers never wait for a rebuild, and go on from the old index until the new one is ready.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlmodel import Session

from bot.runtime import Desk
from bot.worker import Loop
from knowledge.base import KnowledgeBase
from knowledge.overlay import Overlay, StaffAnswer, link_problems, staff_entry
from store import overlay as stored
from store.db import session_scope
from store.overlay import ANSWER, LINK, KnowledgeOverlay

log = logging.getLogger(__name__)
CHECK_EVERY = 1.0  # seconds between version checks (a cheap query)
PROVISIONAL_ID = "staff-0"  # the id a new answer is checked under (its real one comes from the database)


class Refused(Exception):
    """A staff change not made, with every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def add_answer(session: Session, kb: KnowledgeBase, written: StaffAnswer, by: str, now: datetime) -> KnowledgeOverlay:
    _, problems = staff_entry(PROVISIONAL_ID, written, kb.registry, (e.id for e in kb.entries))
    if problems:
        raise Refused(problems)
    row = KnowledgeOverlay(kind=ANSWER, question=written.question, title=written.title, answer=written.answer,
                           source=written.source, cites=written.cites, as_of=written.as_of,
                           review_by=written.review_by, created_by=by)
    return stored.add(session, row, now)


def link(session: Session, kb: KnowledgeBase, question: str, entry_id: str, by: str, now: datetime) -> KnowledgeOverlay:
    problems = link_problems(entry_id, question, kb.index.by_id)
    if problems:
        raise Refused(problems)
    return stored.add(session, KnowledgeOverlay(kind=LINK, entry_id=entry_id, question=question.strip(),
                                                created_by=by), now)


def retire(session: Session, overlay_id: int, by: str, now: datetime) -> KnowledgeOverlay:
    row = stored.retire(session, overlay_id, by, now)
    if row is None:
        raise Refused([f"no live staff entry {overlay_id} (see `kyodo-desk kb faq list`)"])
    return row


def written_by_staff(row: KnowledgeOverlay) -> StaffAnswer:
    return StaffAnswer(question=row.question, title=row.title, answer=row.answer, source=row.source,
                       as_of=row.as_of, review_by=row.review_by, cites=row.cites)


def current_overlay(session: Session, kb: KnowledgeBase) -> Overlay:
    """The live rows as an overlay on `kb`'s files (a row that no longer passes the checks, say a
    source id since removed from sources.yaml, is left out with a log line)."""
    version = stored.version(session)
    answers, links = [], []
    for row in stored.rows(session):
        if row.kind == LINK:
            if row.entry_id in {e.id for e in kb.files}:
                links.append((row.entry_id, row.question))
            continue
        entry, problems = staff_entry(row.entry_id, written_by_staff(row), kb.registry)
        if entry is None:
            log.warning("staff entry %s left out: %s", row.entry_id, "; ".join(problems))
        else:
            answers.append(entry)
    return Overlay(tuple(answers), tuple(links), version)


class KnowledgeReloader(Loop):
    """Keeps the desk's knowledge base on the overlay's newest version."""

    def __init__(self, desk: Desk, every: float = CHECK_EVERY):
        super().__init__("knowledge-reloader")
        self.holder, self.every, self._due_at, self._prepared = desk, every, 0.0, False

    def wake(self) -> None:
        """A NOTIFY said the overlay changed: check at once."""
        self._due_at = 0.0
        super().wake()

    def step(self) -> bool:
        if time.monotonic() < self._due_at:
            return False
        self.refresh()
        if not self._prepared:  # once, in this thread: the first staff change then costs only the index
            self.holder.knowledge.prepare()
            self._prepared = True
        self._due_at = time.monotonic() + self.every
        return False

    def refresh(self) -> bool:
        """Loads the overlay if its version moved; True when the knowledge base was swapped."""
        kb = self.holder.knowledge
        with session_scope(self.holder.db) as session:
            if stored.version(session) == kb.overlay_version:
                return False
            overlay = current_overlay(session, kb)
        self.holder.knowledge = kb.overlaid(overlay)
        log.info("staff knowledge version %d loaded (%d answers, %d linked questions)",
                 overlay.version, len(overlay.answers), len(overlay.links))
        return True
