"""Block Kit for the staff desk: the case card, its thread texts, modals and App Home."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.casework import slack_escape, slack_pieces
from bot.forms import FORMS
from bot.introductions import REALIZED, IntroductionView
from bot.partner_search import Hit, SearchPage
from bot.registrations import APPROVE, GROUP_KIND, REJECT, REVISE
from bot.staffdesk import CasePartners
from knowledge.entries import MAX_BODY_CHARS, MAX_LABEL_CHARS
from store.case_status import CLOSED, FLOW
from store.models import Case, CaseEvent

SUMMARY_CHARS = 140
REPLY_MAX = 1400  # the preview carries the reply in private_metadata (3000 characters), escaped as JSON
MAX_TEXT = 2900  # a section's text must stay under 3000
MAX_POST_SECTIONS = 49
MAX_BLOCKS = 50  # in a message or a modal
GROUP_QUERY_MAX = 200  # the query rides in the もっと見る button's value (2000 characters)
MAX_INTRODUCTIONS_SHOWN = 5  # a card stays far below Slack's 50 blocks
REFUSAL = "この操作は協働担当の職員だけができます。"  # a message holds at most 50 blocks, the header included


def _jst(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "-"


def kind_title(case: Case) -> str:
    form = FORMS.get(case.kind)
    return form.title if form else case.kind


def name_of(case: Case) -> str:
    return case.answers.get("name") or case.answers.get("group_name") or "-"


def contact_of(case: Case) -> str:
    method = case.answers.get("contact_method")
    if method:
        return method
    return "電話・メール" if case.answers.get("phone") else "-"


def summary_of(case: Case) -> str:
    text = case.answers.get("title") or case.answers.get("content") or ""
    content = case.answers.get("content", "") if case.answers.get("title") else ""
    joined = f"{text}：{content}" if content else text
    return joined if len(joined) <= SUMMARY_CHARS else joined[:SUMMARY_CHARS - 1] + "…"


def card(case: Case, tz: ZoneInfo, partners: CasePartners | None = None) -> list[dict]:
    """The case card: its facts, its buttons, then (registration) the group applied for, or
    (consultation, proposal) the groups suggested and the introductions made."""
    if case.kind == GROUP_KIND:
        return _case_blocks(case, tz, registration_buttons(case)) + registration_blocks(case)
    value = str(case.id)
    buttons = [_button("担当する", "case_claim", value, "primary"), _button("市民に返信", "case_reply", value),
               _button("ステータス変更", "case_status", value), _button("詳細", "case_detail", value)]
    return _case_blocks(case, tz, buttons) + (partner_blocks(case, partners, tz) if partners else [])


def _case_blocks(case: Case, tz: ZoneInfo, buttons: list[dict]) -> list[dict]:
    assignee = f"<@{case.assignee}>" if case.assignee else "未定"
    fields = [
        ("種別", kind_title(case)), ("受付番号", case.reference),
        ("相談者区分", case.answers.get("applicant_type", "-")), ("名前・団体", name_of(case)),
        ("地域", case.answers.get("area", "-")), ("連絡方法", contact_of(case)),
        ("受付日時", _jst(case.created_at, tz)), ("担当", assignee),
        ("ステータス", f"*{case.status}*"),
    ]
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"{kind_title(case)} {case.reference}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{escape(v) if k != 'ステータス' and k != '担当' else v}"}
                                       for k, v in fields[:10]]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*概要*\n{escape(summary_of(case)) or '-'}"}},
        {"type": "actions", "block_id": f"case_actions:{case.id}", "elements": buttons},
    ]


def registration_buttons(case: Case) -> list[dict]:
    """承認 / 修正依頼 / 却下 while the registration is open; once decided, only 詳細."""
    value = str(case.id)
    detail = _button("詳細", "case_detail", value)
    if case.status in CLOSED:
        return [detail]
    return [_button(APPROVE, "registration_approve", value, "primary"), _button(REVISE, "registration_revise", value),
            _button(REJECT, "registration_reject", value, "danger"), detail]


def registration_blocks(case: Case) -> list[dict]:
    """The group as it would appear in the directory."""
    a = case.answers
    lines = [f"*{label}*: {escape(a.get(key) or '-')}" for key, label in (
        ("kind", "種類"), ("fields", "分野"), ("areas", "地域"), ("offers", "できること"), ("seeks", "さがしていること"),
        ("url", "URL"))]
    lines.append(f"*連絡先の公開*: {escape(a.get('contact_public') or '-')}")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": _cut("*登録内容*\n" + "\n".join(lines))}}]


def partner_blocks(case: Case, partners: CasePartners, tz: ZoneInfo) -> list[dict]:
    """Suggested groups, each with its reasons and a 紹介する button; then the introductions made
    (the latest few), each with 取組化 until it has that outcome."""
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": "*紹介候補の団体*" + (
        "" if partners.suggestions else "\n該当する団体は見つかりませんでした（`/kyodo groups 検索語` で名簿を探せます）。")}}]
    for suggestion in partners.suggestions:
        group = suggestion.group
        reasons = " ／ ".join(suggestion.reasons) or "内容が近い団体"
        text = f"*{escape(group.name)}*（{escape(group.kind)}）\n理由: {escape(reasons)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)},
                       "accessory": _button("紹介する", "partner_introduce", f"{case.id}|{group.id}")})
    shown = partners.introduced[-MAX_INTRODUCTIONS_SHOWN:]
    if len(partners.introduced) > len(shown):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"ほかに {len(partners.introduced) - len(shown)} 件の紹介（「詳細」で全件）")}]})
    blocks += [introduction_block(view, tz) for view in shown]
    return blocks


def introduction_block(view: IntroductionView, tz: ZoneInfo) -> dict:
    text = f"紹介済み: *{escape(view.group_name)}*（{_jst(view.at, tz)}・<@{escape(view.staff)}>）"
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)}}
    if view.outcome == REALIZED:
        block["text"]["text"] += f" — *{REALIZED}*"
    else:
        block["accessory"] = _button(f"{REALIZED}にする", "introduction_realize", f"{view.case_id}|{view.id}")
    return block


def card_text(case: Case) -> str:
    """The notification text (and the fallback for clients without blocks): no personal data."""
    return f"{kind_title(case)} {case.reference}（{case.status}）"


def answers_text(case: Case) -> str:
    """The case's answers as one text (cut to a section's length: see answers_blocks for all of them)."""
    return _cut(_answers(case))


def answers_blocks(case: Case) -> list[dict]:
    """The case's answers in full, for its thread: sections of at most MAX_TEXT characters each
    (a 2,000-character proposal content escaped for Slack takes two or three)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in slack_pieces(_answers(case), MAX_TEXT)[:MAX_POST_SECTIONS + 1]]


def _answers(case: Case) -> str:
    form = FORMS.get(case.kind)
    labels = {f.key: f.label for f in form.fields} if form else {}
    lines = [f"*{case.reference} の受付内容*"]
    lines += [f"*{labels.get(key, key)}*: {escape(value)}" for key, value in case.answers.items()]
    return "\n".join(lines)


def case_detail(case: Case, history: list[CaseEvent], tz: ZoneInfo) -> str:
    """The 詳細 button's answer: the answers and the case's history."""
    lines = [f"• {_jst(e.at, tz)} {escape(e.kind)} {escape(e.actor)}" for e in history]
    return _cut(answers_text(case) + "\n\n*履歴*\n" + "\n".join(lines))


def refusal_home() -> dict:
    """App Home for someone who is not staff."""
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": REFUSAL}}]}


def reply_modal(case: Case, draft: str = "") -> dict:
    return {
        "type": "modal", "callback_id": "reply_modal", "private_metadata": str(case.id),
        "title": {"type": "plain_text", "text": "市民に返信"},
        "submit": {"type": "plain_text", "text": "確認へ"}, "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{case.reference}（{escape(name_of(case))}）への返信です。"}},
            {"type": "input", "block_id": "message", "label": {"type": "plain_text", "text": "メッセージ"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": REPLY_MAX,
                         **({"initial_value": draft} if draft else {})}},
        ],
    }


def reply_preview(case: Case, text: str) -> dict:
    return {
        "type": "modal", "callback_id": "reply_confirm",
        "private_metadata": json.dumps({"case_id": case.id, "text": text}, ensure_ascii=False),
        "title": {"type": "plain_text", "text": "送信前の確認"},
        "submit": {"type": "plain_text", "text": "市民に送信する"}, "close": {"type": "plain_text", "text": "戻る"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{case.reference}* の市民に、次のとおり届きます。"}},
            {"type": "section", "text": {"type": "plain_text", "text": f"【担当者より・{case.reference}】\n{text}"[:MAX_TEXT]}},
        ],
    }


def status_modal(case: Case) -> dict:
    options = [{"text": {"type": "plain_text", "text": s}, "value": s} for s in FLOW if s != case.status]
    return {
        "type": "modal", "callback_id": "status_modal", "private_metadata": str(case.id),
        "title": {"type": "plain_text", "text": "ステータス変更"},
        "submit": {"type": "plain_text", "text": "変更する"}, "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{case.reference}: 現在「{case.status}」"}},
            {"type": "input", "block_id": "status", "label": {"type": "plain_text", "text": "新しいステータス"},
             "element": {"type": "static_select", "action_id": "value", "options": options}},
            {"type": "input", "block_id": "note", "optional": True, "label": {"type": "plain_text", "text": "メモ（職員のみ）"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def case_lines(cases: list[Case], tz: ZoneInfo) -> str:
    if not cases:
        return "該当する案件はありません。"
    return "\n".join(f"• *{c.reference}* {kind_title(c)} — {c.status} — 担当 {('<@' + c.assignee + '>') if c.assignee else '未定'}"
                     f" — {_jst(c.created_at, tz)}" for c in cases)


def home(mine: list[Case], unassigned: list[Case], overdue: list[Case], overdue_days: int, tz: ZoneInfo,
         follow_up: list[IntroductionView] | None = None) -> dict:
    follow_up = follow_up or []

    def section(title: str, text: str) -> list[dict]:
        return [{"type": "header", "text": {"type": "plain_text", "text": title}},
                {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)}}]

    return {"type": "home", "blocks": [
        *section(f"わたしの担当（{len(mine)}）", case_lines(mine, tz)),
        *section(f"未担当（{len(unassigned)}）", case_lines(unassigned, tz)),
        *section(f"対応が止まっている案件（{overdue_days}営業日以上）（{len(overdue)}）", case_lines(overdue, tz)),
        *section(f"結果が未記録の紹介（30日以上）（{len(follow_up)}）", follow_up_lines(follow_up, tz)),
    ]}


def follow_up_lines(views: list[IntroductionView], tz: ZoneInfo) -> str:
    if not views:
        return "ありません。"
    return "\n".join(f"• {escape(v.case_reference)} → *{escape(v.group_name)}* — {_jst(v.at, tz)} 紹介"
                     f"（<@{escape(v.staff)}>）— 取組につながったらカードの「{REALIZED}にする」へ" for v in views)


def introduce_modal(case: Case, group_id: int, group_name: str) -> dict:
    return {
        "type": "modal", "callback_id": "introduce_modal", "private_metadata": f"{case.id}|{group_id}",
        "title": {"type": "plain_text", "text": "団体を紹介する"},
        "submit": {"type": "plain_text", "text": "紹介を記録する"}, "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
                f"*{case.reference}*（{escape(name_of(case))}）に *{escape(group_name)}* を紹介します。\n"
                "記録するとマッチング件数に数えられます。")}},
            {"type": "input", "block_id": "agreed", "label": {"type": "plain_text", "text": "双方の合意"},
             "element": {"type": "checkboxes", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": "相談者と団体の双方が、紹介に同意しています"}, "value": "yes"}]}},
            {"type": "input", "block_id": "note", "optional": True, "label": {"type": "plain_text", "text": "メモ（職員のみ）"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def registration_modal(case: Case, decision: str) -> dict:
    label = "修正してほしい点（申請者に届きます）" if decision == REVISE else "見送りの理由（申請者に届きます）"
    return {
        "type": "modal", "callback_id": "registration_modal", "private_metadata": f"{case.id}|{decision}",
        "title": {"type": "plain_text", "text": f"団体登録の{decision}"},
        "submit": {"type": "plain_text", "text": f"{decision}を送る"}, "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
                f"*{case.reference}*「{escape(name_of(case))}」の団体登録を{decision}します。")}},
            {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": label},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def group_search(query: str, page: SearchPage, offset: int) -> list[dict]:
    """`/kyodo groups`: one page of the whole directory (non-public entries marked), with もっと見る."""
    if not page.hits:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"「{escape(query[:100])}」に合う団体は名簿にありません。"}}]
    last = offset + len(page.hits)
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": (
        f"「{escape(query[:100])}」の団体 {page.total} 件中 {offset + 1}〜{last} 件目（非公開の団体も含みます）")}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": _cut(group_hit_text(hit))}} for hit in page.hits]
    if page.next_cursor:
        value = json.dumps({"q": query[:GROUP_QUERY_MAX], "c": page.next_cursor}, ensure_ascii=False)
        blocks.append({"type": "actions", "elements": [_button("もっと見る", "groups_more", value)]})
    return blocks


def group_hit_text(hit: Hit) -> str:
    group = hit.group
    hidden = "" if group.status == "公開" else f" 【{escape(group.status)}】"
    contact = escape(group.contact or "-") + ("" if group.contact_public else "（非公開: センター経由）")
    lines = [f"*{escape(group.name)}*（{escape(group.kind)}）#{group.id}{hidden}",
             f"分野: {escape('・'.join(group.fields))} ／ 地域: {escape('・'.join(group.areas))}",
             f"できること: {escape(group.offers[:200] or '-')}", f"連絡先: {contact}"]
    if hit.reasons:
        lines.append("理由: " + escape(" ／ ".join(hit.reasons)))
    return "\n".join(lines)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def escape(text: object) -> str:
    """Text someone typed, shown as typed in mrkdwn: no mentions, no links (Slack's &, <, > rule)."""
    return slack_escape(str(text))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def indicator_modal(indicator_id: str, name: str, period: str, unit: str) -> dict:
    return {
        "type": "modal", "callback_id": "indicator_report_modal", "private_metadata": f"{indicator_id}|{period}",
        "title": {"type": "plain_text", "text": "成果指標の報告"},
        "submit": {"type": "plain_text", "text": "報告する"}, "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(name)}*\n対象期間: {escape(period)}"}},
            {"type": "input", "block_id": "value", "label": {"type": "plain_text", "text": f"値（{unit}）"},
             "element": {"type": "plain_text_input", "action_id": "text"}},
            {"type": "input", "block_id": "note", "optional": True, "label": {"type": "plain_text", "text": "備考"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def post_blocks(title: str, sections: list[dict]) -> list[dict]:
    """A scheduled post (bot/reminders.py): a header, then each section with its 報告する button."""
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for section in sections[:MAX_POST_SECTIONS]:
        text = "\n".join(escape(line) for line in section["lines"])
        if section.get("mentions"):
            text += " — " + " ".join(mention(who) for who in section["mentions"])
        block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)}}
        if section.get("report"):
            block["accessory"] = _button(section["report_label"][:75], "indicator_report", section["report"])
        elif section.get("button"):
            label, action_id, value = section["button"]
            block["accessory"] = _button(label[:75], action_id, value)
        blocks.append(block)
        if section.get("actions"):
            blocks.append({"type": "actions", "elements": [_button(label[:75], action_id, value)
                                                           for label, action_id, value in section["actions"][:25]]})
    return blocks[:MAX_BLOCKS]


def mention(who: str) -> str:
    """A staff member (U…) or a user group (S…) named in the indicator registry."""
    return f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"


def _modal(callback_id: str, title: str, submit: str, blocks: list[dict], metadata: str = "") -> dict:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": metadata,
            "title": {"type": "plain_text", "text": title[:24]}, "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "やめる"}, "blocks": blocks}


def _text_input(block_id: str, label: str, initial: str = "", multiline: bool = False, max_length: int = 500,
                optional: bool = False, hint: str = "") -> dict:
    element: dict = {"type": "plain_text_input", "action_id": "text", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    block = {"type": "input", "block_id": block_id, "optional": optional,
             "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _option(value: str, label: str) -> dict:
    return {"text": {"type": "plain_text", "text": _short(label, 75)}, "value": value[:150]}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _select(block_id: str, label: str, options: list[tuple[str, str]]) -> dict:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
            "element": {"type": "static_select", "action_id": "value",
                        "options": [_option(value, text) for value, text in options[:100]]}}


def _date_input(block_id: str, label: str, initial: str = "", optional: bool = False) -> dict:
    element: dict = {"type": "datepicker", "action_id": "value"}
    if initial:
        element["initial_date"] = initial
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": label}, "element": element}


def link_modal(question: str, candidates: list[tuple[str, str]]) -> dict:
    """既存の回答に結びつける: the question (editable) becomes another way of asking the chosen entry."""
    picker = (_select("entry", "どの回答に結びつけますか", [(i, f"{title}（{i}）") for i, title in candidates])
              if candidates else _text_input("entry", "結びつける項目のID", hint="`kyodo-desk kb dump` で一覧できます"))
    return _modal("unanswered_link_modal", "既存の回答に結びつける", "結びつける",
                  [_text_input("question", "市民の質問（この聞き方で答えるようになります）", question), picker])


def answer_modal(question: str, sources: list[tuple[str, str]], today: str) -> dict:
    """新しい回答を作る: a staff-made answer, checked like the knowledge files."""
    return _modal("unanswered_answer_modal", "新しい回答を作る", "登録する", [
        _text_input("question", "市民の質問", question),
        _text_input("title", "見出し", max_length=MAX_LABEL_CHARS, hint=f"ボタンにも出ます（{MAX_LABEL_CHARS}文字まで）"),
        _text_input("answer", "回答（です・ます）", multiline=True, max_length=MAX_BODY_CHARS,
                    hint=f"スマホの吹き出し1つに収まる{MAX_BODY_CHARS}文字まで"),
        _select("source", "出典", [(i, title) for i, title in sources]),
        _date_input("as_of", "情報の時点", today),
        _date_input("review_by", "見直し期限", optional=True),
    ])


def route_modal(question: str, words: str) -> dict:
    """対象外: questions with these words are declined with the city's general contact."""
    return _modal("unanswered_route_modal", "対象外（市の窓口を案内）", "登録する", [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"質問: 「{escape(_short(question, 200))}」\n"
                                     "この言葉を含む質問には、協働の窓口ではなく市の問い合わせ先を案内します。"}},
        _text_input("topic", "話題（返答で「〇〇については」と示します）", max_length=80,
                    hint="例: ごみの出し方や収集日"),
        _text_input("words", "質問に含まれる言葉（、で区切る）", words, max_length=200),
    ])
