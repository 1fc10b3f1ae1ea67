"""Modal submissions. Whatever is wrong with one is answered in the ack itself
(response_action=errors, shown under the field); an accepted staff action is stored for the inbox
worker (or, for a reported figure and a change to the staff-made knowledge, stored outright)
before Slack is answered."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

from slack_bolt import Ack, App

from bot.numbers import parse_number
from bot.registrations import DECISIONS
from bot.staff_knowledge import Refused
from bot.staffactions import INTRODUCE, REGISTRATION, REPLY, STATUS, StaffAction
from handlers import slack_blocks as blocks
from handlers.slack.services import REFUSAL, Services, request_id, user_of
from knowledge.overlay import StaffAnswer
from store.case_status import FLOW

EMPTY_REPLY = "メッセージを入力してください。"
NOT_A_NUMBER = "数値で入力してください（例: 12、39.9）。"
NOT_AGREED = "双方の合意を確認してから記録してください。"
NO_REASON = "申請者に伝える内容を入力してください。"


def register(app: App, services: Services) -> None:
    app.view("reply_modal")(partial(preview_reply, services))
    app.view("reply_confirm")(partial(send_reply, services))
    app.view("status_modal")(partial(set_status, services))
    app.view("indicator_report_modal")(partial(save_indicator, services))
    app.view("introduce_modal")(partial(introduce, services))
    app.view("registration_modal")(partial(decide_registration, services))
    app.view("unanswered_link_modal")(partial(link_question, services))
    app.view("unanswered_answer_modal")(partial(add_answer, services))
    app.view("unanswered_route_modal")(partial(add_route, services))


def field(view: dict, block: str, action: str = "text") -> dict:
    """One input's state; {} when the submission lacks it."""
    values = (view.get("state") or {}).get("values") or {}
    found = (values.get(block) or {}).get(action)
    return found if isinstance(found, dict) else {}


def text_of(view: dict, block: str) -> str:
    return str(field(view, block).get("value") or "").strip()


def chosen(view: dict, block: str) -> str:
    return str((field(view, block, "value").get("selected_option") or {}).get("value") or "")


def date_of(view: dict, block: str) -> str:
    return str(field(view, block, "value").get("selected_date") or "")


def preview_reply(services: Services, ack: Ack, body: dict, view: dict) -> None:
    case, problem = services.staff_case(user_of(body), view.get("private_metadata"))
    text = text_of(view, "message")
    if case is None or not text:
        ack(response_action="errors", errors={"message": problem or EMPTY_REPLY})
        return
    ack(response_action="update", view=blocks.reply_preview(case, text))


def send_reply(services: Services, ack: Ack, body: dict, view: dict) -> None:
    """The confirmed reply (its text rides in the preview's private_metadata)."""
    user = user_of(body)
    try:
        meta = json.loads(view.get("private_metadata") or "")
        case_id, text = meta["case_id"], str(meta["text"])
    except (ValueError, TypeError, KeyError):
        case_id, text = None, ""
    case, problem = services.staff_case(user, case_id)
    if case is not None and text.strip():
        services.desk.submit(request_id(body), StaffAction(REPLY, user, case.id, text=text))
    ack()
    if case is None or not text.strip():
        services.tell(user, problem or EMPTY_REPLY)


def set_status(services: Services, ack: Ack, body: dict, view: dict) -> None:
    user = user_of(body)
    case, problem = services.staff_case(user, view.get("private_metadata"))
    status = str((field(view, "status", "value").get("selected_option") or {}).get("value") or "")
    if case is not None and status not in FLOW:
        problem = "ステータスを選んでください。"
    elif case is not None and status == case.status:
        problem = f"{case.reference} はすでに「{status}」です。"
    if problem or case is None:
        ack(response_action="errors", errors={"status": problem})
        return
    services.desk.submit(request_id(body), StaffAction(STATUS, user, case.id, text=text_of(view, "note"), status=status))
    ack()


def save_indicator(services: Services, ack: Ack, body: dict, view: dict) -> None:
    user = user_of(body)
    number = parse_number(text_of(view, "value"))
    indicator_id, _, period = str(view.get("private_metadata") or "").partition("|")
    if not services.staff.is_staff(user):
        ack(response_action="errors", errors={"value": REFUSAL})
    elif number is None:
        ack(response_action="errors", errors={"value": NOT_A_NUMBER})
    elif problem := services.desk.record_figure(indicator_id, period, number, user, text_of(view, "note")):
        ack(response_action="errors", errors={"value": problem})
    else:
        ack()


def introduce(services: Services, ack: Ack, body: dict, view: dict) -> None:
    """The confirmed introduction: stored for the inbox worker (which records it and notes it in the thread)."""
    user = user_of(body)
    case_id, _, group = str(view.get("private_metadata") or "").partition("|")
    case, problem = services.staff_case(user, case_id)
    agreed = any(o.get("value") == "yes" for o in field(view, "agreed", "value").get("selected_options") or []
                 if isinstance(o, dict))
    if case is None or not (group.isascii() and group.isdigit() and len(group) < 12) or not agreed:
        ack(response_action="errors", errors={"agreed": problem or NOT_AGREED})
        return
    services.desk.submit(request_id(body), StaffAction(INTRODUCE, user, case.id, text=text_of(view, "note"),
                                                       group_id=int(group)))
    ack()


def decide_registration(services: Services, ack: Ack, body: dict, view: dict) -> None:
    """修正依頼 or 却下 with the reason the applicant is told."""
    user = user_of(body)
    case_id, _, decision = str(view.get("private_metadata") or "").partition("|")
    case, problem = services.staff_case(user, case_id)
    reason = text_of(view, "reason")
    if case is None or decision not in DECISIONS or not reason:
        ack(response_action="errors", errors={"reason": problem or NO_REASON})
        return
    services.desk.submit(request_id(body), StaffAction(REGISTRATION, user, case.id, text=reason, status=decision))
    ack()


REFLECTED = "数秒で窓口の回答に反映されます。取り消しは `kyodo-desk kb faq retire {id} --by 名前`。"


def link_question(services: Services, ack: Ack, body: dict, view: dict) -> None:
    question, entry = text_of(view, "question"), chosen(view, "entry") or text_of(view, "entry")

    def change(user: str) -> str:
        row = services.desk.knowledge.link(question, entry, user)
        return f"「{blocks.escape(row.question)}」を {row.entry_id} の聞き方に加えました。" + REFLECTED.format(id=row.id)
    _change_knowledge(services, ack, body, "question", change)


def add_answer(services: Services, ack: Ack, body: dict, view: dict) -> None:
    written = StaffAnswer(question=text_of(view, "question"), title=text_of(view, "title"),
                          answer=text_of(view, "answer"), source=chosen(view, "source"),
                          as_of=date_of(view, "as_of"), review_by=date_of(view, "review_by"))

    def change(user: str) -> str:
        row = services.desk.knowledge.add_answer(written, user)
        return f"回答「{blocks.escape(row.title)}」（{row.entry_id}）を登録しました。" + REFLECTED.format(id=row.id)
    _change_knowledge(services, ack, body, "answer", change)


def add_route(services: Services, ack: Ack, body: dict, view: dict) -> None:
    topic, words = text_of(view, "topic"), text_of(view, "words")

    def change(user: str) -> str:
        row = services.desk.knowledge.add_route(topic, words, user)
        return (f"「{blocks.escape(row.question)}」を含む質問には「{blocks.escape(row.title)}」として市の問い合わせ先を"
                "案内します。" + REFLECTED.format(id=row.id))
    _change_knowledge(services, ack, body, "words", change)


def _change_knowledge(services: Services, ack: Ack, body: dict, block: str, change: Callable[[str], str]) -> None:
    """Stores a change to the staff-made knowledge before Slack is answered; a refused one is shown
    under `block` and the modal stays open."""
    user = user_of(body)
    if not services.staff.is_staff(user):
        ack(response_action="errors", errors={block: REFUSAL})
        return
    try:
        done = change(user)
    except Refused as refused:
        ack(response_action="errors", errors={block: "登録できません: " + " ／ ".join(refused.problems)[:1500]})
        return
    ack()
    services.tell(user, done)
