"""The directory of groups (団体名簿): validation, CSV import and export, search, suggestions for a
case, and the introductions staff make (the マッチング the plan counts).

`GroupDirectory` is what the other layers use: the CLI (`kyodo-desk groups …`), and later the
conversation and the staff desk. Its search index lives in memory and is rebuilt when the table
has changed since it was built (a cheap stamp query before each use).
"""
from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import introductions
from bot.csvsafe import FORMULA_STARTS, to_bytes
from bot.partner_search import PAGE_SIZE, GroupCard, GroupIndex, SearchPage
from knowledge.analysis import Analyzer, normalize
from knowledge.partner_vocabulary import Mentions, PartnerVocabulary, load_partner_vocabulary
from knowledge.profile import load_vocabulary
from store import cases
from store import groups as table
from store.db import session_scope
from store.models import Introduction, PartnerGroup

COLUMNS = ("name", "kind", "fields", "areas", "offers", "seeks", "contact", "url", "public")
OPTIONAL_COLUMNS = ("status", "confirmed_on")  # written by export, so that a file goes back in as it came out
LIST_SEPARATOR = re.compile(r"[、;；]")
LIMITS = {"name": 200, "offers": 1000, "seeks": 1000, "contact": 200, "url": 500}
BOOLEANS = {"true": True, "false": False}
SUGGESTION_POOL = 50  # candidates looked at closely for a case
SEEK_WEIGHT = 1.0  # the group looks for partners of the applicant's kind
NEW_GROUP_STATUS = "公開"  # the centre's own list: published as it is imported (a status column says otherwise)


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(ValueError):
    """The file was not applied; every problem names its line."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Suggestion:
    group: GroupCard
    score: float
    reasons: tuple[str, ...]


def parse_csv(data: bytes, vocabulary: PartnerVocabulary) -> tuple[list[dict], list[RowProblem]]:
    """Rows as column values for the table, and the problems (all of them, each with its line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowProblem(1, "the file is not UTF-8 text (save it as CSV UTF-8)")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [normalize(h).strip() for h in next(reader, [])]
    problems = _header_problems(header)
    if problems:
        return [], problems
    rows: list[dict] = []
    first_line: dict[str, int] = {}
    line = 2  # the line a record starts on (a quoted cell may span lines)
    for record in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(RowProblem(start, f"{len(record)} cells; the header has {len(header)}"))
            continue
        values, messages = validate_row(dict(zip(header, record, strict=True)), vocabulary)
        problems.extend(RowProblem(start, m) for m in messages)
        if values and values["name"] in first_line:
            problems.append(RowProblem(start, f"{values['name']} is already on line {first_line[values['name']]}"))
        elif values:
            first_line[values["name"]] = start
            rows.append(values)
    return rows, problems


def _header_problems(header: list[str]) -> list[RowProblem]:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL_COLUMNS]
    if not missing and not unknown and len(set(header)) == len(header):
        return []
    parts = [f"missing column(s) {', '.join(missing)}"] if missing else []
    parts += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
    parts += ["a column appears twice"] if len(set(header)) != len(header) else []
    return [RowProblem(1, "; ".join(parts) + f" (expected {','.join(COLUMNS)})")]


def validate_row(cells: dict[str, str], vocabulary: PartnerVocabulary) -> tuple[dict | None, list[str]]:
    """One row's values for the table (None when any cell is wrong) and what is wrong with it."""
    text = {key: _unquote(value).strip() for key, value in cells.items()}
    problems = [f"{key} is longer than {limit} characters" for key, limit in LIMITS.items()
                if len(text.get(key, "")) > limit]
    if not text["name"]:
        problems.append("name is empty")
    kind = vocabulary.kind_of(text["kind"])
    if kind is None:
        problems.append(f"kind {text['kind']!r} is not one of {' / '.join(vocabulary.kinds)}")
    fields = _names(text["fields"], vocabulary.field_of, "field", problems)
    areas = _names(text["areas"], vocabulary.area_of, "area", problems, hint="a ward, 市内全域 or 〇〇学区")
    public = BOOLEANS.get(text["public"].lower())
    if public is None:
        problems.append(f"public is {text['public']!r}: write true or false")
    if text["url"] and not re.fullmatch(r"https?://[^\s]+", text["url"]):
        problems.append(f"url {text['url'][:40]!r} does not start with http:// or https://")
    extra = _optional_values(text, problems)
    if problems:
        return None, problems
    return {"name": text["name"], "kind": kind, "activity_fields": fields, "areas": areas, "offers": text["offers"],
            "seeks": text["seeks"], "contact": text["contact"], "contact_public": public, "url": text["url"],
            **extra}, []


def _names(cell: str, canonical, what: str, problems: list[str], hint: str = "") -> list[str]:
    words = [w.strip() for w in LIST_SEPARATOR.split(cell) if w.strip()]
    if not words:
        problems.append(f"{what}s is empty (separate several with 、 or ;)")
    names = []
    for word in words:
        name = canonical(word)
        if name is None:
            problems.append(f"{what} {word!r} is not in partner-fields.yaml" + (f" ({hint})" if hint else ""))
        elif name not in names:
            names.append(name)
    return names


def _optional_values(text: dict[str, str], problems: list[str]) -> dict:
    extra: dict = {}
    if text.get("status"):
        if text["status"] in table.GROUP_STATUSES:
            extra["status"] = text["status"]
        else:
            problems.append(f"status {text['status']!r} is not one of {' / '.join(table.GROUP_STATUSES)}")
    if text.get("confirmed_on"):
        try:
            extra["confirmed_on"] = date.fromisoformat(text["confirmed_on"])
        except ValueError:
            problems.append(f"confirmed_on {text['confirmed_on']!r} is not a date (YYYY-MM-DD)")
    return extra


def _unquote(cell: str) -> str:
    """The quote export put before a formula-like cell ('=…) comes off again."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def card_of(group: PartnerGroup) -> GroupCard:
    assert group.id is not None
    return GroupCard(id=group.id, name=group.name, kind=group.kind, fields=tuple(group.activity_fields),
                     areas=tuple(group.areas), offers=group.offers, seeks=group.seeks, contact=group.contact,
                     contact_public=group.contact_public, url=group.url, confirmed_on=group.confirmed_on,
                     status=group.status)


def export_rows(cards: list[GroupCard]) -> list[list[object]]:
    header: list[object] = [*COLUMNS, *OPTIONAL_COLUMNS]
    return [header] + [[c.name, c.kind, "、".join(c.fields), "、".join(c.areas), c.offers, c.seeks, c.contact, c.url,
                        "true" if c.contact_public else "false", c.status,
                        c.confirmed_on.isoformat() if c.confirmed_on else ""] for c in cards]


class GroupDirectory:
    def __init__(self, db: Engine, vocabulary: PartnerVocabulary, analyzer: Analyzer, tz: ZoneInfo):
        self.db, self.vocabulary, self.analyzer, self.tz = db, vocabulary, analyzer, tz
        self._index: GroupIndex | None = None
        self._stamp: tuple | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_folder(cls, db: Engine, folder: Path, tz: ZoneInfo) -> GroupDirectory:
        """A directory using a city's knowledge folder (partner-fields.yaml and synonyms.yaml)."""
        return cls(db, load_partner_vocabulary(folder), Analyzer(load_vocabulary(folder)), tz)

    def index(self, session: Session | None = None) -> GroupIndex:
        """The search index, rebuilt first if a group was added or changed since it was built.
        `session`: the caller's, inside its transaction (a conversation turn's); else one of its own."""
        if session is not None:
            return self._index_in(session)
        with session_scope(self.db) as own:
            return self._index_in(own)

    def _index_in(self, session: Session) -> GroupIndex:
        stamp = table.stamp(session)
        if self._index is not None and stamp == self._stamp:
            return self._index
        with self._lock:
            if self._index is None or stamp != self._stamp:
                cards = [card_of(g) for g in table.all_groups(session)]
                self._index, self._stamp = GroupIndex(cards, self.vocabulary, self.analyzer), stamp
            return self._index

    def search(self, query: str, cursor: str | None = None, page_size: int = PAGE_SIZE,
               include_hidden: bool = False) -> SearchPage:
        """Public groups for a question (every group for staff: `include_hidden`), best first, a page
        at a time (InvalidCursor for a forged cursor)."""
        return self.index().search(query, cursor, page_size, include_hidden)

    def suggest(self, case_text: str, area: str | None, applicant_kind: str | None, k: int = 3) -> list[Suggestion]:
        """Public groups that could help with a case, each with the reasons (field, area, offers ↔ seeks)."""
        index = self.index()
        named = self.vocabulary.mentions(case_text)
        area_name = self.vocabulary.area_of(area) if area else None
        understood = Mentions(fields=named.fields, areas=(area_name,) if area_name else named.areas)
        terms = index.text_terms(named.rest)
        text = index.text_scores(terms)
        candidates = index.public & (text > 0)  # what the case asks for is among what a group says it can do…
        field_mask, field_bonus = index.facet_scores(Mentions(fields=named.fields))
        if named.fields:
            candidates |= field_mask  # …or the group works in a field the case names
        _, area_bonus = index.facet_scores(Mentions(areas=understood.areas))  # the area only ranks
        base = text + field_bonus + area_bonus
        found = candidates.nonzero()[0]
        pool = found[np.argsort(-base[found], kind="stable")][:SUGGESTION_POOL].tolist()  # as sorted(), in NumPy
        kind = self.vocabulary.kind_of(applicant_kind or "")
        seeker_words = [normalize(w) for w in (kind, *self.vocabulary.kinds.get(kind, ()))] if kind else []
        ranked = []
        for i in pool:
            card = index.cards[i]
            sought = bool(seeker_words) and any(w in normalize(card.seeks) for w in seeker_words)
            reasons = list(index.reasons(i, understood, terms))
            if sought:
                reasons.append(f"さがしていること: {card.seeks[:40]}")
            ranked.append(Suggestion(card, float(base[i] + (SEEK_WEIGHT if sought else 0.0)), tuple(reasons)))
        ranked.sort(key=lambda s: -s.score)
        return ranked[:k]

    def introduce(self, case_id: int, group_id: int, staff: str, at: datetime, note: str = "") -> Introduction:
        """Record that staff introduced a group to a case (one マッチング), as the Slack desk does:
        the case's history and thread say so too (bot/introductions.py)."""
        with session_scope(self.db) as session:
            case = cases.by_id(session, case_id)
            if case is None:
                raise LookupError(f"no case {case_id}")
            return introductions.introduce(session, case, group_id, staff, note, at)

    def matching_count(self, period: str) -> int:
        """マッチング件数 for a month (2026-10) or a fiscal year (FY2026): the introductions made in it."""
        with session_scope(self.db) as session:
            return len(table.introductions_in(session, period, self.tz))

    def import_csv(self, data: bytes, by: str, now: datetime) -> tuple[int, int]:
        """Apply a whole file or nothing (ImportRefused names every bad line); (added, updated)."""
        rows, problems = parse_csv(data, self.vocabulary)
        if problems:
            raise ImportRefused(problems)
        today = now.astimezone(self.tz).date()
        with session_scope(self.db) as session:
            return table.upsert(session, [{"confirmed_on": today, **row} for row in rows], by, now,
                                new_defaults={"status": NEW_GROUP_STATUS})

    def export_csv(self) -> tuple[bytes, int]:
        """Every group as CSV (UTF-8 with BOM, formula-like cells neutralised) and how many groups."""
        with session_scope(self.db) as session:
            cards = [card_of(g) for g in table.all_groups(session)]
        return to_bytes(export_rows(cards)), len(cards)

    def set_status(self, group_id: int, status: str, by: str, now: datetime) -> GroupCard | None:
        with session_scope(self.db) as session:
            group = table.set_status(session, group_id, status, by, now)
            return card_of(group) if group else None
