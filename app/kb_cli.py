"""`kyodo-desk kb unanswered` and `kb faq …`: what staff need to keep the knowledge current."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from app import wiring
from app.settings import Settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from knowledge.answers import Answer
    from knowledge.base import KnowledgeBase


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: 日付は 2026-04-01 の形で指定してください") from None


def _database(settings: Settings):
    from store.db import make_engine, migrate

    db = make_engine(settings.database_url)
    migrate(db)
    return db


def cmd_unanswered(args: argparse.Namespace) -> int:
    from bot.unanswered import KIND_NAMES, grouped
    from store.db import session_scope

    settings = Settings.from_env()
    kb, db = wiring.knowledge(settings), _database(settings)
    since = datetime.combine(args.since, time(), settings.desk.tz).astimezone(UTC) if args.since else None
    try:
        with session_scope(db) as session:
            groups = grouped(session, _with_staff_knowledge(session, kb), since)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps([g.as_json() for g in groups], ensure_ascii=False, indent=1))
        return 0
    for number, group in enumerate(groups, 1):
        kinds = "、".join(f"{KIND_NAMES.get(k, k)} {n}" for k, n in group.kinds.items())
        offered = f"  提示した項目: {', '.join(group.entries)}" if group.entries else ""
        print(f"{number}. {group.count}件（{kinds}）最終 {group.last.astimezone(settings.desk.tz):%Y-%m-%d}"
              f"{group.handled_note}{offered}")
        for question in group.shown:
            print(f"   - {question}")
    print(f"{sum(g.count for g in groups)}件、{len(groups)}グループ" if groups else "答えられなかった質問はありません。")
    return 0


def add_parsers(kb) -> None:
    """`kb unanswered`, `kb faq …` and `kb export` under the `kb` subcommands."""
    unanswered = kb.add_parser("unanswered", help="questions the desk declined, answers marked 違う or unsure, grouped")
    unanswered.add_argument("--json", action="store_true", help="print a JSON array of groups")
    unanswered.add_argument("--since", type=_date, help="from this day (YYYY-MM-DD, the city's time)")
    unanswered.set_defaults(func=cmd_unanswered)
    export = kb.add_parser("export", help="the staff-made knowledge as YAML in the knowledge files' format")
    export.add_argument("--out", required=True, help="the folder to write staff.yaml (and staff-questions.yaml) to")
    export.set_defaults(func=cmd_export)
    _add_faq_parsers(kb.add_parser("faq", help="staff-made answers over the knowledge files").add_subparsers(
        dest="faq_command", required=True))


def _add_faq_parsers(faq) -> None:
    add = faq.add_parser("add", help="a new answer (checked like the files; answered from within seconds)")
    add.add_argument("--question", required=True, help="how citizens ask it")
    add.add_argument("--answer", required=True, help="the answer (up to 400 characters)")
    add.add_argument("--source", required=True, help="a source id from sources.yaml (e.g. plan, jorei)")
    add.add_argument("--title", help="the answer's title (default: the question; up to 20 characters)")
    add.add_argument("--as-of", type=_date, help="the day the answer is true for (default: today)")
    add.add_argument("--review-by", type=_date, help="the day to check it again")
    add.add_argument("--by", required=True, help="your name (recorded)")
    add.set_defaults(func=cmd_faq_add)
    link = faq.add_parser("link", help="make a question another way of asking an existing entry")
    link.add_argument("--question", required=True)
    link.add_argument("--entry", required=True, help="the entry's id (see `kb dump`)")
    link.add_argument("--by", required=True, help="your name (recorded)")
    link.set_defaults(func=cmd_faq_link)
    listing = faq.add_parser("list", help="the staff-made answers and linked questions")
    listing.add_argument("--all", action="store_true", help="retired ones too")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=cmd_faq_list)
    retire = faq.add_parser("retire", help="take a staff-made answer or link out (its record is kept)")
    retire.add_argument("id", type=int, help="the number `kb faq list` shows")
    retire.add_argument("--by", required=True, help="your name (recorded)")
    retire.set_defaults(func=cmd_faq_retire)


def _staff_change(change) -> int:
    """Run one change to the staff-made knowledge; a refused one prints its reasons, exit 2."""
    from bot.staff_knowledge import Refused
    from store.db import session_scope

    settings = Settings.from_env()
    kb, db = wiring.knowledge(settings), _database(settings)
    try:
        with session_scope(db) as session:
            print(change(session, kb, datetime.now(UTC)))
        return 0
    except Refused as refused:
        for problem in refused.problems:
            print(f"kyodo-desk: {problem}", file=sys.stderr)
        return 2
    finally:
        db.dispose()


def cmd_faq_add(args: argparse.Namespace) -> int:
    from bot.staff_knowledge import add_answer
    from knowledge.entries import MAX_LABEL_CHARS
    from knowledge.overlay import StaffAnswer

    missing = [f"{option} is empty" for option, given in (("--question", args.question), ("--answer", args.answer))
               if not given.strip()]
    if not args.title and len(args.question.strip()) > MAX_LABEL_CHARS:
        missing.append(f"the question is {len(args.question.strip())} characters: give a --title of up to "
                       f"{MAX_LABEL_CHARS} (it names the answer on its button)")
    if missing:
        print("\n".join(f"kyodo-desk: {problem}" for problem in missing), file=sys.stderr)
        return 2
    written = StaffAnswer(question=args.question.strip(), title=(args.title or args.question).strip(),
                          answer=args.answer.strip(), source=args.source.strip(),
                          as_of=(args.as_of or datetime.now(Settings.from_env().desk.tz).date()).isoformat(),
                          review_by=args.review_by.isoformat() if args.review_by else "")

    def add(session, kb, now) -> str:
        before = _with_staff_knowledge(session, kb).ask(written.question)
        row = add_answer(session, kb, written, args.by, now)
        return (f"{row.id}: {row.entry_id}「{row.title}」を追加しました（数秒で回答に使われます）。"
                + _replaces(before, row.entry_id, row.id))
    return _staff_change(add)


def _with_staff_knowledge(session: Session, kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge the running desk answers from: the files with the staff-made knowledge over them."""
    from bot.staff_knowledge import current_overlay

    staff_made = current_overlay(session, kb)
    return kb.overlaid(staff_made) if staff_made.version else kb


def _replaces(before: Answer, entry_id: str, row_id: int) -> str:
    """A note when the question already had an answer from another entry: staff see what they override."""
    if before.declined or before.entry_id in (None, entry_id):
        return ""
    return (f"\n注意: この聞き方には、これまで「{before.title}」（{before.entry_id}）が答えていました。今後は {entry_id} が"
            f"答えます（元に戻すには kyodo-desk kb faq retire {row_id}）。")


def cmd_faq_link(args: argparse.Namespace) -> int:
    from bot.staff_knowledge import link

    def add(session, kb, now) -> str:
        before = _with_staff_knowledge(session, kb).ask(args.question)
        row = link(session, kb, args.question, args.entry, args.by, now)
        return f"{row.id}: 「{row.question}」を {row.entry_id} の聞き方として追加しました。" + _replaces(before, row.entry_id, row.id)
    return _staff_change(add)


def cmd_faq_retire(args: argparse.Namespace) -> int:
    from bot.staff_knowledge import retire

    def take_out(session, kb, now) -> str:
        row, *links = retire(session, args.id, args.by, now)
        also = "".join(f"\n{link.id}: 「{link.question}」（{row.entry_id} へのリンク）も取り下げました。" for link in links)
        return f"{row.id}: {row.entry_id}「{row.title or row.question}」を取り下げました（記録は残ります）。{also}"
    return _staff_change(take_out)


def cmd_faq_list(args: argparse.Namespace) -> int:
    from store import overlay
    from store.db import session_scope

    settings = Settings.from_env()
    db = _database(settings)
    try:
        with session_scope(db) as session:
            rows = overlay.rows(session, include_retired=args.all)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps([{"id": r.id, **r.snapshot(), "created_by": r.created_by,
                           "created_at": r.created_at.isoformat()} for r in rows], ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        what = {"answer": f"「{r.title}」{r.answer[:30]}…", "route": f"対象外「{r.title}」"}.get(r.kind, "聞き方の追加")
        retired = f" [取り下げ: {r.retired_by}]" if r.retired_by else ""
        print(f"{r.id:4} {r.kind:6} {r.entry_id:24} Q: {r.question}  {what}  ({r.created_by}, "
              f"{r.created_at.astimezone(settings.desk.tz):%Y-%m-%d}){retired}")
    print(f"{len(rows)}件" if rows else "職員が追加した回答はありません。")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.staff_knowledge import current_overlay
    from knowledge.overlay import export_files
    from store.db import session_scope

    settings = Settings.from_env()
    kb, db = wiring.knowledge(settings), _database(settings)
    try:
        with session_scope(db) as session:
            staff = current_overlay(session, kb)
    finally:
        db.dispose()
    out = Path(args.out)
    try:
        written = export_files(staff, out)
    except OSError as exc:
        print(f"kyodo-desk: {out} に書き込めません: {exc.strerror}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0
