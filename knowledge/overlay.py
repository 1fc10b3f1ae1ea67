"""Staff-made knowledge laid over the city's files: answers written by staff (each a faq entry),
questions linked to an existing entry as another way of asking it, and topics marked 対象外
(routes to the city's general contact, knowledge/routing.py).

Staff entries are checked like the files (knowledge/entries.py): the same fields, the same
limits, a cited source id from sources.yaml. A refused entry comes back with its reasons.
"""
from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from knowledge.entries import Entry, Problem, entry_from
from knowledge.routing import Route
from knowledge.sources import Source

STAFF_ID_PREFIX = "staff-"


@dataclass(frozen=True)
class StaffAnswer:
    """What a staff member writes (the CLI's or a modal's fields)."""
    question: str
    title: str
    answer: str
    source: str  # a source id in sources.yaml, or the source line with `cites`
    as_of: str
    review_by: str = ""
    cites: str = ""


@dataclass(frozen=True)
class Overlay:
    answers: tuple[Entry, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (entry id, question)
    version: int = 0
    routes: tuple[Route, ...] = ()


def staff_entry(entry_id: str, written: StaffAnswer, registry: Mapping[str, Source],
                known_ids: Iterable[str] = ()) -> tuple[Entry | None, list[str]]:
    """The entry for a staff answer, or None and what is wrong with it (in words for the CLI)."""
    cites = written.cites or (written.source if written.source in registry else "")
    source = registry[written.source].title if written.source in registry and not written.cites else written.source
    raw = {"id": entry_id, "title": written.title, "category": "faq", "source": source, "as_of": written.as_of,
           "body": written.answer, "questions": [written.question], "cites": [cites] if cites else []}
    if written.review_by:
        raw["review_by"] = written.review_by
    problems: list[Problem] = []
    entry = entry_from(raw, "staff", problems)
    messages = [p.message.removeprefix(f"{entry_id}: ") for p in problems]
    if not cites:
        messages.append(f"source {written.source!r} is not a source id; one of: {', '.join(sorted(registry))}")
    elif cites not in registry:
        messages.append(f"unknown source id {cites}; one of: {', '.join(sorted(registry))}")
    if entry_id in set(known_ids):
        messages.append(f"id {entry_id} is taken")
    return (entry if not messages else None), messages


def link_problems(entry_id: str, question: str, entry_ids: Container[str]) -> list[str]:
    problems = [] if entry_id in entry_ids else [f"no entry {entry_id!r} (see `kyodo-desk kb dump` and `kb faq list`)"]
    if not question.strip():
        problems.append("the question is empty")
    return problems


def laid_over(files: Iterable[Entry], overlay: Overlay) -> list[Entry]:
    """The files' entries with the linked questions added, then the staff answers."""
    extra: dict[str, list[str]] = {}
    for entry_id, question in overlay.links:
        extra.setdefault(entry_id, []).append(question)
    return [replace(e, questions=e.questions + tuple(extra[e.id])) if e.id in extra else e
            for e in (*files, *overlay.answers)]


EXPORT_HEADER = ("# Staff-made answers (kyodo-desk kb export). Review, then move them into a knowledge file;\n"
                 "# retire them with `kb faq retire` once the files carry them.\n")
LINKS_HEADER = ("# Questions staff linked to existing entries: add each to that entry's `questions:`.\n")
ROUTES_HEADER = ("# Topics staff marked 対象外 (outside the desk): add them to routing.yaml's `routes:`.\n")


def export_files(overlay: Overlay, folder: Path) -> list[Path]:
    """staff.yaml (the answers, as entries of a knowledge file), staff-questions.yaml (linked
    questions by entry id) and staff-routes.yaml (routes as in routing.yaml); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    answers = [_as_file_entry(entry) for entry in overlay.answers]
    links: dict[str, list[str]] = {}
    for entry_id, question in overlay.links:
        links.setdefault(entry_id, []).append(question)
    routes = {"routes": [{"topic": r.topic, "words": list(r.words)} for r in overlay.routes]}
    written = []
    for name, header, data in (("staff.yaml", EXPORT_HEADER, answers), ("staff-questions.yaml", LINKS_HEADER, links),
                               ("staff-routes.yaml", ROUTES_HEADER, routes)):
        path = folder / name
        path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120),
                        encoding="utf-8")
        written.append(path)
    return written


def _as_file_entry(entry: Entry) -> dict:
    data: dict = {"id": entry.id, "title": entry.title, "category": entry.category, "source": entry.source,
                  "cites": list(entry.facts.cites), "as_of": entry.as_of}
    if entry.facts.review_by:
        data["review_by"] = entry.facts.review_by.isoformat()
    data.update({"body": entry.body, "questions": list(entry.questions)})
    return data
