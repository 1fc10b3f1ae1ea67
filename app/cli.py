"""The `kyodo-desk` command line."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from app import groups_cli, kb_cli, wiring
from app.settings import SERVE_ROLES, Settings, SettingsError
from bot.numbers import parse_number

THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(11)]


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def cmd_ask(args: argparse.Namespace) -> int:
    kb = wiring.answering_knowledge(Settings.from_env())
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

    try:
        questions = load_questions(Path(args.file))
    except (OSError, ValueError) as error:
        print(f"kyodo-desk: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    unlabelled = [str(q.get("id", i + 1) if isinstance(q, dict) else i + 1) for i, q in enumerate(questions)
                  if not isinstance(q, dict) or "q" not in q or not ("expect" in q or q.get("abstain"))]
    if unlabelled:
        print(f"kyodo-desk: {len(unlabelled)} line(s) lack a question (q) or its label (expect, or abstain), first "
              f"{unlabelled[0]}; a set with its labels in a separate file: bench/holdout_report.py QUESTIONS LABELS",
              file=sys.stderr)
        return 2
    kb = wiring.knowledge(Settings.from_env())
    report = evaluate(kb, questions)
    answerable, out_of_scope = report.answerable, report.out_of_scope
    top1, declined = report.at_threshold(kb.threshold)
    print(f"questions: {len(answerable)} answerable, {len(out_of_scope)} out of scope (threshold {kb.threshold})")
    print(f"top-1 hit rate: {top1:.1%}")
    print(f"top-3 hit rate: {report.rate(answerable, lambda c: c.top3):.1%}")
    print(f"abstention accuracy: {declined:.1%} of out-of-scope declined; "
          f"{report.rate(answerable, lambda c: c.abstained):.1%} of answerable declined")
    reliability, given = report.reliability(kb.threshold)
    print(f"reliability: {reliability:.1%} of {given} answers given are right")
    print(f"offered: {report.rate(answerable, lambda c: c.offered):.1%} of answerable declined with the right "
          "entry among the 「もしかして」 buttons")
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
    from knowledge.entries import load_entries, vocabulary_problems

    folder = Path(args.folder or Settings.from_env().knowledge_dir or DEFAULT_FOLDER)
    result = load_entries(folder)
    problems = result.problems + vocabulary_problems(folder, result.entries)
    for problem in problems:
        print(problem)
    print(f"{len(result.entries)} entries, {len(problems)} problem(s) in {folder}")
    return 1 if problems else 0


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
        print("Slack is not configured: nothing was posted (the text is above); the posts wait in the outbox "
              "until Slack is set up.")
        return
    from bot.worker import OutboxSender
    from handlers.slack import SlackChannel, web_client

    # take_back=False: a `serve` may be running beside this command, holding rows of its own.
    OutboxSender(desk.db, {"slack": SlackChannel(web_client(settings.slack), desk, settings.slack)},
                 take_back=False).drain()


def cmd_remind_run(args: argparse.Namespace) -> int:
    from scheduler.jobs import run_due

    desk, registry = _desk_and_registry()
    now = args.now or desk.clock()
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
    from bot.indicators import value_problem
    from store import indicators as figures
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    indicator, value = _indicator_and_value(registry, args)
    if indicator is None or value is None:
        return 2
    if problem := value_problem(indicator, value):
        print(f"kyodo-desk: {problem}", file=sys.stderr)
        return 2
    with session_scope(desk.db) as session:
        figures.set_target(session, args.indicator, value, args.by)
    print(f"target of {args.indicator} set to {value:g}")
    return 0


def _indicator_and_value(registry, args: argparse.Namespace):
    """The indicator named and the value given, each None (said on stderr) when unusable."""
    indicator = _find_indicator(registry, args.indicator)
    value = parse_number(args.value)
    if value is None:
        print(f"kyodo-desk: {args.value!r} is not a number", file=sys.stderr)
    return indicator, value


def cmd_indicators_report(args: argparse.Namespace) -> int:
    from bot.indicators import figure_problem
    from store import indicators as figures
    from store.db import session_scope

    desk, registry = _desk_and_registry()
    indicator, value = _indicator_and_value(registry, args)
    if indicator is None or value is None:
        return 2
    problem = figure_problem(indicator, args.period, value, _now().astimezone(desk.config.tz).date())
    if problem:
        print(f"kyodo-desk: {problem}", file=sys.stderr)
        return 2
    with session_scope(desk.db) as session:
        earlier = figures.current(session, indicator.id, args.period)
        figures.report(session, indicator.id, args.period, value, args.by, args.note)
        replaced = f" (replaces {indicator.format(earlier.value)} reported by {earlier.reported_by})" if earlier else ""
    print(f"{indicator.name} {args.period}: {indicator.format(value)} recorded{replaced}")
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
    with session_scope(desk.db) as session:  # looked up, then closed: no transaction waits on the question
        person = (privacy.line_person(args.line_user) if args.line_user
                  else privacy.person_by_reference(session, args.reference))
        held = person is not None and privacy.holds_anything(session, person)
        references = [c.reference for c in privacy.cases_of(session, person)] if person is not None else []
    if person is None or not held:
        print(f"kyodo-desk: no case {args.reference} with a citizen to erase (unknown reference, or erased already)"
              if person is None else
              f"kyodo-desk: nothing is held for LINE user {args.line_user!r} (check the id, or erased already)",
              file=sys.stderr)
        return 2
    if not (args.yes or _confirmed_erasure(references)):
        print("kyodo-desk: nothing was erased")
        return 1
    with session_scope(desk.db) as session:
        counts = privacy.erase_person(session, person, args.by, desk.clock(), privacy.AuditKey(desk.config.audit_key))
    print("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if counts["cases"] and Settings.from_env().slack_enabled:
        _flush_slack(desk)  # the desk's messages in the cases' Slack threads deleted, the cards redrawn
    elif counts["cases"]:
        print("Slack is not configured: the deletion of the cases' Slack thread messages waits in the outbox.")
    print("Notes staff typed in a case's Slack thread are not the desk's to delete: remove them in Slack if needed.")
    return 0


def _line_user_id(text: str) -> str:
    text = text.strip()
    if not text or not text.isascii() or not text.isprintable() or " " in text or len(text) > 64:
        raise argparse.ArgumentTypeError(f"{text!r}: a LINE user id looks like U4af4980629…")
    return text


def _confirmed_erasure(references: list[str]) -> bool:
    """Erasure cannot be undone: say what goes and ask (a script passes --yes)."""
    cases = f"案件 {len(references)} 件（{', '.join(references)}）の個人情報、" if references else ""
    print(f"この人の{cases}会話・メッセージの記録を削除します。元に戻せません。")
    try:
        answer = input("削除しますか？ [y/N]: ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _iso_time(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: 日時は 2026-12-01T09:00:00+09:00 の形で指定してください") from None


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: 日付は 2026-04-01 の形で指定してください") from None


def _console(action) -> int:
    """Run one staff-console action on the desk's database: a refused action (unknown reference or
    status, a closed case) is one line on stderr and exit code 2."""
    from bot.casework import CaseworkError
    from store.db import make_engine, migrate, session_scope

    settings = Settings.from_env()
    db = make_engine(settings.database_url)
    migrate(db)
    try:
        with session_scope(db) as session:
            return action(session, settings)
    except CaseworkError as exc:
        print(f"kyodo-desk: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()


def _citizen_channels(settings: Settings) -> dict:
    """The channels a staff message reaches citizens on, as `serve` has them: the web chat always
    (its next poll), LINE when configured (the server's sender pushes it)."""
    from handlers.web import WebChannel

    channels: dict = {"web": WebChannel()}
    if settings.line_enabled:
        from handlers.line import LineChannel

        channels["line"] = LineChannel(settings.line)
    return channels


def cmd_cases_list(args: argparse.Namespace) -> int:
    from bot import console

    def show(session, settings: Settings) -> int:
        rows = [console.overview(case, settings.desk.tz) for case in console.listing(session, args.status, args.limit)]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=1))
            return 0
        for row in rows:
            print(f"{row['reference']:12} {row['status']:8} {row['kind']:14} 担当: {row['assignee'] or '—':10} "
                  f"受付 {row['received']}  {row['summary']}")
        print(f"{len(rows)} 件（{args.status}）" if rows else f"該当する案件はありません（{args.status}）。")
        return 0
    return _console(show)


def cmd_cases_show(args: argparse.Namespace) -> int:
    from bot import console

    def show(session, settings: Settings) -> int:
        print("\n".join(console.details(session, console.find(session, args.reference), settings.desk.tz)))
        return 0
    return _console(show)


def _delivery(done, verb: str) -> str:
    from store.privacy import ERASED

    if not done.reached and done.case.user_id == ERASED:
        return f"{done.case.reference}: {verb}。この案件の個人情報は削除済みのため、市民には届けられません。"
    if not done.reached:
        return f"{done.case.reference}: {verb}。市民には届けられません（連絡手段がありません）。`cases show` の連絡先をご利用ください。"
    where = "次にウェブチャットを開いたときに" if done.case.channel == "web" else f"{done.case.channel} で"
    return f"{done.case.reference}: {verb}。市民には{where}届きます。"


def cmd_cases_reply(args: argparse.Namespace) -> int:
    from bot import console

    def reply(session, settings: Settings) -> int:
        done = console.reply(session, _citizen_channels(settings), args.reference, args.text, args.by,
                             _now())
        print(_delivery(done, "返信を記録しました"))
        return 0
    return _console(reply)


def cmd_cases_status(args: argparse.Namespace) -> int:
    from bot import console

    def change(session, settings: Settings) -> int:
        done = console.set_status(session, _citizen_channels(settings), args.reference, args.status, args.note,
                                  args.by, _now())
        print(_delivery(done, f"ステータスを「{done.case.status}」にしました"))
        return 0
    return _console(change)


def cmd_cases_export(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot import console, staffdesk

    def export(session, settings: Settings) -> int:
        tz = settings.desk.tz
        start, end = console.export_range(args.first, args.last, _now().astimezone(tz).date())
        data, count = staffdesk.export_csv(session, start, end, tz)
        try:
            Path(args.out).write_bytes(data)
        except OSError as exc:
            print(f"kyodo-desk: {args.out} に書き込めません: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"{count} 件（{start}〜{end - timedelta(days=1)} の受付）を {args.out} に書き出しました。")
        return 0
    return _console(export)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def cmd_chat(args: argparse.Namespace) -> int:
    from handlers.terminal import run

    desk = wiring.build_desk(Settings.from_env())
    return run(lambda event: desk.handle("cli", args.user, event))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyodo-desk", description="協働のまちづくり窓口 chat bot")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_ask_parser(sub)
    _add_serve_parser(sub)
    _add_chat_parser(sub)
    _add_line_parser(sub)
    _add_remind_parser(sub)
    _add_indicators_parser(sub)
    _add_cases_parser(sub)
    _add_privacy_parser(sub)
    _add_report_parser(sub)
    _add_kb_parser(sub)
    groups_cli.add_parser(sub)
    return parser


def _add_ask_parser(sub) -> None:
    ask = sub.add_parser("ask", help="answer one question from the knowledge base")
    ask.add_argument("question", nargs="*", help="the question (Japanese)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--batch", metavar="FILE", help="JSON lines with id and q; prints JSON lines")
    ask.set_defaults(func=cmd_ask)


def _add_serve_parser(sub) -> None:
    serve = sub.add_parser("serve", help="run the desk: web chat, LINE webhook, worker, sender")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="processes (use PostgreSQL for more than one)")
    serve.add_argument("--role", choices=SERVE_ROLES, default="all",
                       help="all: everything in each process; web: endpoints only; worker: inbox worker, "
                            "outbox sender and scheduler (run web and worker processes side by side on PostgreSQL)")
    serve.set_defaults(func=cmd_serve)


def _add_chat_parser(sub) -> None:
    chat = sub.add_parser("chat", help="talk to the desk in the terminal, as a citizen")
    chat.add_argument("--user", default="terminal", help="who you are (conversations are kept per user)")
    chat.set_defaults(func=cmd_chat)


def _add_line_parser(sub) -> None:
    line = sub.add_parser("line", help="LINE channel tools").add_subparsers(dest="line_command", required=True)
    line.add_parser("richmenu", help="create and set the default rich menu (idempotent)").set_defaults(
        func=cmd_line_richmenu)


def _add_remind_parser(sub) -> None:
    remind = sub.add_parser("remind", help="scheduled reminders").add_subparsers(dest="remind_command", required=True)
    run = remind.add_parser("run", help="post what is due now (or at --now); --dry-run only shows it")
    run.add_argument("--now", type=_iso_time, help="ISO 8601 time to act as (default: now)")
    run.add_argument("--dry-run", action="store_true")
    run.set_defaults(func=cmd_remind_run)


def _add_indicators_parser(sub) -> None:
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


def _add_privacy_parser(sub) -> None:
    privacy = sub.add_parser("privacy", help="personal data").add_subparsers(dest="privacy_command", required=True)
    erase = privacy.add_parser("erase", help="remove one person's personal data (an audit record is kept)")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--line-user", type=_line_user_id, help="the person's LINE user id")
    who.add_argument("--reference", help="a case's reference number (S-2026-0001): its citizen, LINE or web chat")
    erase.add_argument("--by", required=True, help="who asked for / carried out the erasure (for the audit record)")
    erase.add_argument("--yes", action="store_true", help="erase without asking to confirm (for scripts)")
    erase.set_defaults(func=cmd_privacy_erase)


def _add_report_parser(sub) -> None:
    rpt = sub.add_parser("report", help="reports").add_subparsers(dest="report_command", required=True)
    annual = rpt.add_parser("annual", help="the yearly indicator report: Markdown, CSV and a PNG chart")
    annual.add_argument("--fiscal-year", type=int, required=True)
    annual.add_argument("--out", default="reports")
    annual.set_defaults(func=cmd_report_annual)


def _add_kb_parser(sub) -> None:
    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    ev = kb.add_parser("eval", help="top-1/top-3 hit rate and abstention accuracy on a question file")
    ev.add_argument("file")
    ev.add_argument("-v", "--verbose", action="store_true", help="one line per question")
    ev.set_defaults(func=cmd_kb_eval)
    kb.add_parser("dump", help="every passage as JSON lines").set_defaults(func=cmd_kb_dump)
    lint = kb.add_parser("lint", help="check the knowledge files")
    lint.add_argument("folder", nargs="?", help="knowledge folder (default: KYODO_KNOWLEDGE_DIR or Okayama)")
    lint.set_defaults(func=cmd_kb_lint)
    kb_cli.add_parsers(kb)


def _add_cases_parser(sub) -> None:
    cases = sub.add_parser("cases", help="the staff console: cases without Slack").add_subparsers(
        dest="cases_command", required=True)
    listing = cases.add_parser("list", help="cases to pick from, newest first (no contact data)")
    listing.add_argument("--status", default="open",
                         help="open (default), unassigned, all, or one status (受付, 対応中, 協議中, …)")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=cmd_cases_list)
    show = cases.add_parser("show", help="one case in full: answers, contact data, history")
    show.add_argument("reference", help="the reference number, e.g. S-2026-0001")
    show.set_defaults(func=cmd_cases_show)
    reply = cases.add_parser("reply", help="send a message to the case's citizen")
    reply.add_argument("reference")
    reply.add_argument("text")
    reply.add_argument("--by", required=True, help="your name (recorded in the case's history)")
    reply.set_defaults(func=cmd_cases_reply)
    status = cases.add_parser("status", help="move the case to another status (the citizen is told)")
    status.add_argument("reference")
    status.add_argument("status", help="受付, 対応中, 協議中, マッチング成立, 取組化, 完了, 見送り or 取り下げ")
    status.add_argument("--note", default="", help="an internal note on the change (not sent to the citizen)")
    status.add_argument("--by", required=True, help="your name (recorded in the case's history)")
    status.set_defaults(func=cmd_cases_status)
    export = cases.add_parser("export", help="cases received in a period as CSV (Excel opens it)")
    export.add_argument("--from", dest="first", type=_iso_date, help="first day (default: start of the fiscal year)")
    export.add_argument("--to", dest="last", type=_iso_date, help="last day, included (default: today)")
    export.add_argument("--out", required=True, help="the CSV file to write")
    export.set_defaults(func=cmd_cases_export)


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
    except BrokenPipeError:  # `kyodo-desk ask … | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 0
