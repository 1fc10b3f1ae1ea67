"""What happens to a case after it is submitted: staff claim it, reply to the citizen, move its
status, keep notes; the citizen's own messages are relayed to its thread.

Every function runs inside the caller's transaction and only queues outbox rows: the Slack
card and thread are rendered from the case when sent; citizen messages go through the
citizen's channel (LINE push, web chat).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from bot.channels import Channel, deliver
from bot.messages import Reply, Say
from bot.replies import MENU_CHOICES, in_progress, status_notice
from bot.state import RESUMABLE, State
from store import case_status, cases, conversations, outbox, privacy
from store.models import Case

SLACK = "slack"
THREAD_TEXT_MAX = 3900  # Slack asks for message texts of at most 4,000 characters (it truncates longer ones)


class CaseworkError(Exception):
    """A staff action that cannot be done (the reason is shown to the staff member)."""


def announce_new_case(session: Session, case: Case) -> None:
    """The card in the staff channel, then the full answers in its thread."""
    _slack(session, case, "card", dedupe=f"card:new:{case.reference}")
    _slack(session, case, "thread_answers", dedupe=f"thread:answers:{case.reference}")


def claim(session: Session, channels: Mapping[str, Channel], case: Case, staff_id: str, now: datetime) -> None:
    if case.status in case_status.CLOSED:
        raise CaseworkError(f"{case.reference} は「{case.status}」のため担当できません。")
    previous = case.assignee
    case.assignee = staff_id
    case.relay_open = True
    cases.record(session, case, actor=staff_id, kind="claimed", text=previous or "", now=now, staff=True)
    handover = f"（<@{previous}> から引き継ぎ）" if previous and previous != staff_id else ""
    _thread(session, case, f"<@{staff_id}> が担当します{handover}。")
    if case.status == case_status.RECEIVED:
        _set_status(session, channels, case, case_status.IN_PROGRESS, staff_id, "", now)
    else:
        _slack(session, case, "card")


def reply_to_citizen(session: Session, channels: Mapping[str, Channel], case: Case, staff_id: str, text: str,
                     now: datetime) -> bool:
    """Send a staff member's message to the citizen; False when the citizen cannot be reached."""
    text = text.strip()
    if not text:
        raise CaseworkError("送る文章を入力してください。")
    if case.status in case_status.CLOSED:
        raise CaseworkError(f"{case.reference} は「{case.status}」のため、市民には送れません。")
    case.relay_open = True
    if case.assignee is None:
        case.assignee = staff_id
    cases.record(session, case, actor=staff_id, kind="reply", text=text, now=now, staff=True)
    reached = _to_citizen(session, channels, case, f"【担当者より・{case.reference}】\n{text}")
    note = "" if reached else f"（市民に届けられません: {_why_unreachable(case)}）"
    _thread(session, case, f"<@{staff_id}> が市民に返信しました{note}:\n>{_quote(text)}")
    _slack(session, case, "card")
    return reached


def change_status(session: Session, channels: Mapping[str, Channel], case: Case, staff_id: str, status: str,
                  note: str, now: datetime) -> None:
    if status not in case_status.FLOW:
        raise CaseworkError(f"「{status}」というステータスはありません。")
    if status == case.status:
        raise CaseworkError(f"{case.reference} はすでに「{status}」です。")
    _set_status(session, channels, case, status, staff_id, note, now)


def add_note(session: Session, case: Case, staff_id: str, text: str, now: datetime) -> None:
    """A message staff wrote in the case thread: recorded, never sent to the citizen."""
    cases.record(session, case, actor=staff_id, kind="note", text=text, now=now, staff=True)


def release(session: Session, case: Case, actor: str, now: datetime) -> None:
    if not case.relay_open:
        return
    case.relay_open = False
    cases.record(session, case, actor=actor, kind="released", now=now, staff=not actor.startswith("citizen"))
    who = "市民がメニューに戻りました" if actor.startswith("citizen") else f"<@{actor}> が会話を終了しました"
    _thread(session, case, f"{who}。以後の市民のメッセージはボットが応答します。")


def relay_from_citizen(session: Session, case: Case, text: str, now: datetime) -> None:
    cases.record(session, case, actor="citizen", kind="citizen_message", text=text, now=now)
    _thread(session, case, f"市民からのメッセージ:\n>{_quote(text)}")  # quoted and escaped: no @channel, no disguised links


def withdraw(session: Session, channels: Mapping[str, Channel], case: Case, now: datetime) -> None:
    if case.status in case_status.CLOSED:
        raise CaseworkError(f"{case.reference} はすでに「{case.status}」です。")
    _set_status(session, channels, case, case_status.WITHDRAWN, "citizen", "市民が取り下げました", now, notify=False)


def decide(session: Session, channels: Mapping[str, Channel], case: Case, staff_id: str, status: str, note: str,
           notice: str, now: datetime) -> None:
    """A decision on an open case (a registration approved, say): a status change recorded like any
    other, with `notice` as what the citizen is told instead of the usual status notice."""
    if case.status in case_status.CLOSED:
        raise CaseworkError(f"{case.reference} は「{case.status}」のため、もう決定できません。")
    _set_status(session, channels, case, status, staff_id, note, now, notice=notice)


def post_in_thread(session: Session, case: Case, text: str) -> None:
    """A line in the case's Slack thread, and the card redrawn (it shows what changed)."""
    _thread(session, case, text)
    _slack(session, case, "card")


def _set_status(session: Session, channels: Mapping[str, Channel], case: Case, status: str, actor: str,
                note: str, now: datetime, notify: bool = True, notice: str = "") -> None:
    previous, case.status = case.status, status
    if status in case_status.CLOSED:
        case.relay_open = False
    cases.record(session, case, actor=actor, kind="status", text=f"{previous}→{status}" + (f" {note}" if note else ""),
                 now=now, staff=actor != "citizen", status=status)
    by = "市民" if actor == "citizen" else f"<@{actor}>"
    memo = f"\nメモ: {slack_escape(note)}" if note else ""  # staff-typed: cannot mention or link
    _thread(session, case, f"ステータス: {previous} → *{status}*（{by}）{memo}")
    _slack(session, case, "card")
    if notify:
        _to_citizen(session, channels, case, notice or status_notice(status, case.reference))


def _to_citizen(session: Session, channels: Mapping[str, Channel], case: Case, text: str) -> bool:
    channel = channels.get(case.channel)
    if (channel is None or case.user_id in ("", privacy.ERASED)
            or not conversations.is_contact_active(session, case.channel, case.user_id)):
        return False  # no way to reach them, their data was erased, or they unfollowed: nothing is sent
    deliver(session, channel, case.user_id, _with_way_back(session, case, text))
    return True


def _why_unreachable(case: Case) -> str:
    """Said to staff, in Slack's thread as in the CLI."""
    return "この案件の個人情報は削除済みです" if case.user_id == privacy.ERASED else "連絡手段がありません"


def _with_way_back(session: Session, case: Case, text: str) -> list[Reply]:
    """The message, with the menu; or, when the person is halfway through a step (the consent, a form), with
    続ける: the message would otherwise take that step's buttons away (LINE shows only the last message's)."""
    key = (case.channel, case.user_id)
    stored = conversations.load_many(session, [key]).get(key)
    state = State.from_dict(stored[0] if stored else None)
    if state.mode not in RESUMABLE:
        return [Say(text, MENU_CHOICES)]
    return [Say(text), in_progress("内容", state.token)]  # no form titles here: staff's side has no city texts


def _thread(session: Session, case: Case, text: str) -> None:
    """One thread post, or several in order when the text is longer than Slack takes."""
    for piece in slack_pieces(text):
        outbox.enqueue(session, channel=SLACK, target=str(case.id), kind="thread",
                       payload={"case_id": case.id, "text": piece})


def slack_pieces(text: str, limit: int = THREAD_TEXT_MAX) -> list[str]:
    """Slack text in pieces of at most `limit` characters: cut at a line break where one is near,
    never inside an escape (&amp;), and a quoted line cut in two stays quoted."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)
        cut = cut + 1 if cut > 0 else limit
        entity = text.rfind("&", cut - 5, cut)
        if entity >= 0 and ";" not in text[entity:cut]:
            cut = entity
        head, text = text[:cut], text[cut:]
        pieces.append(head.rstrip("\n"))
        line_start = head.rfind("\n") + 1
        if not head.endswith("\n") and head[line_start:].startswith(">"):
            text = ">" + text
    return pieces + [text]


def _slack(session: Session, case: Case, kind: str, dedupe: str | None = None) -> None:
    outbox.enqueue(session, channel=SLACK, target=str(case.id), kind=kind, payload={"case_id": case.id}, dedupe_key=dedupe)


def slack_escape(text: str) -> str:
    """Someone's own words inside a Slack message: &, < and > escaped as Slack asks, so that
    `<!channel>` or `<https://…|label>` show as typed instead of pinging or linking."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str) -> str:
    """Someone's own words, escaped and quoted."""
    return slack_escape(text).replace("\n", "\n>")
