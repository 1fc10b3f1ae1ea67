"""The `kyodo-desk` command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app import wiring
from app.settings import SERVE_ROLES, Settings, SettingsError
from bot.numbers import parse_number

THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(11)]


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def cmd_ask(args: argparse.Namespace) -> int:
    kb = wiring.knowledge(Settings.from_env())
    if args.batch:
        from knowledge.evaluate import load_questions

        try:
            items = load_questions(Path(args.batch))
        except (OSError, ValueError) as exc:
            print(f"kyodo-desk: cannot read {args.batch}: {exc}", file=sys.stderr)
            return 2
        for item in items:
            _print_json(kb.ask(str(item.get("q", ""))).as_json(item.get("id"), str(item.get("q", ""))))
        return 0
    question = " ".join(args.question)
    answer = kb.ask(question)
    if args.json:
        _print_json(answer.as_json(None, question))
        return 0
    print(answer.text)
    if answer.related:
        print("\n関連: " + " / ".join(r.title for r in answer.related))
    return 0


def cmd_kb_eval(args: argparse.Namespace) -> int:
    from knowledge.evaluate import evaluate, load_questions

    kb = wiring.knowledge(Settings.from_env())
    report = evaluate(kb, load_questions(Path(args.file)))
    answerable, out_of_scope = report.answerable, report.out_of_scope
    top1, declined = report.at_threshold(kb.threshold)
    print(f"questions: {len(answerable)} answerable, {len(out_of_scope)} out of scope (threshold {kb.threshold})")
    print(f"top-1 hit rate: {top1:.1%}")
    print(f"top-3 hit rate: {report.rate(answerable, lambda c: c.top3):.1%}")
    print(f"abstention accuracy: {declined:.1%} of out-of-scope declined; "
          f"{report.rate(answerable, lambda c: c.abstained):.1%} of answerable declined")
    if args.verbose:
        for case in report.cases:
            mark = "ok " if (case.top1 and not case.abstained) or (case.expect is None and case.abstained) else "NG "
            print(f"  {mark}{case.id} conf={case.confidence:.2f} top3={'y' if case.top3 else 'n'} {case.q}")
    print("threshold sweep (top-1, declined): " + "  ".join(
        f"{t:.2f}:{a:.0%}/{d:.0%}" for t in THRESHOLDS for a, d in [report.at_threshold(t)]))
    return 0


def cmd_kb_dump(args: argparse.Namespace) -> int:
    for entry in wiring.knowledge(Settings.from_env()).entries:
        _print_json({"id": entry.id, "title": entry.title, "text": entry.body, "source": entry.source,
                     "as_of": entry.as_of, "category": entry.category})
    return 0


def cmd_kb_lint(args: argparse.Namespace) -> int:
    from knowledge.base import DEFAULT_FOLDER
    from knowledge.entries import load_entries

    folder = Path(args.folder or Settings.from_env().knowledge_dir or DEFAULT_FOLDER)
    result = load_entries(folder)
    for problem in result.problems:
        print(problem)
    print(f"{len(result.entries)} entries, {len(result.problems)} problem(s) in {folder}")
    return 1 if result.problems else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.server import serve

    serve(Settings.from_env(), args.host, args.port, args.workers, args.role)
    return 0


def cmd_line_richmenu(args: argparse.Namespace) -> int:
    from handlers.line_richmenu import install

    settings = Settings.from_env()
    if not settings.line_channel_access_token:
        print("kyodo-desk: set LINE_CHANNEL_ACCESS_TOKEN first", file=sys.stderr)
        return 2
    try:
        menu_id, created = install(settings.line)
    except Exception as exc:  # the LINE API said no, or could not be reached
        print(f"kyodo-desk: LINE rich menu not set: {getattr(exc, 'status', '') or exc.__class__.__name__}", file=sys.stderr)
        return 1
    print(f"rich menu {menu_id} {'created and ' if created else ''}set as default")
    return 0


def _desk_and_registry():
    from scheduler.jobs import registry_for

    desk = wiring.build_desk(Settings.from_env())
    return desk, registry_for(desk)


def _flush_slack(desk) -> None:
    """Send queued staff-channel posts now, when Slack is configured (otherwise `serve` sends them)."""
    settings = Settings.from_env()
    if not settings.slack_enabled:
        print("Slack is not configured: the posts wait in the outbox for `kyodo-desk serve`.")
        return
    from bot.worker import OutboxSender
    from handlers.slack import SlackChannel, web_client

    sender = OutboxSender(desk.db, {"slack": SlackChannel(web_client(settings.slack), desk, settings.slack)})
    while sender.step():
        pass


def cmd_remind_run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from scheduler.jobs import run_due

    desk, registry = _desk_and_registry()
    now = datetime.fromisoformat(args.now) if args.now else desk.clock()
    if now.tzinfo is None:
        now = now.replace(tzinfo=desk.config.tz)
    posts = run_due(desk, registry, now, dry_run=args.dry_run)
    for post in posts:
        print(f"== {post.job} {post.period}: {post.text}")
        print(post.plain_text())
    if not posts:
        print(f"nothing is due at {now.isoformat()}")
    elif not args.dry_run:
        _flush_slack(desk)
    return 0


def cmd_indicators_list(args: argparse.Namespace) -> int:
    from store import indicators as figures
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    with session_scope(desk.db) as session:
        for ind in registry:
            target = figures.target(session, ind.id)
            reports = figures.history(session, ind.id)
            last = reports[-1] if reports else None
            latest = f"{ind.format(last.value)} ({last.period})" if last else "—"
            derived = " [derived]" if ind.derived else ""
            print(f"{ind.id:24} {ind.frequency:8} base {ind.format(ind.baseline_value):>7} {ind.baseline_year:4} "
                  f"target {ind.format(target if target is not None else ind.target):>7}  latest {latest}{derived}  {ind.name}")
    return 0


def _find_indicator(registry, indicator_id: str):
    match = next((i for i in registry if i.id == indicator_id), None)
    if match is None:
        print(f"kyodo-desk: no indicator {indicator_id!r}; see `kyodo-desk indicators list`", file=sys.stderr)
    return match


def cmd_indicators_set_target(args: argparse.Namespace) -> int:
    from store import indicators as figures
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    value = parse_number(args.value)
    if _find_indicator(registry, args.indicator) is None or value is None:
        return 2
    with session_scope(desk.db) as session:
        figures.set_target(session, args.indicator, value, args.by)
    print(f"target of {args.indicator} set to {value:g}")
    return 0


def cmd_indicators_report(args: argparse.Namespace) -> int:
    import re

    from store import indicators as figures
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    indicator = _find_indicator(registry, args.indicator)
    value = parse_number(args.value)
    if indicator is None:
        return 2
    if value is None:
        print(f"kyodo-desk: {args.value!r} is not a number", file=sys.stderr)
        return 2
    if not re.fullmatch(r"\d{4}-\d{2}|FY\d{4}", args.period):
        print("kyodo-desk: the period is a month (2026-10) or a fiscal year (FY2026)", file=sys.stderr)
        return 2
    with session_scope(desk.db) as session:
        figures.report(session, indicator.id, args.period, value, args.by, args.note)
    print(f"{indicator.name} {args.period}: {indicator.format(value)} recorded")
    return 0


def cmd_report_annual(args: argparse.Namespace) -> int:
    from bot import report
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    with session_scope(desk.db) as session:
        paths = report.write(session, registry, args.fiscal_year, desk.config.tz, Path(args.out),
                             desk.knowledge.profile.city)
    for path in paths:
        print(path)
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    from store import privacy
    from store.db import session_scope

    desk, _registry = _desk_and_registry()
    with session_scope(desk.db) as session:
        counts = privacy.erase_person(session, "line", args.line_user, args.by, desk.clock())
    print("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("Messages already posted in Slack threads are not touched by this: delete them in Slack if needed.")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from handlers.terminal import run

    desk = wiring.build_desk(Settings.from_env())
    return run(lambda event: desk.handle("cli", args.user, event))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyodo-desk", description="協働のまちづくり窓口 chat bot")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question from the knowledge base")
    ask.add_argument("question", nargs="*", help="the question (Japanese)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--batch", metavar="FILE", help="JSON lines with id and q; prints JSON lines")
    ask.set_defaults(func=cmd_ask)

    serve = sub.add_parser("serve", help="run the desk: web chat, LINE webhook, worker, sender")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="processes (use PostgreSQL for more than one)")
    serve.add_argument("--role", choices=SERVE_ROLES, default="all",
                       help="all: everything in each process; web: endpoints only; worker: inbox worker, "
                            "outbox sender and scheduler (run web and worker processes side by side on PostgreSQL)")
    serve.set_defaults(func=cmd_serve)

    chat = sub.add_parser("chat", help="talk to the desk in the terminal, as a citizen")
    chat.add_argument("--user", default="terminal", help="who you are (conversations are kept per user)")
    chat.set_defaults(func=cmd_chat)

    line = sub.add_parser("line", help="LINE channel tools").add_subparsers(dest="line_command", required=True)
    line.add_parser("richmenu", help="create and set the default rich menu (idempotent)").set_defaults(
        func=cmd_line_richmenu)

    remind = sub.add_parser("remind", help="scheduled reminders").add_subparsers(dest="remind_command", required=True)
    run = remind.add_parser("run", help="post what is due now (or at --now); --dry-run only shows it")
    run.add_argument("--now", help="ISO 8601 time to act as (default: now)")
    run.add_argument("--dry-run", action="store_true")
    run.set_defaults(func=cmd_remind_run)

    ind = sub.add_parser("indicators", help="the plan's indicators").add_subparsers(dest="indicators_command", required=True)
    ind.add_parser("list", help="every indicator with baseline, target and latest figure").set_defaults(func=cmd_indicators_list)
    target = ind.add_parser("set-target", help="set an indicator's target")
    target.add_argument("indicator")
    target.add_argument("value")
    target.add_argument("--by", default="cli")
    target.set_defaults(func=cmd_indicators_set_target)
    rep = ind.add_parser("report", help="record a figure without Slack")
    rep.add_argument("indicator")
    rep.add_argument("period", help="2026-10 (a month) or FY2026 (a fiscal year)")
    rep.add_argument("value")
    rep.add_argument("--note", default="")
    rep.add_argument("--by", default="cli")
    rep.set_defaults(func=cmd_indicators_report)

    privacy = sub.add_parser("privacy", help="personal data").add_subparsers(dest="privacy_command", required=True)
    erase = privacy.add_parser("erase", help="remove one person's personal data (an audit record is kept)")
    erase.add_argument("--line-user", required=True, help="the person's LINE user id")
    erase.add_argument("--by", required=True, help="who asked for / carried out the erasure (for the audit record)")
    erase.set_defaults(func=cmd_privacy_erase)

    rpt = sub.add_parser("report", help="reports").add_subparsers(dest="report_command", required=True)
    annual = rpt.add_parser("annual", help="the yearly indicator report: Markdown, CSV and a PNG chart")
    annual.add_argument("--fiscal-year", type=int, required=True)
    annual.add_argument("--out", default="reports")
    annual.set_defaults(func=cmd_report_annual)

    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    ev = kb.add_parser("eval", help="top-1/top-3 hit rate and abstention accuracy on a question file")
    ev.add_argument("file")
    ev.add_argument("-v", "--verbose", action="store_true", help="one line per question")
    ev.set_defaults(func=cmd_kb_eval)
    kb.add_parser("dump", help="every passage as JSON lines").set_defaults(func=cmd_kb_dump)
    lint = kb.add_parser("lint", help="check the knowledge files")
    lint.add_argument("folder", nargs="?", help="knowledge folder (default: KYODO_KNOWLEDGE_DIR or Okayama)")
    lint.set_defaults(func=cmd_kb_lint)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from knowledge.entries import KnowledgeError

    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"kyodo-desk: a setting is wrong: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(f"kyodo-desk: the knowledge files have problems:\n{exc}", file=sys.stderr)
        return 2
