"""Loading and checking the knowledge files a city officer edits.

Every problem is reported with its file and line, so a broken file fails `kb lint` and the
index build with a message a person can act on, never with a crash at answer time.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge import facts as facts_module
from knowledge.analysis import normalize
from knowledge.facts import EntryFacts
from knowledge.grants import GRANTS_FILE, load_grants
from knowledge.profile import load_vocabulary
from knowledge.routing import ROUTING_FILE, load_routing
from knowledge.sources import SOURCES_FILE, load_sources, yaml_syntax_problem

CATEGORIES = ("ordinance", "plan", "program", "place", "faq")
MAX_BODY_CHARS = 400
MAX_LABEL_CHARS = 20  # a button label on a phone; a longer title needs a `short:` one
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED_FILES = {"city.yaml", "synonyms.yaml", "indicators.yaml", "partner-fields.yaml", SOURCES_FILE,
                  ROUTING_FILE, GRANTS_FILE}
REQUIRED = ("id", "title", "category", "source", "as_of", "body")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    category: str
    source: str
    as_of: str
    body: str
    questions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    check_with_centre: bool = False
    location: str = ""  # file:line, for messages
    short: str = ""  # the title on a button, when the title is longer than MAX_LABEL_CHARS
    defines: tuple[str, ...] = ()  # words asked alone (「補助金」「条例」) that this entry introduces
    facts: EntryFacts = EntryFacts()  # cited sources, kinds of question, dated facts, review date
    # What the entry tells people the sources do not give (「センターの開所時間や休みの日」): its questions
    # are declined as such a detail, with the centre to ask and staff to consult, and kept for staff
    unconfirmed: str = ""

    @property
    def label(self) -> str:
        """The title as a button shows it: whole words, never cut."""
        return self.short or self.title


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class LoadResult:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class KnowledgeError(Exception):
    """The knowledge folder cannot be used; the message lists every problem with file:line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def entry_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name not in RESERVED_FILES)


def load_entries(folder: Path) -> LoadResult:
    result = LoadResult()
    if not folder.is_dir():
        result.problems.append(Problem(str(folder), "knowledge folder not found"))
        return result
    files = entry_files(folder)
    if not files:
        result.problems.append(Problem(str(folder), "no entry files (*.yaml)"))
    for path in files:
        _load_file(path, result)
    _check_across(result)
    _check_citations(folder, result)
    _check_grants(folder, result)
    return result


def _load_file(path: Path, result: LoadResult) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except UnicodeDecodeError:
        result.problems.append(Problem(f"{path}:1", "not UTF-8 text"))
        return
    except yaml.YAMLError as exc:
        result.problems.append(Problem(*yaml_syntax_problem(path, exc)))
        return
    if root is None:
        result.problems.append(Problem(f"{path}:1", "file is empty"))
        return
    if not isinstance(root, yaml.SequenceNode):
        result.problems.append(Problem(f"{path}:{root.start_mark.line + 1}", "expected a list of entries"))
        return
    for node in root.value:
        location = f"{path}:{node.start_mark.line + 1}"
        if not isinstance(node, yaml.MappingNode):
            result.problems.append(Problem(location, "an entry must be a mapping (id:, title:, …)"))
            continue
        try:
            raw = yaml.safe_load(yaml.serialize(node))
        except ValueError as exc:  # a date-like value that is no date (2026-13-01)
            result.problems.append(Problem(location, f"not a valid value: {exc}"))
            continue
        entry = entry_from(raw, location, result.problems)
        if entry is not None:
            result.entries.append(entry)


def _text(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def entry_from(raw: dict, location: str, problems: list[Problem]) -> Entry | None:
    """One entry from its fields (a file's, or a staff-made one from the database), with its problems."""
    missing = [key for key in REQUIRED if not _text(raw.get(key))]
    if missing:
        problems.append(Problem(location, f"missing {', '.join(missing)}"))
        return None
    entry_id = _text(raw["id"])
    if not ID_PATTERN.match(entry_id):
        problems.append(Problem(location, f"id {entry_id!r}: use lowercase letters, digits and hyphens"))
    category = _text(raw["category"])
    if category not in CATEGORIES:
        problems.append(Problem(location, f"{entry_id}: category {category!r} is not one of {', '.join(CATEGORIES)}"))
    as_of = _text(raw["as_of"])
    if not re.match(r"^\d{4}-\d{2}(-\d{2})?$", as_of):
        problems.append(Problem(location, f"{entry_id}: as_of {as_of!r} is not a date (YYYY-MM-DD)"))
    body = _text(raw["body"])
    if len(body) > MAX_BODY_CHARS:
        problems.append(Problem(location, f"{entry_id}: body is {len(body)} characters; a chat bubble takes {MAX_BODY_CHARS}"))
    questions = _string_list(raw.get("questions"), "questions", entry_id, location, problems)
    related = _string_list(raw.get("related"), "related", entry_id, location, problems)
    defines = _string_list(raw.get("defines"), "defines", entry_id, location, problems)
    if category == "faq" and not questions:
        problems.append(Problem(location, f"{entry_id}: a faq entry needs questions (how citizens ask)"))
    unknown = set(raw) - set(REQUIRED) - {"questions", "related", "defines", "check_with_centre", "short",
                                        "unconfirmed", *facts_module.FIELDS}
    if unknown:
        problems.append(Problem(location, f"{entry_id}: unknown field(s) {', '.join(sorted(unknown))}"))
    title, short = _text(raw["title"]), _text(raw.get("short"))
    problems.extend(Problem(location, f"{entry_id}: {message}") for message in _label_problems(title, short))
    facts, fact_problems = facts_module.parse_facts(raw, entry_id)
    problems.extend(Problem(location, message) for message in fact_problems)
    return Entry(
        id=entry_id, title=title, category=category, source=_text(raw["source"]),
        as_of=as_of, body=body, questions=questions, related=related,
        check_with_centre=bool(raw.get("check_with_centre", False)), location=location, short=short,
        defines=defines, facts=facts, unconfirmed=_text(raw.get("unconfirmed")),
    )


def _label_problems(title: str, short: str) -> list[str]:
    if len(short) > MAX_LABEL_CHARS:
        return [f"short is {len(short)} characters; a button takes {MAX_LABEL_CHARS}"]
    if len(title) > MAX_LABEL_CHARS and not short:
        return [f"title is {len(title)} characters; add short: (up to {MAX_LABEL_CHARS}) for buttons"]
    return []


def _string_list(value: object, name: str, entry_id: str, location: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        problems.append(Problem(location, f"{entry_id}: {name} must be a list of strings"))
        return ()
    return tuple(_text(v) for v in value if _text(v))


def _check_across(result: LoadResult) -> None:
    seen: dict[str, str] = {}
    for entry in result.entries:
        if entry.id in seen:
            result.problems.append(Problem(entry.location, f"duplicate id {entry.id} (first at {seen[entry.id]})"))
        else:
            seen[entry.id] = entry.location
    for entry in result.entries:
        for target in entry.related:
            if target not in seen:
                result.problems.append(Problem(entry.location, f"{entry.id}: related id {target} does not exist"))
            elif target == entry.id:
                result.problems.append(Problem(entry.location, f"{entry.id}: relates to itself"))


def vocabulary_problems(folder: Path, entries: list[Entry]) -> list[Problem]:
    """synonyms.yaml's programs and gates name entries that exist, and a word asked alone
    (`defines`) leads to one entry only. `kb lint` reports these; they do not stop the desk (a
    program no entry speaks of changes no answer), as a city starting from another's folder has them."""
    vocabulary, where, problems = load_vocabulary(folder), str(folder / "synonyms.yaml"), []
    texts = [normalize("\n".join((e.title, e.body, *e.questions))) for e in entries]
    for key, groups in (("programs", vocabulary.programs), ("audiences", vocabulary.audiences)):
        for group in groups:
            if not any(normalize(name) in text for name in group for text in texts):
                problems.append(Problem(where, f"{key}: no entry speaks of {group[0]}"))
    for title, _ in vocabulary.gated:
        if not any(e.title.startswith(title) for e in entries):
            problems.append(Problem(where, f"gated: no entry title begins with {title}"))
    introduced: dict[str, str] = {}
    for entry in entries:
        for word in map(normalize, entry.defines):
            if introduced.setdefault(word, entry.id) != entry.id:
                problems.append(Problem(entry.location, f"{entry.id}: {word} is already defined by {introduced[word]}"))
    return problems


def _check_citations(folder: Path, result: LoadResult) -> None:
    """With a sources.yaml in the folder, every entry cites at least one of its ids, and no other."""
    sources, problems = load_sources(folder)
    result.problems.extend(Problem(location, message) for location, message in problems)
    for entry in result.entries:
        if sources and not entry.facts.cites:
            result.problems.append(Problem(entry.location, f"{entry.id}: cites no source (ids in {SOURCES_FILE})"))
        for source_id in entry.facts.cites:
            if source_id not in sources:
                result.problems.append(Problem(entry.location, f"{entry.id}: unknown source id {source_id}"))
    routing, route_problems = load_routing(folder)
    result.problems.extend(Problem(str(folder / ROUTING_FILE), message) for message in route_problems)
    for route in routing.routes:
        if route.source and route.source not in sources:
            result.problems.append(Problem(str(folder / ROUTING_FILE), f"route {route.topic}: unknown source id {route.source}"))


def _check_grants(folder: Path, result: LoadResult) -> None:
    """助成金ナビ (grants.yaml): well formed, each program naming an entry and sources that exist."""
    guide, problems = load_grants(folder)
    location = str(folder / GRANTS_FILE)
    sources, _ = load_sources(folder)
    entry_ids = {entry.id for entry in result.entries}
    for program in guide.programs:
        if program.entry and program.entry not in entry_ids:
            problems.append(f"program {program.id}: entry {program.entry} does not exist")
        problems.extend(f"program {program.id}: unknown source id {c}" for c in program.cites if c not in sources)
    result.problems.extend(Problem(location, message) for message in problems)


def require_entries(folder: Path) -> list[Entry]:
    result = load_entries(folder)
    if result.problems:
        raise KnowledgeError(result.problems)
    return result.entries
