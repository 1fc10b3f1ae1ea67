"""The /kyodo slash command. Answers go to the staff member alone (ephemeral); exports and the
yearly report are uploaded to their direct messages with the bot, never to a channel."""
from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

from slack_bolt import Ack, App, Respond

from bot.partner_search import InvalidCursor
from bot.unanswered import KIND_NAMES
from handlers import slack_blocks as blocks
from handlers.slack.services import REFUSAL, Services

STAFF_VERBS = ("cases", "case", "export", "report", "groups", "unanswered")
UNANSWERED_SHOWN = 15
SCOPES = ("mine", "open", "all")
HELP = ("*/kyodo の使い方*\n• `/kyodo ask 質問` ナレッジの回答（自分だけに表示）\n• `/kyodo cases [mine|open|all]` 案件一覧\n"
        "• `/kyodo case 受付番号` 案件の詳細\n• `/kyodo groups 検索語` 団体名簿の検索（非公開の団体も含む）\n"
        "• `/kyodo unanswered` 窓口が答えられなかった質問（似た質問ごと、多い順）\n"
        "• `/kyodo report [年度]` 成果指標のレポート（グラフと表、DM に届きます）\n"
        "• `/kyodo export [2026 | 2026-04 | 2026-04-01..2026-06-30]` 案件の CSV（DM に届きます）\n"
        "• `/kyodo help` この説明")


def register(app: App, services: Services) -> None:
    app.command("/kyodo")(partial(kyodo, services))


def kyodo(services: Services, ack: Ack, command: dict, respond: Respond) -> None:
    ack()
    words = str(command.get("text") or "").strip().split(maxsplit=1)
    verb, rest = (words[0].lower() if words else "help"), (words[1].strip() if len(words) > 1 else "")
    user = str(command.get("user_id") or "")
    if verb == "ask" and rest:
        text = services.desk.ask(rest)
    elif verb not in STAFF_VERBS:
        text = HELP
    elif not services.staff.is_staff(user):
        text = REFUSAL
    elif verb == "groups":
        text, page_blocks = group_page(services, rest, "")
        respond(response_type="ephemeral", text=text, blocks=page_blocks)
        return
    else:
        text = staff_answer(services, verb, rest, user)
    respond(response_type="ephemeral", text=text)


def group_page(services: Services, query: str, cursor: str) -> tuple[str, list[dict]]:
    """A page of the whole directory for a query: the notification text and the blocks."""
    if not query:
        text = "`/kyodo groups 検索語` の形で、分野・地域・団体名などを入れてください（例: `/kyodo groups 北区 防災`）。"
        return text, []
    try:
        page = services.desk.search_groups(query, cursor or None)
    except InvalidCursor:
        return "もう一度 `/kyodo groups` で検索してください。", []
    offset = int(cursor) if cursor.isdigit() else 0
    return f"団体名簿の検索「{query[:100]}」: {page.total} 件", blocks.group_search(query, page, offset)


def staff_answer(services: Services, verb: str, rest: str, user: str) -> str:
    if verb == "cases":
        scope = rest.lower() or "open"
        if scope not in SCOPES:
            return "`/kyodo cases mine`・`open`・`all` のどれかを指定してください。"
        return blocks.case_lines(services.desk.listing(scope, user), services.desk.tz)
    if verb == "case":
        case = services.desk.case_by_reference(rest)
        if case is None:
            return f"受付番号 {blocks.escape(rest)} の案件は見つかりません。"
        return f"{blocks.answers_text(case)}\n*ステータス*: {case.status}"
    if verb == "export":
        return export(services, rest, user)
    if verb == "unanswered":
        return unanswered(services)
    return annual_report(services, rest, user)


def unanswered(services: Services) -> str:
    groups = services.desk.unanswered()
    if not groups:
        return "この90日間に窓口が答えられなかった質問はありません。"
    lines = [f"*窓口が答えられなかった質問* {sum(g.count for g in groups)}件（{len(groups)}グループ、多い順）"]
    for group in groups[:UNANSWERED_SHOWN]:
        kinds = "、".join(f"{KIND_NAMES.get(k, k)} {n}" for k, n in group.kinds.items())
        lines.append(f"• {group.count}件（{kinds}）{group.handled_note}: "
                     + " ／ ".join(f"「{blocks.escape(q)}」" for q in group.shown[:3]))
    lines.append("直し方: `kyodo-desk kb faq add` / `kb faq link`（数秒で回答に反映）")
    return "\n".join(lines)


def export(services: Services, period: str, user: str) -> str:
    found = services.desk.export(period)
    if found is None:
        return "期間は 2026（年度）、2026-04（月）、2026-04-01..2026-06-30 の形で指定してください。"
    services.client.files_upload_v2(channel=direct_channel(services, user), content=found.content,
                                    filename=f"kyodo-cases-{found.label}.csv", title=f"案件一覧 {found.label}（{found.count}件）")
    return f"{found.label} の案件 {found.count} 件の CSV をあなたの DM に送りました。"


def annual_report(services: Services, year: str, user: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        made = services.desk.annual_report(year, Path(folder))
        services.client.files_upload_v2(
            channel=direct_channel(services, user), title=f"成果指標 {made.fiscal_year}年度",
            initial_comment=made.markdown[:3500],
            file_uploads=[{"file": str(made.chart), "filename": made.chart.name, "title": f"成果指標の推移 {made.fiscal_year}年度"},
                          {"file": str(made.csv), "filename": made.csv.name, "title": "成果指標 CSV"}])
    return f"{made.fiscal_year}年度の成果指標レポートをあなたの DM に送りました。"


def direct_channel(services: Services, user: str) -> str:
    """The staff member's direct messages with the bot: what is exported there is theirs alone."""
    return services.client.conversations_open(users=user)["channel"]["id"]
