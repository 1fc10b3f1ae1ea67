"""Running a turn for real: load the state, call the engine, store the new state and carry out
the effects, all in one transaction (redone from scratch if another turn for the same person
committed first)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import engine as conversation
from bot.engine import CaseView, Context
from bot.forms import FORMS
from bot import casework
from bot.case_status import CLOSED
from bot.channels import Channel
from bot.messages import CloseRelay, Event, RelayToCase, Reply, Say, SetContactActive, SubmitCase, WithdrawCase
from bot.replies import REFERENCE_SLOT
from bot.settings import Settings
from bot.state import State
from knowledge.base import KnowledgeBase
from store import cases, conversations
from store.conversations import Conflict
from store.db import session_scope

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
Deliver = Callable[[Session, list[Reply]], None]


class Desk:
    def __init__(self, db: Engine, knowledge: KnowledgeBase, settings: Settings,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.db, self.knowledge, self.settings, self.clock = db, knowledge, settings, clock
        self.channels: dict[str, Channel] = {}  # how to reach citizens later (set by the server)

    def handle(self, channel: str, user_id: str, event: Event, deliver: Deliver | None = None) -> list[Reply]:
        """One turn for one person. `deliver` writes the replies (e.g. to the outbox) in the same transaction."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                with session_scope(self.db) as session:
                    replies = self.turn(session, channel, user_id, event)
                    if deliver:
                        deliver(session, replies)
                    return replies
            except Conflict:
                log.info("turn conflict for a %s user; retrying (attempt %d)", channel, attempt + 1)
        raise RuntimeError("conversation kept conflicting; giving up on this event")

    def turn(self, session: Session, channel: str, user_id: str, event: Event, private: bool = True) -> list[Reply]:
        """One turn inside the caller's transaction (raises Conflict when it must be redone)."""
        now = self.clock()
        raw_state, version = conversations.load(session, channel, user_id)
        relay = cases.open_relay_for(session, channel, user_id)
        ctx = Context(
            now=now, knowledge=self.knowledge,
            cases=lambda: [CaseView(c.reference, c.kind, c.status, c.updated_at.astimezone(self.settings.tz))
                           for c in cases.for_user(session, channel, user_id)],
            draft_ttl=timedelta(days=self.settings.draft_ttl_days),
            retention_years=self.settings.retention_years,
            private=private,
            relay=relay.reference if relay else None,
        )
        turn = conversation.handle(State.from_dict(raw_state), event, ctx)
        conversations.save(session, channel, user_id, turn.state.to_dict(), version)
        reference = ""
        for effect in turn.effects:
            if isinstance(effect, SubmitCase):
                reference = self._submit(session, channel, user_id, effect, now)
            elif isinstance(effect, SetContactActive):
                conversations.set_contact_active(session, channel, user_id, effect.active)
            else:
                self._casework(session, channel, user_id, effect, now)
        return [_fill(reply, reference) for reply in turn.replies]

    def _submit(self, session: Session, channel: str, user_id: str, effect: SubmitCase, now: datetime) -> str:
        form = FORMS[effect.kind]
        case = cases.create(session, kind=effect.kind, prefix=form.prefix, answers=dict(effect.answers),
                            channel=channel, user_id=user_id, now=now, tz=self.settings.tz)
        casework.announce_new_case(session, case)
        log.info("case %s submitted (%s)", case.reference, effect.kind)
        return case.reference


    def _casework(self, session: Session, channel: str, user_id: str, effect, now: datetime) -> None:
        """Effects on one of the person's own cases (the engine only names cases it was shown)."""
        case = cases.by_reference(session, effect.reference)
        if case is None or (case.channel, case.user_id) != (channel, user_id):
            return
        if isinstance(effect, RelayToCase):
            casework.relay_from_citizen(session, case, effect.text, now)
        elif isinstance(effect, CloseRelay):
            casework.release(session, case, "citizen", now)
        elif isinstance(effect, WithdrawCase) and case.status not in CLOSED:
            casework.withdraw(session, self.channels, case, now)


def _fill(reply: Reply, reference: str) -> Reply:
    if isinstance(reply, Say) and REFERENCE_SLOT in reply.text:
        return replace(reply, text=reply.text.replace(REFERENCE_SLOT, reference))
    return reply
