"""Staff-made knowledge: adding, linking, marking 対象外 and retiring it (checked like the files), and keeping
every process's knowledge base current with it.

A change is a row in the database; each process checks the overlay's version every couple of
seconds (sooner when a PostgreSQL NOTIFY wakes it), builds the new index aside and swaps it in:
answers never wait for a rebuild, and go on from the old index until the new one is ready.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.runtime import Desk
from bot.worker import Loop
from knowledge.analysis import normalize
from knowledge.base import KnowledgeBase, phrasing_key
from knowledge.overlay import Overlay, StaffAnswer, link_problems, staff_entry
from knowledge.routing import Route, split_words, staff_route
from store import overlay as stored
from store.db import session_scope
from store.overlay import ANSWER, LINK, ROUTE, KnowledgeOverlay

log = logging.getLogger(__name__)
CHECK_EVERY = 1.0  # seconds between version checks (a cheap query)
PREPARE_AFTER = 30.0  # seconds after start before analysing the files ahead of a staff change…
PREPARE_SLICE = 8  # …a few entries per step, so that the answers being given keep the CPU
PROVISIONAL_ID = "staff-0"  # the id a new answer is checked under (its real one comes from the database)


class Refused(Exception):
    """A staff change not made, with every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def add_answer(session: Session, kb: KnowledgeBase, written: StaffAnswer, by: str, now: datetime) -> KnowledgeOverlay:
    _, problems = staff_entry(PROVISIONAL_ID, written, kb.registry, (e.id for e in kb.entries))
    problems += _named(by) + _dated(written, now.date()) + _taken(session, written.question)
    if problems:
        raise Refused(problems)
    row = KnowledgeOverlay(kind=ANSWER, question=written.question, title=written.title, answer=written.answer,
                           source=written.source, cites=written.cites, as_of=written.as_of,
                           review_by=written.review_by, created_by=by)
    return stored.add(session, row, now)


def link(session: Session, kb: KnowledgeBase, question: str, entry_id: str, by: str, now: datetime) -> KnowledgeOverlay:
    staff_answers = {r.entry_id for r in stored.rows(session) if r.kind == ANSWER}
    problems = link_problems(entry_id, question, kb.index.by_id.keys() | staff_answers) + _named(by)
    problems += _taken(session, question, entry_id)
    if problems:
        raise Refused(problems)
    return stored.add(session, KnowledgeOverlay(kind=LINK, entry_id=entry_id, question=question.strip(),
                                                created_by=by), now)


def add_route(session: Session, kb: KnowledgeBase, topic: str, words: str, by: str, now: datetime) -> KnowledgeOverlay:
    """対象外: questions with one of `words` are declined with the city's general contact."""
    route, problems = staff_route(topic, split_words(words), kb.answers_word)
    if route is None:
        raise Refused(problems)
    return stored.add(session, KnowledgeOverlay(kind=ROUTE, title=route.topic, question="、".join(route.words),
                                                created_by=by), now)


def retire(session: Session, overlay_id: int, by: str, now: datetime) -> list[KnowledgeOverlay]:
    """The row taken out, then the links to it (a staff answer's other wordings), which would
    otherwise stay listed as live and answer nothing."""
    row = stored.retire(session, overlay_id, by, now) if by.strip() else None
    if row is None:
        earlier = session.get(KnowledgeOverlay, overlay_id)
        raise Refused(_named(by) or [f"staff entry {overlay_id} was already retired by {earlier.retired_by}"
                                     if earlier is not None else
                                     f"no staff entry {overlay_id} (see `kyodo-desk kb faq list`)"])
    linked = [other for other in stored.rows(session) if row.kind == ANSWER and other.kind == LINK
              and other.entry_id == row.entry_id]
    return [row, *(stored.retire(session, other.id, by, now) or other for other in linked if other.id is not None)]


def _taken(session: Session, question: str, entry_id: str = "") -> list[str]:
    """A wording staff already tied to an answer is not tied again: one wording, one answer, no silent winner."""
    key = phrasing_key(question)
    for row in stored.rows(session):
        if row.kind in (LINK, ANSWER) and phrasing_key(row.question) == key:
            if row.kind == LINK and row.entry_id == entry_id:
                return [f"「{question.strip()}」 is already linked to {entry_id}"]
            return [f"「{question.strip()}」 is already answered by {row.entry_id} (retire it first: kb faq retire {row.id})"]
    return []


def _named(by: str) -> list[str]:
    return [] if by.strip() else ["who makes the change (--by) is empty"]


def _dated(written: StaffAnswer, today: date) -> list[str]:
    """An as-of day to come, or a review day already past, is a typing mistake (a day's leeway for time zones)."""
    problems = []
    as_of, review_by = _day(written.as_of), _day(written.review_by)
    if as_of is not None and as_of > today + timedelta(days=1):
        problems.append(f"the as-of date {written.as_of} is in the future")
    if review_by is not None and review_by < today - timedelta(days=1):
        problems.append(f"the review-by date {written.review_by} has already passed")
    return problems


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None  # not a date: the entry's check says so


def written_by_staff(row: KnowledgeOverlay) -> StaffAnswer:
    return StaffAnswer(question=row.question, title=row.title, answer=row.answer, source=row.source,
                       as_of=row.as_of, review_by=row.review_by, cites=row.cites)


def current_overlay(session: Session, kb: KnowledgeBase) -> Overlay:
    """The live rows as an overlay on `kb`'s files (a row that no longer passes the checks, say a
    source id since removed from sources.yaml, is left out with a log line)."""
    version = stored.version(session)
    answers, routes = [], []
    rows = stored.rows(session)
    for row in rows:
        if row.kind == ROUTE:
            routes.append(Route(row.title, split_words(row.question), staff=True))
        elif row.kind == ANSWER:
            entry, problems = staff_entry(row.entry_id, written_by_staff(row), kb.registry)
            if entry is None:
                log.warning("staff entry %s left out: %s", row.entry_id, "; ".join(problems))
            else:
                answers.append(entry)
    known = {e.id for e in (*kb.files, *answers)}  # a link to a file's entry or to a staff answer still live
    links = [(row.entry_id, row.question) for row in rows if row.kind == LINK and row.entry_id in known]
    return Overlay(tuple(answers), tuple(links), version, tuple(routes))


class KnowledgeReloader(Loop):
    """Keeps the desk's knowledge base on the overlay's newest version."""

    def __init__(self, desk: Desk, every: float = CHECK_EVERY):
        super().__init__("knowledge-reloader")
        self.holder, self.every, self._due_at, self._prepared = desk, every, 0.0, False
        self._prepare_from = time.monotonic() + PREPARE_AFTER

    def wake(self) -> None:
        """A NOTIFY said the overlay changed: check at once."""
        self._due_at = 0.0
        super().wake()

    def step(self) -> bool:
        now = time.monotonic()
        if now >= self._due_at:
            self.refresh()
            self._due_at = now + self.every
        if not self._prepared and now >= self._prepare_from:
            # in this thread, a slice per step (every IDLE_WAIT): the first staff change then costs only the index
            self._prepared = self.holder.knowledge.prepare(PREPARE_SLICE)
        return False

    def refresh(self) -> bool:
        """Loads the overlay if its version moved; True when the knowledge base was swapped."""
        kb = self.holder.knowledge
        with session_scope(self.holder.db) as session:
            if stored.version(session) == kb.overlay_version:
                return False
            overlay = current_overlay(session, kb)
        self.holder.knowledge = kb.overlaid(overlay)
        log.info("staff knowledge version %d loaded (%d answers, %d linked questions, %d routes)",
                 overlay.version, len(overlay.answers), len(overlay.links), len(overlay.routes))
        return True


CANDIDATES = 10  # entries offered in the link modal's menu (Slack allows 100 options)


class KnowledgeEditor:
    """The changes the digest's buttons make (既存の回答に結びつける, 新しい回答を作る, 対象外), each
    in a transaction of its own, stored before Slack is answered; every process answers from it
    within seconds (KnowledgeReloader)."""

    def __init__(self, desk: Desk):
        self.desk = desk

    def candidates(self, question: str) -> list[tuple[str, str]]:
        """(id, title) of the entries that could answer the question, best first."""
        hits = self.desk.knowledge.search(question, k=CANDIDATES).hits
        return [(hit.entry.id, hit.entry.title) for hit in hits]

    def route_words(self, question: str) -> str:
        """The question's nouns a 対象外 route could use (none the desk itself answers), 、-separated."""
        kb = self.desk.knowledge
        words = [normalize(u.surface) for u in kb.analyzer.analyze(question).units
                 if u.content and len(u.surface) > 1 and u.form not in kb.routing.generic_words]
        return "、".join(dict.fromkeys(w for w in words if not kb.answers_word(w)))

    def sources(self) -> list[tuple[str, str]]:
        return [(source.id, source.title) for source in self.desk.knowledge.registry.values()]

    def link(self, question: str, entry_id: str, by: str) -> KnowledgeOverlay:
        return self._change(lambda session, kb, now: link(session, kb, question, entry_id, by, now))

    def add_answer(self, written: StaffAnswer, by: str) -> KnowledgeOverlay:
        return self._change(lambda session, kb, now: add_answer(session, kb, written, by, now))

    def add_route(self, topic: str, words: str, by: str) -> KnowledgeOverlay:
        return self._change(lambda session, kb, now: add_route(session, kb, topic, words, by, now))

    def _change(self, change: Callable[[Session, KnowledgeBase, datetime], KnowledgeOverlay]) -> KnowledgeOverlay:
        with session_scope(self.desk.db) as session:
            return change(session, self.desk.knowledge, self.desk.clock())
