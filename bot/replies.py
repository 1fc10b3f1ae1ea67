"""Building the citizen-facing replies: menus, prompts, the summary, answers. The desk's own
wording lives here; what differs from city to city comes from the city's texts (city.yaml)."""
from __future__ import annotations

import re
from functools import lru_cache

from bot.forms import SKIPPED, Field
from bot.messages import Card, CaseView, Choice, Say
from bot.partner_search import GroupCard, SearchPage
from bot.postbacks import Action, about_question, encode
from knowledge.answers import Answer, Related
from knowledge.profile import CityProfile, load_city

REFERENCE_SLOT = "{reference}"
CHECK_CODE_SLOT = "{check_code}"
_PHONE = re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}")

MENU_CHOICES = (
    Choice("質問する", encode(Action.ASK_PROMPT)),
    Choice("相談する", encode(Action.CONSULT)),
    Choice("提案する", encode(Action.PROPOSE)),
    Choice("仲間をさがす", encode(Action.FIND_GROUPS)),
    Choice("団体を登録する", encode(Action.REGISTER)),
    Choice("補助金をさがす", encode(Action.GRANTS)),
    Choice("状況確認", encode(Action.STATUS)),
)
TO_STAFF = Choice("職員に相談する", encode(Action.CONSULT))
TO_MENU = Choice("メニュー", encode(Action.MENU))
USE_AS_ANSWER_HINT = "今の文をそのまま回答にする場合は「今の文を回答にする」を押してください。"
SIDE_QUESTION_UNANSWERED = "ご質問でしたら、お答えできる情報は見つかりませんでした。" + USE_AS_ANSWER_HINT
CASES_PER_PAGE = 5  # a status card fits a phone screen and LINE's bubble size, however many cases


def to_staff(question: str) -> Choice:
    """職員に相談する for a question: the consultation it starts carries the question to the staff."""
    return Choice(TO_STAFF.label, about_question(Action.CONSULT, "", question)) if question.strip() else TO_STAFF


def menu(lead: str = "ご用件をお選びください。") -> Say:
    return Say(lead, MENU_CHOICES)


def greeting(city: CityProfile, opening: str = "友だち追加ありがとうございます。") -> Say:
    return Say(f"{opening}{city.desk_name}です。\n{city.texts.greeting}", MENU_CHOICES)


def welcome(city: CityProfile) -> Say:
    """A greeting typed, or a first visit to the web chat: at any hour."""
    return greeting(city, "ご利用ありがとうございます。")


def you_are_welcome() -> Say:
    return Say("どういたしまして。ほかにもご質問があれば、いつでもどうぞ。", MENU_CHOICES)


def noted() -> Say:
    return Say("承知しました。ほかにご用件があれば、いつでもどうぞ。", MENU_CHOICES)


def help_text(city: CityProfile) -> Say:
    return Say(f"{city.texts.help}\n入力中は「戻る」「やめる」「最初から」も使えます。", MENU_CHOICES)


def ask_prompt() -> Say:
    return Say("ご質問を文章で送ってください。例:「町内会の活動に使える補助金はある？」", (TO_MENU,))


def consent_notice(title: str, city: CityProfile, token: str, retention_years: int, published: bool = False) -> Say:
    """`published`: what is entered will be shown to anyone once approved (団体登録)."""
    purpose, viewers = "ご相談・ご提案への対応と、そのご連絡のためだけ", f"{city.texts.consent_viewers}だけです"
    if published:
        purpose = "登録内容の確認、承認後の団体検索への掲載、そのご連絡のため"
        viewers = (f"{city.texts.consent_viewers}です。承認後は、団体名・種類・分野・地域・できること・さがしていること・"
                   "ウェブサイト（連絡先は公開に同意した場合だけ）を、団体検索でどなたでも見られます")
    return Say(
        f"{title}の前に、個人情報の取り扱いをご確認ください。\n"
        f"・目的: {purpose}に使います。\n"
        f"・見る人: {viewers}。\n"
        f"・保存期間: 対応が終わってから{retention_years}年後に、個人を特定できない形にします。\n"
        f"・取り消し: 入力中は「やめる」でいつでも中止できます。{city.texts.consent_removal}\n"
        "同意いただけますか？",
        _consent_choices(token),
    )


def _consent_choices(token: str) -> tuple[Choice, ...]:
    return (Choice("同意する", encode(Action.CONSENT, token=token, value="yes")),
            Choice("同意しない", encode(Action.CONSENT, token=token, value="no")))


def consent_buttons(token: str, english: bool = False) -> Say:
    """The consent asked again in a line, for an answer typed that is neither yes nor no."""
    note = "\n(To go on, please tap 同意する (I agree) below, or 同意しない (I do not agree).)" if english else ""
    return Say("お手数ですが、下の「同意する」か「同意しない」を押してください。" + note, _consent_choices(token))


def consent_declined() -> Say:
    return Say("承知しました。個人情報はお預かりしていません。ご質問には、このままお答えできます。", MENU_CHOICES)


def field_prompt(field: Field, prompt: str, choices: tuple[str, ...], token: str, step: tuple[int, int],
                 current: str | None = None, lead: str = "", picked: tuple[str, ...] = (),
                 editing: bool = False, back: bool = True) -> Say:
    """`step`: (this question's number, how many will be asked); `picked`: the choices tapped so far
    on a field that takes several (marked ✓, with 決定 first); `editing`: an answer changed from the
    summary, which 確認に戻る keeps; `back`: whether 戻る is offered (not while a changed answer's consequence
    is asked: going back would undo answers)."""
    number, total = step
    lines = [lead] if lead else []
    lines.append(f"（{number}/{total}）{prompt}")
    if field.hint:
        lines.append(field.hint)
    if current and current != SKIPPED:
        lines.append(f"いまの回答: {current}")
    if picked:
        lines.append(f"選択中: {'、'.join(picked)}（もう一度押すと外せます）")
    buttons = [Choice(("✓" if label in picked else "") + label,
                      encode(Action.CHOOSE, token=token, field=field.key, index=str(i)))
               for i, label in enumerate(choices)]
    if picked:
        buttons.insert(0, Choice("決定", encode(Action.PICKED, token=token, field=field.key)))
    if field.optional:
        buttons.append(Choice("スキップ", encode(Action.SKIP, token=token, field=field.key)))
    if editing:
        buttons.append(Choice("確認に戻る", encode(Action.BACK, token=token)))
    elif number > 1 and back:
        buttons.append(Choice("戻る", encode(Action.BACK, token=token)))
    buttons.append(Choice("やめる", encode(Action.CANCEL, token=token)))
    return Say("\n".join(lines), tuple(buttons))


def asked_again(changed: str, labels: list[str]) -> str:
    return f"「{changed}」が変わったので、" + "・".join(f"「{label}」" for label in labels) + "ももう一度お聞きします。"


def added_fields(labels: list[str]) -> str:
    return "この回答により、" + "・".join(f"「{label}」" for label in labels) + "もお聞きします。"


def too_many_tries(field: Field, token: str) -> Say:
    return Say(
        f"「{field.label}」がうまく受け付けられませんでした。この質問を飛ばすか、職員に相談できます。",
        (Choice("もう一度入力", encode(Action.RETRY, token=token)),
         Choice("飛ばす", encode(Action.SKIP, token=token, field=field.key)),
         Choice("職員と話したい", encode(Action.HUMAN)),
         Choice("やめる", encode(Action.CANCEL, token=token))),
    )


def use_as_answer_choice(field: Field, token: str) -> Choice:
    return Choice("今の文を回答にする", encode(Action.USE_TEXT, token=token, field=field.key))


def summary(title: str, rows: list[tuple[Field, str]], token: str) -> Card:
    return Card(
        title=f"{title}の内容確認",
        body="この内容で送信してよろしいですか？",
        fields=tuple((f.label, value or "（なし）") for f, value in rows),
        buttons=(Choice("送信する", encode(Action.SUBMIT, token=token)),
                 Choice("修正する", encode(Action.EDIT, token=token)),
                 Choice("やめる", encode(Action.CANCEL, token=token))),
        kind="summary",
    )


EDIT_BUTTONS = 12  # with 確認に戻る, LINE's 13 quick replies


def pick_field(rows: list[tuple[Field, str]], token: str) -> Say:
    choices = tuple(Choice(f.label[:20], encode(Action.EDIT_FIELD, token=token, field=f.key)) for f, _ in rows)
    unbuttoned = [f.label for f, _ in rows[EDIT_BUTTONS:]]
    typed = f"\nボタンにない項目（{'、'.join(unbuttoned)}）は、項目名を入力してください。" if unbuttoned else ""
    return Say("どの項目を修正しますか？" + typed,
               choices[:EDIT_BUTTONS] + (Choice("確認に戻る", encode(Action.REVIEW, token=token)),))


def confirm_cancel(title: str, token: str) -> Say:
    return Say(
        f"入力中の{title}を破棄して、やめますか？",
        (Choice("やめる", encode(Action.CANCEL_YES, token=token)), Choice("続ける", encode(Action.CANCEL_NO, token=token))),
    )


def cancelled() -> Say:
    return Say("入力内容を破棄しました。またいつでもどうぞ。", MENU_CHOICES)


def submitted(title: str, next_steps: str, registration: bool = False) -> Say:
    """The reference and the check code are filled in when the case is stored (bot/runtime.py).
    `registration`: a group's registration from the web chat, whose code also opens the entry later."""
    if registration:
        code = (f"登録コードは {CHECK_CODE_SLOT} です。別の端末からの状況確認や、掲載後の団体情報の変更・"
                "登録の取り消しに、受付番号とあわせて使います")
    else:
        code = f"確認コードは {CHECK_CODE_SLOT} です。別の端末からは、受付番号とこのコードで状況を確認できます"
    return Say(
        f"{title}を受け付けました。受付番号は {REFERENCE_SLOT} です。\n{next_steps}\n"
        f"{code}（コードはこの画面でしか表示しません。控えておいてください）。",
        MENU_CHOICES,
    )


def expired(title: str, days: int) -> Say:
    return Say(f"入力途中だった{title}は、{days}日間操作がなかったため破棄しました。お手数ですが、もう一度はじめからお願いします。")


def private_only() -> Say:
    return Say("ご相談・ご提案や状況確認は、個人情報を扱うため1対1のトークでお願いします。公式アカウントとのトーク画面からどうぞ。")


def stale_button() -> Say:
    return Say("このボタンは以前のやり取りのものです。")


def media_note() -> Say:
    return Say("申し訳ありません。この窓口では文字のメッセージだけを読み取れます。")


def human_note(city: CityProfile, in_form: bool) -> Say:
    lead = (f"職員に直接つなぐには、相談として受け付けるのがいちばん確実です。"
            f"お急ぎの場合は{city.centre_name}（電話 {city.centre_phone}）へお電話ください。")
    if in_form:
        return Say(lead + "\n入力中の内容は、このまま送信すれば職員に届きます。")
    return Say(lead, (Choice("相談する", encode(Action.CONSULT)), TO_MENU))


def answer_replies(answer: Answer, extra: tuple[Choice, ...] = (), question: str = "",
                   passed: tuple[str, ...] = ()) -> list[Say | Card]:
    """An answer card with its related entries and feedback buttons, or a decline with a way on;
    `passed`: the entries already marked 違う for the question, which its 違う leaves out too."""
    if answer.abstained:  # an entry picked among 「もしかして」 is rated for the question declined
        return [Say(answer.text, _unique(_show_choices(answer.maybe, question) + extra + (to_staff(question), TO_MENU)))]
    related = _show_choices(r for r in answer.related if r.id != answer.entry_id)
    rating = (Choice("役に立った", about_question(Action.HELPFUL, answer.entry_id or "", question)),
              Choice("違う", about_question(Action.WRONG, answer.entry_id or "", question, passed)))
    return [Card(title=answer.title, body=answer.body, footer=_footer(answer), buttons=related,
                 choices=_unique(extra + rating + related + (to_staff(question), TO_MENU)), kind="answer")]


def _show_choices(entries, question: str = "", passed: tuple[str, ...] = ()) -> tuple[Choice, ...]:
    return _unique(tuple(Choice(e.label, about_question(Action.SHOW, e.id, question, passed)) for e in entries))


def thanks() -> Say:
    return Say("ありがとうございます。お役に立ててよかったです。", MENU_CHOICES)


def wrong_answer(alternatives: tuple[Related, ...], question: str = "", passed: tuple[str, ...] = ()) -> Say:
    """After 違う: how to ask again, the next best entries, and a person."""
    others = "\n近いものを下に並べました。" if alternatives else ""
    return Say("お役に立てず申し訳ありません。聞き方を変えると見つかることがあります。\n"
               "・制度や施設の名前を入れる（例:「区づくり推進事業」）\n"
               "・知りたいことを一つにしぼる（いつ・いくら・どこ・だれが）\n"
               "・短い文で送る" + others,
               _show_choices(alternatives, question, passed) + (to_staff(question), TO_MENU))


def _footer(answer: Answer) -> str:
    """The caution and the source, without a phone number the body already gives."""
    caution = answer.caution
    for phone in set(_PHONE.findall(answer.body)):
        caution = caution.replace(f"（電話 {phone}）", "").replace(phone, "")
    return "\n".join(part for part in (caution, f"出典: {answer.source}（{answer.as_of} 時点）") if part)


def _unique(choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """One button per destination (the same entry or action offered twice is offered once)."""
    seen: dict[str, Choice] = {}
    for choice in choices:
        seen.setdefault(choice.data, choice)
    return tuple(seen.values())


def case_list(cases: list, titles: dict[str, str], closed: frozenset[str], withdrawable: bool = True,
              page: int = 0) -> Card | Say:
    """One page of the person's cases: open ones first, newest first, with もっと見る while more remain."""
    if not cases:
        return Say("お預かりしているご相談・ご提案はありません。別の端末から送った場合は、受付番号（例: S-2026-0001）を"
                   "送ってください。確認コードをおたずねします。", MENU_CHOICES)
    ordered = sorted(cases, key=lambda c: (c.status in closed, -c.updated_at.timestamp()))
    first = page * CASES_PER_PAGE if 0 <= page * CASES_PER_PAGE < len(ordered) else 0
    shown = ordered[first:first + CASES_PER_PAGE]
    withdraw = tuple(Choice(f"{c.reference}を取り下げる"[:20], encode(Action.WITHDRAW, reference=c.reference))
                     for c in shown if withdrawable and c.status not in closed)[:3]
    more: tuple[Choice, ...] = ()
    if first + len(shown) < len(ordered):
        more = (Choice("もっと見る", encode(Action.STATUS, index=str(first // CASES_PER_PAGE + 1))),)
    body = f"全{len(ordered)}件のうち {first + 1}〜{first + len(shown)}件目（対応中のものから表示）" if len(ordered) > 1 else ""
    return Card(
        title="受付の状況",
        body=body,
        fields=tuple((f"{c.reference} {titles.get(c.kind, c.kind)}", f"{c.status}（{c.updated_at:%Y-%m-%d} 更新）")
                     for c in shown),
        buttons=more,
        choices=more + MENU_CHOICES + withdraw,
        kind="cases",
    )


REPLY_SHOWN = 300  # characters of staff's newest message on a status card


def checked_case(case: CaseView, titles: dict[str, str], city: CityProfile) -> Card:
    """One case looked up by its check code (on another device): where it stands, in the city's words,
    and what staff last wrote, since that message went to the device that sent the case."""
    notice = city.texts.status_notices.get(case.status, "").format(reference=case.reference)
    message = case.latest_reply
    if len(message) > REPLY_SHOWN:
        message = message[:REPLY_SHOWN - 1] + "…"
    reply = f"\n担当者からの最新のメッセージ:\n{message}" if message else ""
    return Card(
        title=f"受付番号 {case.reference} の状況",
        body=notice + reply,
        fields=((titles.get(case.kind, case.kind), f"{case.status}（{case.updated_at:%Y-%m-%d} 更新）"),),
        choices=MENU_CHOICES,
        kind="cases",
    )


def page_number(index: str) -> int:
    """The page a もっと見る button asks for (0 for anything else)."""
    return int(index) if index.isdigit() and len(index) <= 4 else 0


def ask_check_code(reference: str) -> Say:
    code = "確認コード（ウェブからの団体登録では登録コード）" if reference.startswith("G-") else "確認コード（英数字6文字）"
    return Say(f"受付番号 {reference} の状況をお知らせするには、受付のときにお伝えした{code}を送ってください。",
               (TO_MENU,))


def _code_name(reference: str) -> str:
    return "確認コード（または登録コード）" if reference.startswith("G-") else "確認コード"


def wrong_check_code(reference: str, tries_left: int) -> Say:
    if tries_left <= 0:
        return Say(f"受付番号 {reference} と{_code_name(reference)}の組み合わせを確認できませんでした。"
                   "お手数ですが、番号とコードをご確認のうえ、状況確認からもう一度お試しください。", MENU_CHOICES)
    return Say(f"受付番号 {reference} と{_code_name(reference)}の組み合わせを確認できませんでした。"
               f"コードをもう一度送ってください（あと{tries_left}回）。", (TO_MENU,))


def contact_not_taken(question: str) -> Say:
    """A phone number or e-mail address typed in a question: it reaches nobody (and is not kept)."""
    return Say("チャットに書かれた電話番号やメールアドレスは、職員には届きません。職員からの連絡をご希望でしたら、"
               "「相談する」から連絡先をお知らせください。", (to_staff(question), TO_MENU))


def code_without_reference() -> Say:
    return Say("コードだけでは、どの受付かわかりません。先に受付番号（例: S-2026-0001）を送り、"
               "そのあとでコードを送ってください。", (Choice("状況確認", encode(Action.STATUS)), TO_MENU))


def confirm_withdraw(reference: str) -> Say:
    return Say(f"受付番号 {reference} を取り下げますか？取り下げると、担当者の対応は終了します。",
               (Choice("取り下げる", encode(Action.WITHDRAW_YES, reference=reference)),
                Choice("取り下げない", encode(Action.MENU))))


def relayed(reference: str) -> Say:
    return Say(f"担当者にお伝えしました（受付番号 {reference}）。返信までしばらくお待ちください。"
               "ボットの案内に戻るには「メニュー」を押してください。", (TO_MENU,))


def case_not_found(reference: str) -> Say:
    return Say(f"受付番号 {reference} の案件は見つかりませんでした。番号をご確認ください。", MENU_CHOICES)


def in_progress(title: str, token: str) -> Say:
    return Say(
        f"入力中の{title}があります。続けますか？",
        (Choice("続ける", encode(Action.RESUME, token=token)), Choice("やめる", encode(Action.CANCEL, token=token))),
    )


def status_notice(status: str, reference: str, city: CityProfile | None = None) -> str:
    """What the citizen is told when their case reaches a status (the city's sentence)."""
    notices = (city or _default_city()).texts.status_notices
    return notices[status].format(reference=reference)


@lru_cache(maxsize=1)
def _default_city() -> CityProfile:
    from knowledge.base import DEFAULT_FOLDER

    return load_city(DEFAULT_FOLDER)


# --- the group directory (仲間をさがす) -----------------------------------------------------

OFFERS_SHOWN = 120  # characters of できること on a card; the rest comes with the introduction
FIELD_BUTTONS = 10
FIND_AGAIN = Choice("条件を変えてさがす", encode(Action.FIND_GROUPS))


CHANGE_OWN_GROUP = Choice("団体情報の変更", encode(Action.GROUP_UPKEEP, value="change"))


def group_search_prompt(fields: tuple[str, ...], tried: bool = False, own: bool = False) -> Say:
    """`tried`: the person's words named no field, area or kind of group. `own`: the person
    registered a group (a button to change it is offered)."""
    lead = "お書きの内容からは、おさがしの団体の分野や地域がわかりませんでした。" if tried else ""
    return Say(lead + "どんな団体をおさがしですか？分野や地域を入れて送ってください。"
               "例:「北区で防災」「子ども食堂を手伝ってくれる団体」\n下のボタンから分野を選ぶこともできます。",
               tuple(Choice(f, encode(Action.FIND_GROUPS, value=f)) for f in fields[:FIELD_BUTTONS])
               + (CHANGE_OWN_GROUP,) * own + (TO_MENU,))


def group_results(page: SearchPage, offset: int, search: str, own: bool = False) -> list[Say | Card]:
    """A page of groups as cards, between a line saying what was found and the ways on."""
    named = _named(page)
    if not page.hits:
        return [_no_groups(page, named)]
    last = offset + len(page.hits)
    more = (Choice("もっと見る", encode(Action.MORE_GROUPS, index=page.next_cursor, value=search)),) \
        if page.next_cursor else ()
    if page.total == 1:
        lead = Say(f"{named}の団体が1件見つかりました。")
    else:
        shown = f"{last}件目" if last == offset + 1 else f"{offset + 1}〜{last}件目"
        lead = Say(f"{named}の団体が{page.total}件見つかりました（{shown}、合うものから順に表示）。")
    closing = Say("気になる団体があれば「この団体とつながりたい」を押してください。センターがおつなぎします。"
                  + ("" if more else "\nこれですべてです。"), more + (FIND_AGAIN, TO_STAFF) + (CHANGE_OWN_GROUP,) * own + (TO_MENU,))
    return [lead, *(group_card(hit.group) for hit in page.hits), closing]


def _named(page: SearchPage) -> str:
    understood = page.understood
    words = (*understood.areas, *understood.fields, *understood.kinds)
    return "「" + "・".join(words) + "」" if words else "ご希望"


def _no_groups(page: SearchPage, named: str) -> Say:
    understood = page.understood
    broader: tuple[Choice, ...] = ()
    if understood.areas and (understood.fields or understood.kinds):
        wider = "、".join((*understood.fields, *understood.kinds))
        broader = (Choice("地域を広げてさがす", encode(Action.FIND_GROUPS, value=wider)),)
    return Say(f"{named}の団体は、いまの名簿では見つかりませんでした。地域を広げるか、別のことばでおさがしください。"
               "職員にご相談いただければ、名簿にない団体も含めて、一緒におつなぎ先をさがします。",
               broader + (FIND_AGAIN, TO_STAFF, TO_MENU))


def group_card(group: GroupCard) -> Card:
    rows = [("種類", group.kind), ("分野", "・".join(group.fields)), ("地域", "・".join(group.areas))]
    if group.offers:
        offers = group.offers if len(group.offers) <= OFFERS_SHOWN else group.offers[:OFFERS_SHOWN - 1] + "…"
        rows.append(("できること", offers))
    if group.public_contact:
        rows.append(("連絡先", group.public_contact))
    if group.url:
        rows.append(("ウェブサイト", group.url))
    return Card(title=group.name, fields=tuple(rows), kind="group",
                buttons=(Choice("この団体とつながりたい", encode(Action.CONNECT, entry=str(group.id))),))


def connecting(group: GroupCard) -> Say:
    direct = f"団体の連絡先（{group.public_contact}）へ直接お問い合わせいただくこともできます。" if group.public_contact else ""
    return Say(f"「{group.name}」とのおつなぎは、センターが間に入って行います。ご相談として承りますので、"
               f"このあとの質問にお答えください。{direct}")


def group_gone() -> Say:
    return Say("この団体は、いまは名簿に掲載されていません。ほかの団体をおさがしになるか、職員にご相談ください。",
               (FIND_AGAIN, TO_STAFF, TO_MENU))


UPKEEP_ANSWERS = {
    "keep": "ご確認ありがとうございます。現在の内容のまま掲載を続けます。",
    "no_more": "承知しました。今後、確認のご案内はお送りしません。内容に変更があるときは「団体情報の変更」と"
               "送ってください。",
    "withdraw": "団体検索への掲載を取りやめました。これまでご協力いただき、ありがとうございました。",
}
NAME_IN_LABEL = 12  # LINE's quick-reply labels are short


def group_upkeep_answered(choice: str) -> Say:
    """After このままでよい / 今後は案内不要 (the yearly confirmation) or 登録をやめる."""
    return Say(UPKEEP_ANSWERS[choice], MENU_CHOICES)


def ask_registration_code(reference: str | None, lead: str = "") -> Say:
    """On the web chat: the reference, then the code, of a group registered from another browser."""
    if reference:
        return Say(f"{lead}受付番号 {reference} の登録コード（英数字10文字）を送ってください。", (TO_MENU,))
    return Say(f"{lead}別の端末やブラウザで登録した団体は、受付番号と登録コードで確認します。"
               "まず、受付番号（例: G-2026-0001）を送ってください。", (TO_STAFF, TO_MENU))


def wrong_registration_code(reference: str, tries_left: int) -> Say:
    wrong = f"受付番号 {reference} と登録コードの組み合わせを確認できませんでした。"
    if tries_left <= 0:
        return Say(wrong + "番号とコードをお確かめのうえ、あらためてお試しください。わからない場合は、職員にご相談ください。",
                   (TO_STAFF, TO_MENU))
    return Say(wrong + f"コードをもう一度送ってください（あと{tries_left}回）。", (TO_MENU,))


def group_opened(name: str) -> Say:
    return Say(f"受付番号と登録コードを確認しました（「{name}」）。")


def own_groups(owned: tuple[tuple[int, str], ...], change: bool) -> Say:
    """Which of their groups to change, or the confirmation before withdrawing one."""
    if not owned:
        return Say("このアカウントから登録された団体は見つかりませんでした。別のアカウントで登録された場合は、"
                   "職員にご相談ください。", (Choice("団体を登録する", encode(Action.REGISTER)), TO_STAFF, TO_MENU))
    value = "change" if change else "withdraw"
    buttons = tuple(Choice(name[:NAME_IN_LABEL] if len(owned) > 1 else ("変更する" if change else "登録をやめる"),
                           encode(Action.GROUP_UPKEEP, entry=str(group_id), value=value)) for group_id, name in owned)
    names = "、".join(f"「{name}」" for _, name in owned)
    if change:
        return Say(f"どの団体の情報を変更しますか？（{names}）", buttons + (TO_MENU,))
    return Say(f"{names}の掲載をやめると、団体検索に表示されなくなります。よろしいですか？",
               buttons[:12] + (Choice("やめない", encode(Action.MENU)),))
