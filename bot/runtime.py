"""Running a turn for real: load the state, call the engine, store the new state and carry out
the effects, all in one transaction (redone from scratch if another turn for the same person
committed first)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import casework, group_upkeep
from bot import engine as conversation
from bot.channels import Channel
from bot.config import DeskConfig
from bot.engine import CaseView, Context
from bot.forms import FORMS, Form, forms_for
from bot.messages import (
    AnswerGroupUpkeep,
    ClaimGroup,
    CloseRelay,
    Effect,
    Event,
    NoteQuestion,
    RelayToCase,
    Reply,
    Say,
    SetContactActive,
    SubmitCase,
    WithdrawCase,
)
from bot.partner_search import PUBLIC, GroupCard, SearchPage
from bot.partners import GroupDirectory
from bot.replies import CHECK_CODE_SLOT, REFERENCE_SLOT
from bot.state import State
from knowledge.base import KnowledgeBase
from knowledge.partner_vocabulary import VocabularyError, load_partner_vocabulary
from knowledge.profile import CityFileError
from store import case_codes, cases, conversations, notes, outbox
from store import groups as group_table
from store.case_status import CLOSED, FLOW
from store.conversations import Conflict
from store.db import session_scope
from store.models import Case

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class TurnRequest:
    """One event of one person; `outbox` renders the turn's replies to outbox rows (none: the
    caller shows the replies itself, as the web chat does)."""
    channel: str
    user_id: str
    event: Event
    private: bool = True
    outbox: Callable[[list[Reply]], list[dict]] = lambda replies: []


Outcome = list[Reply] | Exception


class Desk:
    def __init__(self, db: Engine, knowledge: KnowledgeBase, config: DeskConfig,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db, self.knowledge, self.config, self.clock = db, knowledge, config, clock
        _require_status_notices(knowledge)
        self.channels: dict[str, Channel] = {}  # how to reach citizens later (set by the server)

    @cached_property
    def groups(self) -> GroupDirectory:
        """The directory of groups, loaded on its first use (the city folder's partner-fields.yaml)."""
        return GroupDirectory.for_folder(self.db, self.knowledge.folder, self.config.tz)

    @cached_property
    def forms(self) -> dict[str, Form]:
        """The forms, 団体登録 with the city's kinds, fields and areas (the default city's when its folder
        has no partner-fields.yaml: registrations then wait for staff to fix the folder)."""
        try:
            return forms_for(load_partner_vocabulary(self.knowledge.folder))
        except VocabularyError as exc:
            log.warning("group registration uses the default city's lists: %s", exc)
            return FORMS

    def handle(self, channel: str, user_id: str, event: Event) -> list[Reply]:
        """One turn for one person, in a transaction of its own."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                with session_scope(self.db) as session:
                    [outcome] = self.turns(session, [TurnRequest(channel, user_id, event)])
            except Conflict:
                log.info("turn conflict for a %s user; retrying (attempt %d)", channel, attempt + 1)
                continue
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        raise RuntimeError("conversation kept conflicting; giving up on this event")

    def turns(self, session: Session, requests: list[TurnRequest]) -> list[Outcome]:
        """Turns of different people inside the caller's transaction, read and written in bulk.

        A turn that raises comes back as its exception and writes nothing. Conflict (someone's
        state changed since it was read) propagates: the caller redoes the whole transaction.
        """
        now = self.clock()
        keys = [(r.channel, r.user_id) for r in requests]
        states = conversations.load_many(session, keys, lock=True)
        relays = cases.open_relays(session, keys)
        outcomes: list[Outcome] = []
        saves, messages = [], []
        for request, key in zip(requests, keys, strict=True):
            state, version = states.get(key, ({}, 0))
            try:
                turn = conversation.handle(State.from_dict(state), request.event,
                                           self._context(session, request, now, relays.get(key)))
                if turn.effects:  # rare: carried out alone, so a failing effect undoes only its own turn
                    with session.begin_nested():
                        replies = self._carry_out(session, request, turn, now)
                        outbox.enqueue_many(session, request.outbox(replies))
                        conversations.save(session, *key, turn.state.to_dict(), version)
                else:
                    replies = [_fill(reply, "", "") for reply in turn.replies]
                    messages.extend(request.outbox(replies))
                    saves.append((key, turn.state.to_dict(), version))
                outcomes.append(replies)
            except Conflict:
                raise
            except Exception as exc:
                outcomes.append(exc)
        conversations.save_many(session, saves)
        outbox.enqueue_many(session, messages)
        return outcomes

    def _context(self, session: Session, request: TurnRequest, now: datetime, relay: str | None) -> Context:
        return Context(
            now=now, knowledge=self.knowledge,
            cases=_StoredCases(session, request.channel, request.user_id, self.config.tz),
            groups=_PublicGroups(self, session),
            forms=self.forms,
            channel=request.channel,
            draft_ttl=timedelta(days=self.config.draft_ttl_days),
            retention_years=self.config.retention_years,
            private=request.private,
            relay=relay,
            tz=self.config.tz,
            own_groups=cache(lambda: tuple(group_table.registered_by(session, request.channel, request.user_id))),
        )

    def _carry_out(self, session: Session, request: TurnRequest, turn, now: datetime) -> list[Reply]:
        reference = code = ""
        for effect in turn.effects:
            if isinstance(effect, SubmitCase):
                reference, code = self._submit(session, request.channel, request.user_id, effect, now)
            elif isinstance(effect, SetContactActive):
                conversations.set_contact_active(session, request.channel, request.user_id, effect.active)
            elif isinstance(effect, NoteQuestion):
                _store_note(session, request.channel, effect, now)
            elif isinstance(effect, AnswerGroupUpkeep):
                group_upkeep.answer(session, effect.group_id, request.channel, request.user_id, effect.choice,
                                    now.astimezone(self.config.tz).date(), now)
            elif isinstance(effect, ClaimGroup):
                _claim_group(session, request, effect)
            else:
                self._casework(session, request.channel, request.user_id, effect, now)
        return [_fill(reply, reference, code) for reply in turn.replies]

    def store_notes(self, channel: str, effects: list[Effect]) -> None:
        """The notes of a turn that needs no conversation row (a question from a browser that has none)."""
        kept = [effect for effect in effects if isinstance(effect, NoteQuestion)]
        if not kept:
            return
        with session_scope(self.db) as session:
            for note in kept:
                _store_note(session, channel, note, self.clock())

    def _submit(self, session: Session, channel: str, user_id: str, effect: SubmitCase,
                now: datetime) -> tuple[str, str]:
        """The new case's reference and check code."""
        form = FORMS[effect.kind]
        case = cases.create(session, kind=effect.kind, prefix=form.prefix, answers=dict(effect.answers),
                            channel=channel, user_id=user_id, now=now, tz=self.config.tz)
        casework.announce_new_case(session, case)
        log.info("case %s submitted (%s)", case.reference, effect.kind)
        length = case_codes.REGISTRATION_LENGTH if effect.registration else case_codes.LENGTH
        return case.reference, case_codes.shown(case_codes.issue(session, case, length))

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


def _claim_group(session: Session, request: TurnRequest, effect: ClaimGroup) -> None:
    """The group becomes the person's when its registration code checks out here too."""
    group = case_codes.group_for(session, effect.reference, effect.code)
    if group is None or group.id != effect.group_id:
        return
    group_table.claim(session, group, request.channel, request.user_id)
    log.info("group %s opened with its registration code on %s", group.id, request.channel)


def _store_note(session: Session, channel: str, note: NoteQuestion, now: datetime) -> None:
    notes.add(session, note.kind, note.question, note.entry_id, note.confidence, channel, now)


def _fill(reply: Reply, reference: str, code: str) -> Reply:
    if isinstance(reply, Say) and REFERENCE_SLOT in reply.text:
        return replace(reply, text=reply.text.replace(REFERENCE_SLOT, reference).replace(CHECK_CODE_SLOT, code))
    return reply


class _StoredCases:
    """The engine's view of cases (bot.engine.CaseReader), read from the store on demand."""

    def __init__(self, session: Session, channel: str, user_id: str, tz):
        self.session, self.channel, self.user_id, self.tz = session, channel, user_id, tz

    def own(self) -> list[CaseView]:
        return [self._view(c) for c in cases.for_user(self.session, self.channel, self.user_id)]

    def by_check_code(self, reference: str, code: str) -> CaseView | None:
        case = case_codes.case_for(self.session, reference, code)
        if case is None:
            return None
        reply = cases.latest_reply(self.session, cases.id_of(case))
        return replace(self._view(case), latest_reply=reply.text if reply else "")

    def _view(self, case: Case) -> CaseView:
        return CaseView(case.reference, case.kind, case.status, case.updated_at.astimezone(self.tz))


class _PublicGroups:
    """The engine's view of the group directory (bot.engine.GroupFinder): public entries only, read
    inside the turn's transaction."""

    def __init__(self, desk: Desk, session: Session):
        self.desk, self.session = desk, session

    def search(self, query: str, cursor: str | None = None) -> SearchPage:
        return self.desk.groups.index(self.session).search(query, cursor)

    def public_group(self, group_id: int) -> GroupCard | None:
        cards = self.desk.groups.index(self.session).cards
        return next((c for c in cards if c.id == group_id and c.status == PUBLIC), None)

    def field_names(self) -> tuple[str, ...]:
        return tuple(self.desk.groups.vocabulary.fields)

    def with_code(self, reference: str, code: str) -> tuple[int, str] | None:
        group = case_codes.group_for(self.session, reference, code)
        return (group.id, group.name) if group is not None and group.id is not None else None


def _require_status_notices(knowledge: KnowledgeBase) -> None:
    """Every status a case can reach has a sentence for the citizen in city.yaml."""
    notices = knowledge.profile.texts.status_notices
    for status in FLOW:
        if status not in notices:
            raise CityFileError(f"{knowledge.folder / 'city.yaml'}: missing key `texts.status_notices.{status}`")
