"""Building the citizen-facing replies: menus, prompts, the summary, answers. Text lives here."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from bot.forms import SKIPPED, Field, Form
from bot.messages import Card, Choice, Say
from knowledge.answers import Answer
from store import case_status

REFERENCE_SLOT = "{reference}"
POSTBACK_LIMIT = 300


def postback(action: str, **values: str) -> str:
    data = urlencode({"a": action, **values})
    return data[:POSTBACK_LIMIT]


def parse_postback(data: str) -> dict[str, str]:
    try:
        return dict(parse_qsl(data or "", keep_blank_values=True))
    except ValueError:
        return {}


MENU_CHOICES = (
    Choice("質問する", postback("ask_prompt")),
    Choice("相談する", postback("consult")),
    Choice("提案する", postback("propose")),
    Choice("状況確認", postback("status")),
)
TO_STAFF = Choice("職員に相談する", postback("consult"))
TO_MENU = Choice("メニュー", postback("menu"))


def menu(lead: str = "ご用件をお選びください。") -> Say:
    return Say(lead, MENU_CHOICES)


def greeting(desk_name: str) -> Say:
    return Say(
        f"友だち追加ありがとうございます。{desk_name}です。\n"
        "協働のまちづくり、補助制度、市への協働提案についてのご質問にお答えし、"
        "ご相談やご提案をお預かりします。",
        MENU_CHOICES,
    )


def help_text() -> Say:
    return Say(
        "この窓口でできること:\n"
        "・協働のまちづくり条例、協働推進計画、補助制度、センターについての質問にお答えします。\n"
        "・協働の相談や、市への協働提案（条例第10条）をお預かりします。\n"
        "・お預かりした相談・提案の状況をお知らせします。\n"
        "入力中は「戻る」「やめる」「最初から」も使えます。",
        MENU_CHOICES,
    )


def ask_prompt() -> Say:
    return Say("ご質問を文章で送ってください。例:「町内会の活動に使える補助金はある？」", (TO_MENU,))


def consent_notice(form: Form, token: str, retention_years: int, centre: str) -> Say:
    return Say(
        f"{form.title}の前に、個人情報の取り扱いをご確認ください。\n"
        "・目的: ご相談・ご提案への対応と、そのご連絡のためだけに使います。\n"
        f"・見る人: 市の協働担当職員と{centre}の担当者だけです。\n"
        f"・保存期間: 対応が終わってから{retention_years}年後に、個人を特定できない形にします。\n"
        "・取り消し: 入力中は「やめる」でいつでも中止できます。送信後の削除はセンターにお申し出ください。\n"
        "同意いただけますか？",
        (Choice("同意する", postback("consent", t=token, v="yes")),
         Choice("同意しない", postback("consent", t=token, v="no"))),
    )


def consent_declined() -> Say:
    return Say("承知しました。個人情報はお預かりしていません。ご質問には、このままお答えできます。", MENU_CHOICES)


def field_prompt(form: Form, field: Field, token: str, number: int, total: int,
                 current: str | None = None, lead: str = "") -> Say:
    lines = [lead] if lead else []
    lines.append(f"（{number}/{total}）{field.prompt}")
    if field.hint:
        lines.append(field.hint)
    if current and current != SKIPPED:
        lines.append(f"いまの回答: {current}")
    choices = [Choice(label, postback("choose", t=token, f=field.key, i=str(i))) for i, label in enumerate(field.choices)]
    if field.optional:
        choices.append(Choice("スキップ", postback("skip", t=token, f=field.key)))
    if number > 1:
        choices.append(Choice("戻る", postback("back", t=token)))
    choices.append(Choice("やめる", postback("cancel", t=token)))
    return Say("\n".join(lines), tuple(choices))


def too_many_tries(field: Field, token: str) -> Say:
    return Say(
        f"「{field.label}」がうまく受け付けられませんでした。この質問を飛ばすか、職員に相談できます。",
        (Choice("もう一度入力", postback("retry", t=token)),
         Choice("飛ばす", postback("skip", t=token, f=field.key)),
         Choice("職員と話したい", postback("human")),
         Choice("やめる", postback("cancel", t=token))),
    )


def use_as_answer_choice(field: Field, token: str) -> Choice:
    return Choice("今の文を回答にする", postback("use_text", t=token, f=field.key))


def summary(form: Form, rows: list[tuple[Field, str]], token: str) -> Card:
    return Card(
        title=f"{form.title}の内容確認",
        body="この内容で送信してよろしいですか？",
        fields=tuple((f.label, value) for f, value in rows),
        buttons=(Choice("送信する", postback("submit", t=token)),
                 Choice("修正する", postback("edit", t=token)),
                 Choice("やめる", postback("cancel", t=token))),
        kind="summary",
    )


def pick_field(form: Form, rows: list[tuple[Field, str]], token: str) -> Say:
    choices = tuple(Choice(f.label[:20], postback("edit_field", t=token, f=f.key)) for f, _ in rows)
    return Say("どの項目を修正しますか？", choices[:12] + (Choice("確認に戻る", postback("review", t=token)),))


def confirm_cancel(form: Form, token: str) -> Say:
    return Say(
        f"入力中の{form.title}を破棄して、やめますか？",
        (Choice("やめる", postback("cancel_yes", t=token)), Choice("続ける", postback("cancel_no", t=token))),
    )


def cancelled() -> Say:
    return Say("入力内容を破棄しました。またいつでもどうぞ。", MENU_CHOICES)


def submitted(form: Form) -> Say:
    return Say(f"{form.title}を受け付けました。受付番号は {REFERENCE_SLOT} です。\n{form.next_steps}", MENU_CHOICES)


def expired(form: Form, days: int) -> Say:
    return Say(f"入力途中だった{form.title}は、{days}日間操作がなかったため破棄しました。お手数ですが、もう一度はじめからお願いします。")


def private_only() -> Say:
    return Say("ご相談・ご提案や状況確認は、個人情報を扱うため1対1のトークでお願いします。公式アカウントとのトーク画面からどうぞ。")


def stale_button() -> Say:
    return Say("このボタンは以前のやり取りのものです。")


def media_note() -> Say:
    return Say("申し訳ありません。この窓口では文字のメッセージだけを読み取れます。")


def human_note(centre: str, phone: str, in_form: bool) -> Say:
    lead = f"職員に直接つなぐには、相談として受け付けるのがいちばん確実です。お急ぎの場合は{centre}（電話 {phone}）へお電話ください。"
    if in_form:
        return Say(lead + "\n入力中の内容は、このまま送信すれば職員に届きます。")
    return Say(lead, (Choice("相談する", postback("consult")), TO_MENU))


def answer_replies(answer: Answer, extra: tuple[Choice, ...] = ()) -> list:
    if answer.abstained:
        return [Say(answer.text, extra + (TO_STAFF, TO_MENU))]
    related = tuple(Choice(r.label, postback("show", e=r.id)) for r in answer.related)
    footer = "\n".join(part for part in (answer.caution, f"出典: {answer.source}（{answer.as_of} 時点）") if part)
    return [Card(title=answer.title, body=answer.body, footer=footer, buttons=related,
                 choices=extra + related + (TO_STAFF, TO_MENU), kind="answer")]


def case_list(cases: list, titles: dict[str, str], closed: frozenset[str]) -> Card | Say:
    if not cases:
        return Say("お預かりしているご相談・ご提案はありません。", MENU_CHOICES)
    withdrawable = tuple(Choice(f"{c.reference}を取り下げる"[:20], postback("withdraw", r=c.reference))
                         for c in cases if c.status not in closed)[:3]
    return Card(
        title="ご相談・ご提案の状況",
        fields=tuple((f"{c.reference} {titles.get(c.kind, c.kind)}", f"{c.status}（{c.updated_at:%Y-%m-%d} 更新）") for c in cases),
        choices=MENU_CHOICES + withdrawable,
        kind="cases",
    )


def confirm_withdraw(reference: str) -> Say:
    return Say(f"受付番号 {reference} を取り下げますか？取り下げると、担当者の対応は終了します。",
               (Choice("取り下げる", postback("withdraw_yes", r=reference)), Choice("取り下げない", postback("menu"))))


def relayed(reference: str) -> Say:
    return Say(f"担当者にお伝えしました（受付番号 {reference}）。返信までしばらくお待ちください。"
               "ボットの案内に戻るには「メニュー」を押してください。", (TO_MENU,))


def case_not_found(reference: str) -> Say:
    return Say(f"受付番号 {reference} の案件は見つかりませんでした。番号をご確認ください。", MENU_CHOICES)


def in_progress(form: Form, token: str) -> Say:
    return Say(
        f"入力中の{form.title}があります。続けますか？",
        (Choice("続ける", postback("resume", t=token)), Choice("やめる", postback("cancel", t=token))),
    )


# What the citizen is told when their case reaches each status.
STATUS_NOTICE = {
    case_status.RECEIVED: "受付番号 {reference} のご相談・ご提案を受け付けました。",
    case_status.IN_PROGRESS: "受付番号 {reference} は、担当者が対応を始めました。",
    case_status.DISCUSSING: "受付番号 {reference} は、関係する部署や団体と協議を進めています。",
    case_status.MATCHED: "受付番号 {reference} は、協働の相手が見つかりました（マッチング成立）。担当者から詳しくご連絡します。",
    case_status.STARTED: "受付番号 {reference} は、協働の取組として動き出しました。ありがとうございます。",
    case_status.DONE: "受付番号 {reference} の対応が完了しました。ご利用ありがとうございました。",
    case_status.DECLINED: "受付番号 {reference} は、今回は見送りとなりました。詳しくは担当者からご説明します。",
    case_status.WITHDRAWN: "受付番号 {reference} の取り下げを受け付けました。",
}


def status_notice(status: str, reference: str) -> str:
    return STATUS_NOTICE[status].format(reference=reference)
