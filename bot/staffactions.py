"""Staff actions from Slack (claim a case, reply to its citizen, change its status, a note in its
thread), durable: the Slack handler stores each one in the inbox before Slack is answered, and
the inbox worker carries it out once, in the same transaction that marks it done. A crash after
the ack loses nothing; a crash before the commit has the worker do it again from the start.

An action that can no longer be done (the case was closed meanwhile, say) is explained to the
staff member in an ephemeral Slack message, queued in the outbox like every other post."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import casework, introductions, registrations
from bot.casework import CaseworkError
from bot.runtime import Desk
from store import cases, inbox, outbox
from store.db import session_scope
from store.models import Case

CHANNEL = "slack"
CLAIM, REPLY, STATUS, NOTE = "claim", "reply", "status", "note"
INTRODUCE, REALIZE, REGISTRATION = "introduce", "realize", "registration"
KINDS = (CLAIM, REPLY, STATUS, NOTE, INTRODUCE, REALIZE, REGISTRATION)
EPHEMERAL = "ephemeral"  # the outbox kind of a message only one staff member sees


@dataclass(frozen=True)
class StaffAction:
    """What a staff member asked for. A note names its case by the Slack thread it was written
    in (`thread_channel`, `thread_ts`); the other actions by `case_id`."""
    kind: str
    staff_id: str
    case_id: int = 0
    text: str = ""
    status: str = ""
    thread_channel: str = ""
    thread_ts: str = ""
    group_id: int = 0  # the group introduced
    introduction_id: int = 0  # the introduction marked 取組化

    @property
    def queue(self) -> str:
        """The inbox's ordering key: the actions on one case are carried out in order."""
        return f"case:{self.case_id}" if self.case_id else f"thread:{self.thread_ts}"


def store(db: Engine, action_id: str, action: StaffAction) -> bool:
    """Keep the action before Slack is answered; False when it was stored already (a retry)."""
    if action.kind not in KINDS:
        raise ValueError(f"unknown staff action {action.kind!r}")
    with session_scope(db) as session:
        return inbox.add(session, channel=CHANNEL, event_id=f"slack:{action_id}"[:128], user_key=action.queue,
                         payload=asdict(action))


def carry_out(session: Session, desk: Desk, payload: dict) -> None:
    """One stored action, inside the worker's transaction. A refusal (CaseworkError) undoes
    whatever the action had begun and tells the staff member why."""
    action = StaffAction(**payload)
    try:
        with session.begin_nested():
            _do(session, desk, action, desk.clock())
    except CaseworkError as exc:
        tell_staff(session, action.staff_id, str(exc))


def _do(session: Session, desk: Desk, action: StaffAction, now: datetime) -> None:
    if action.kind == NOTE:
        case = cases.by_slack_thread(session, action.thread_channel, action.thread_ts)
        if case is not None:  # a thread that is not a case's: an ordinary conversation
            casework.add_note(session, case, action.staff_id, action.text, now)
        return
    if action.kind == REALIZE:
        introductions.mark_realized(session, action.introduction_id, action.staff_id, now)
        return
    case = _case(session, action.case_id)
    if action.kind == CLAIM:
        casework.claim(session, desk.channels, case, action.staff_id, now)
    elif action.kind == INTRODUCE:
        introductions.introduce(session, case, action.group_id, action.staff_id, action.text, now)
    elif action.kind == REGISTRATION:
        registrations.decide(session, desk, case, action.staff_id, action.status, action.text, now)
    elif action.kind == REPLY:
        casework.reply_to_citizen(session, desk.channels, case, action.staff_id, action.text, now)
    else:
        casework.change_status(session, desk.channels, case, action.staff_id, action.status, action.text, now)


def _case(session: Session, case_id: int) -> Case:
    case = cases.by_id(session, case_id)
    if case is None:
        raise CaseworkError(f"案件（ID {case_id}）が見つかりません。")
    return case


def tell_staff(session: Session, staff_id: str, text: str) -> None:
    """An ephemeral message to one staff member, queued (sent in the staff channel, seen by them only)."""
    outbox.enqueue(session, channel=CHANNEL, target=f"staff:{staff_id}", kind=EPHEMERAL,
                   payload={"user": staff_id, "text": text})
