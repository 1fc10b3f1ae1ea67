"""`kyodo-desk groups …`: the directory of groups (import, export, search, suggest, introduce, status).

The database and search layers are imported by the commands, not here, so that building the
parser keeps `kyodo-desk ask` quick to start.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    from bot.partner_search import GroupCard
    from bot.partners import GroupDirectory


def _directory() -> GroupDirectory:
    from bot.partners import GroupDirectory
    from knowledge.base import DEFAULT_FOLDER
    from store.db import make_engine, migrate

    settings = Settings.from_env()
    db = make_engine(settings.database_url)
    migrate(db)
    return GroupDirectory.for_folder(db, Path(settings.knowledge_dir or DEFAULT_FOLDER), settings.desk.tz)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _card_json(card: GroupCard) -> dict:
    return {"id": card.id, "name": card.name, "kind": card.kind, "fields": list(card.fields), "areas": list(card.areas),
            "offers": card.offers, "seeks": card.seeks, "contact": card.public_contact, "url": card.url,
            "confirmed_on": card.confirmed_on.isoformat() if card.confirmed_on else None}


def _print_card(number: int, card: GroupCard, reasons: tuple[str, ...]) -> None:
    print(f"{number}. {card.name}（{card.kind}） #{card.id}")
    print(f"   分野: {'・'.join(card.fields)}  地域: {'・'.join(card.areas)}")
    if card.offers:
        print(f"   できること: {card.offers}")
    print(f"   連絡先: {card.public_contact or 'センター経由'}" + (f"  {card.url}" if card.url else ""))
    if reasons:
        print(f"   理由: {' / '.join(reasons)}")


def cmd_import(args: argparse.Namespace) -> int:
    from bot.partners import ImportRefused

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"kyodo-desk: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    directory = _directory()
    started = time.perf_counter()
    try:
        added, updated = directory.import_csv(data, args.by, _now())
    except ImportRefused as exc:
        for problem in exc.problems:
            print(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
        print(f"kyodo-desk: nothing was imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"{added} group(s) added, {updated} updated in {time.perf_counter() - started:.2f} s")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    data, count = _directory().export_csv()
    Path(args.out).write_bytes(data)
    print(f"{count} group(s) written to {args.out}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from bot.partner_search import InvalidCursor

    query = " ".join(args.query)
    try:
        page = _directory().search(query, args.cursor)
    except InvalidCursor as exc:
        print(f"kyodo-desk: {exc}", file=sys.stderr)
        return 2
    understood = {"fields": list(page.understood.fields), "areas": list(page.understood.areas),
                  "kinds": list(page.understood.kinds)}
    if args.json:
        print(json.dumps({"query": query, "understood": understood, "total": page.total,
                          "next_cursor": page.next_cursor,
                          "groups": [{**_card_json(h.group), "score": round(h.score, 4), "reasons": list(h.reasons)}
                                     for h in page.hits]}, ensure_ascii=False))
        return 0
    if not page.hits:
        print("該当する団体は見つかりませんでした。")
        return 0
    for number, hit in enumerate(page.hits, start=1):
        _print_card(number, hit.group, hit.reasons)
    if page.next_cursor:
        print(f"（全{page.total}件。続きは --cursor {page.next_cursor}）")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    suggestions = _directory().suggest(" ".join(args.text), args.area, args.kind, args.k)
    if args.json:
        for s in suggestions:
            print(json.dumps({**_card_json(s.group), "score": round(s.score, 4), "reasons": list(s.reasons)},
                             ensure_ascii=False))
        return 0
    for number, s in enumerate(suggestions, start=1):
        _print_card(number, s.group, s.reasons)
    if not suggestions:
        print("紹介できそうな団体は見つかりませんでした。")
    return 0


def cmd_introduce(args: argparse.Namespace) -> int:
    from store import cases
    from store.db import session_scope

    directory = _directory()
    with session_scope(directory.db) as session:
        case = cases.by_reference(session, args.case)
    try:
        if case is None or case.id is None:
            raise LookupError(f"no case {args.case}")
        directory.introduce(case.id, args.group, args.by, _now(), args.note)
    except LookupError as exc:
        print(f"kyodo-desk: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"introduction recorded: case {args.case} → group #{args.group}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    try:
        card = _directory().set_status(args.group, args.status, args.by, _now())
    except ValueError as exc:
        print(f"kyodo-desk: {exc}", file=sys.stderr)
        return 2
    if card is None:
        print(f"kyodo-desk: no group #{args.group}", file=sys.stderr)
        return 2
    print(f"{card.name} (#{card.id}): {card.status}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    groups = sub.add_parser("groups", help="the directory of groups (団体名簿)").add_subparsers(
        dest="groups_command", required=True)
    imp = groups.add_parser("import", help="add or update groups from a CSV file (all rows or none)")
    imp.add_argument("file", help="UTF-8 CSV: name,kind,fields,areas,offers,seeks,contact,url,public")
    imp.add_argument("--by", default="cli", help="who imports (recorded on each group)")
    imp.set_defaults(func=cmd_import)
    exp = groups.add_parser("export", help="every group as CSV (safe to open in a spreadsheet)")
    exp.add_argument("--out", required=True)
    exp.set_defaults(func=cmd_export)
    search = groups.add_parser("search", help="public groups for a question, best first, 5 at a time")
    search.add_argument("query", nargs="+")
    search.add_argument("--cursor", help="the next page's cursor, as printed")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)
    suggest = groups.add_parser("suggest", help="groups that could help with a case, with reasons")
    suggest.add_argument("text", nargs="+", help="what the case is about")
    suggest.add_argument("--area", help="the case's ward, 市内全域 or 〇〇学区")
    suggest.add_argument("--kind", help="the applicant's kind (町内会, NPO, 企業, 大学 …)")
    suggest.add_argument("-k", type=int, default=3)
    suggest.add_argument("--json", action="store_true")
    suggest.set_defaults(func=cmd_suggest)
    intro = groups.add_parser("introduce", help="record that a group was introduced to a case (マッチング)")
    intro.add_argument("case", help="the case's reference number")
    intro.add_argument("group", type=int, help="the group's number (#id)")
    intro.add_argument("--by", required=True)
    intro.add_argument("--note", default="")
    intro.set_defaults(func=cmd_introduce)
    status = groups.add_parser("status", help="change a group's status")
    status.add_argument("group", type=int)
    status.add_argument("status", help="申請中, 公開, 非公開 or 終了")
    status.add_argument("--by", required=True)
    status.set_defaults(func=cmd_status)
