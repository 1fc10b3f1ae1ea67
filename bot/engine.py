"""The conversation engine: (state, event, context) → turn (new state, replies, effects).

A plain function with no I/O. The conversation is a table: what a message means depends on the
mode the state is in, and each mode has its handler. The context carries the clock, the knowledge
base and a read-only view of cases (CaseReader); the runtime (bot/runtime.py) stores the new
state and carries out the effects in one transaction.
"""
from __future__ import annotations

import copy
import re
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import grant_replies
from bot import replies as r
from bot.forms import APPLICANT_TYPES, FORMS, Field, Form
from bot.intents import REFERENCE, Intent, asks_only_to_search, detect, find_reference, looks_like_question
from bot.messages import (
    AnswerGroupUpkeep,
    Card,
    CaseView,
    Choice,
    ClaimGroup,
    CloseRelay,
    Effect,
    Event,
    Follow,
    Media,
    NoteQuestion,
    Postback,
    RelayToCase,
    Reply,
    Say,
    SetContactActive,
    SubmitCase,
    Text,
    Turn,
    Unfollow,
    WithdrawCase,
)
from bot.partner_search import GroupCard, InvalidCursor, SearchPage
from bot.postbacks import ASIDES, FREE_ACTIONS, PUBLIC_ACTIONS, Action, Tap, decode
from bot.state import Draft, Mode, State
from bot.validators import Valid
from knowledge import kinds
from knowledge.analysis import fold
from knowledge.answers import Answer
from knowledge.base import KnowledgeBase
from knowledge.english import in_english
from knowledge.grants import path_of
from knowledge.partner_vocabulary import Mentions
from knowledge.profile import CityProfile
from store import case_codes, case_status, notes
from store.case_status import CLOSED

MAX_TRIES = 3
SIDE_QUESTION_CHARS = 80  # longer, it is an answer that happens to ask something
_YES = re.compile(r"^(同意(する|します)?|はい|ok|オッケー|おっけー|いいよ|いいです|大丈夫です?|了解|承知しました"
                  r"|送信(する|します)?|お願いします|yes(iagree|please)?|i?agree|okay|sure)[。!.]*$")
_NO = re.compile(r"^(同意しない|同意しません|いいえ|いや|しない|しません|no(thanks|ithanks)?|i?disagree|idon'?tagree"
                 r"|idonotagree)[。!.]*$")
_SUBSIDY = re.compile(r"補助金|助成金|補助制度|助成制度|ほじょきん|じょせいきん|subsid|grant")
# What a greeting, thanks or an acknowledgement is answered with: never a question the desk cannot answer.
_COURTESIES: dict[Intent, Callable[[CityProfile], Say]] = {
    Intent.GREET: r.welcome, Intent.THANK: lambda city: r.you_are_welcome(), Intent.ACK: lambda city: r.noted()}
OPTION_TYPED_CHARS = 12  # an option's words typed alone (「npo」「school」), even if they read as English
_CHECK_CODE = re.compile(r"^[a-z0-9]{4,12}$")  # a check code, or a web registration's longer one
_CODE_SEPARATORS = re.compile(r"[-ー－‐\s]")
_WORD_EDGES = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$")  # コード:ABCDE-FGHJK です → the code alone
WEB = "web"  # the web chat's channel: a group registered there is opened from another browser with its code
_LEAVING = (Intent.CANCEL, Intent.MENU, Intent.BACK, Intent.RESTART)
_PERSONAL = (Intent.CONSULT, Intent.PROPOSE, Intent.STATUS, Intent.HUMAN, Intent.REGISTER_GROUP,
             Intent.UPDATE_GROUP, Intent.LEAVE_GROUP)
_NO_FORM = (Mode.IDLE, Mode.CHECK_CODE, Mode.FIND_GROUPS, Mode.GRANTS,
            Mode.GROUP_CODE)  # modes without a draft: form buttons are stale


class CaseReader(Protocol):
    """The cases the engine may read: the person's own, and one case given its check code."""

    def own(self) -> list[CaseView]: ...

    def by_check_code(self, reference: str, code: str) -> CaseView | None: ...


class NoCases:
    def own(self) -> list[CaseView]:
        return []

    def by_check_code(self, reference: str, code: str) -> CaseView | None:
        return None


class GroupFinder(Protocol):
    """The public side of the group directory (bot/partners.py): searched a page at a time."""

    def search(self, query: str, cursor: str | None = None) -> SearchPage: ...

    def public_group(self, group_id: int) -> GroupCard | None: ...

    def field_names(self) -> tuple[str, ...]: ...

    def with_code(self, reference: str, code: str) -> tuple[int, str] | None:
        """(id, name) of the group registered on the web chat as `reference`, when `code` is that
        registration's code; None otherwise."""


class NoGroups:
    def search(self, query: str, cursor: str | None = None) -> SearchPage:
        return SearchPage((), 0, None, Mentions(rest=query))

    def public_group(self, group_id: int) -> GroupCard | None:
        return None

    def field_names(self) -> tuple[str, ...]:
        return ()

    def with_code(self, reference: str, code: str) -> tuple[int, str] | None:
        return None


@dataclass(frozen=True)
class Context:
    now: datetime
    knowledge: KnowledgeBase
    cases: CaseReader = field(default_factory=NoCases)
    groups: GroupFinder = field(default_factory=NoGroups)
    forms: Mapping[str, Form] = field(default_factory=lambda: FORMS)  # 団体登録 with the city's own lists
    channel: str = "line"  # where the person is: LINE is offered as a contact method only there
    draft_ttl: timedelta = timedelta(days=7)
    retention_years: int = 5
    private: bool = True  # False in a group chat: no personal data is asked for there
    relay: str | None = None  # reference of the case a person has taken: messages go to its thread
    tz: tzinfo = ZoneInfo("Asia/Tokyo")  # the city's: answers compare dated facts with its date
    own_groups: Callable[[], tuple[tuple[int, str], ...]] = lambda: ()  # (id, name) of the groups this person registered (read when asked)

    @property
    def city(self) -> CityProfile:
        return self.knowledge.profile

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def handle(state: State, event: Event, ctx: Context) -> Turn:
    conversation = _Conversation(copy.deepcopy(state), ctx)
    conversation.receive(event)
    return Turn(conversation.state.touched(ctx.now), _one_footer(conversation.replies), conversation.effects)


def _one_footer(replies: list[Reply]) -> list[Reply]:
    """A turn fits a phone: the first card keeps its footer, later cards lose theirs."""
    out: list[Reply] = []
    footer_seen = False
    for reply in replies:
        if isinstance(reply, Card) and reply.footer:
            if footer_seen:
                reply = replace(reply, footer="")
            footer_seen = True
        out.append(reply)
    return out


@dataclass
class _Conversation:
    state: State
    ctx: Context
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    claimed: list[tuple[int, str]] = field(default_factory=list)  # groups opened with their code in this turn
    expired: bool = False  # a draft left too long was discarded at the start of this turn

    # --- entry point ----------------------------------------------------------------------

    def receive(self, event: Event) -> None:
        if not self.ctx.private:
            self._in_group(event)
            return
        self._expire_old_draft()
        if isinstance(event, Follow):
            self.effects.append(SetContactActive(True))
            self.replies.append(r.greeting(self.ctx.city))
        elif isinstance(event, Unfollow):
            self.effects.append(SetContactActive(False))
        elif isinstance(event, Media):
            self.replies.append(r.media_note())
            self._prompt_again()
        elif isinstance(event, Postback):
            self._postback(decode(event.data))
        elif isinstance(event, Text):
            # NUL is the one character a database text column cannot hold; everything else is kept as typed.
            text = (event.text or "").replace("\x00", "")
            self._text_handlers[self.state.mode](text, detect(text))

    @property
    def form(self) -> Form:
        """The form of the draft (only called in the modes that have one)."""
        draft = self.state.draft
        assert draft is not None
        return self.ctx.forms[draft.form]

    @property
    def draft(self) -> Draft:
        assert self.state.draft is not None
        return self.state.draft

    def _title(self, form_name: str) -> str:
        return self.ctx.city.texts.forms[form_name].title

    def _expire_old_draft(self) -> None:
        if self.state.mode is Mode.IDLE and not self.state.draft:
            return
        if self.state.idle_for(self.ctx.now) <= self.ctx.draft_ttl.total_seconds():
            return
        if self.state.draft:
            self.replies.append(r.expired(self._title(self.state.draft.form), self.ctx.draft_ttl.days))
            self.expired = True
        self.state = State(token=self.state.token)

    def _in_group(self, event: Event) -> None:
        """In a group: answer questions, and invite people to a 1:1 chat for anything personal."""
        wants_personal = False
        if isinstance(event, Text):
            wants_personal = detect(event.text) in _PERSONAL
            if not wants_personal and looks_like_question(event.text):
                self._knowledge(event.text)
        elif isinstance(event, Postback):
            tap = decode(event.data)
            wants_personal = tap is not None and tap.action not in PUBLIC_ACTIONS
            if tap is not None and tap.action is Action.SHOW:
                self._show(tap.entry, tap.question, tap.passed_entries)
            elif tap is not None and tap.action in (Action.HELPFUL, Action.WRONG):
                self._feedback(tap, helpful=tap.action is Action.HELPFUL)
        if wants_personal:
            self.replies.append(r.private_only())

    # --- text, by mode --------------------------------------------------------------------

    @property
    def _text_handlers(self) -> dict[Mode, Callable[[str, Intent | None], None]]:
        return {
            Mode.IDLE: self._idle_text,
            Mode.CONSENT: self._consent_text,
            Mode.FORM: self._form_text,
            Mode.CONFIRM: self._confirm_text,
            Mode.PICK_EDIT: self._pick_edit_text,
            Mode.CONFIRM_CANCEL: self._confirm_cancel_text,
            Mode.CHECK_CODE: self._check_code_text,
            Mode.FIND_GROUPS: self._group_words_text,
            Mode.GRANTS: self._grant_words_text,
            Mode.GROUP_CODE: self._group_code_text,
        }

    def _idle_text(self, text: str, intent: Intent | None) -> None:
        reference = find_reference(text)
        if self.ctx.relay and intent is Intent.MENU:
            self.effects.append(CloseRelay(self.ctx.relay))
            self.replies.append(r.menu())
        elif self.ctx.relay and intent is not Intent.STATUS:  # a person has the case: they read everything else
            self.effects.append(RelayToCase(self.ctx.relay, text))
            self.replies.append(r.relayed(self.ctx.relay))
        elif intent in (Intent.CONSULT, Intent.PROPOSE):
            self._start("consultation" if intent is Intent.CONSULT else "proposal")
        elif intent is Intent.FIND_GROUPS:
            self._find_groups(text)
        elif intent is Intent.REGISTER_GROUP:
            self._start("group")
        elif intent in (Intent.UPDATE_GROUP, Intent.LEAVE_GROUP):
            self._own_groups(change=intent is Intent.UPDATE_GROUP)
        elif intent is Intent.GRANTS and self.ctx.knowledge.grants.steps:
            self._grants("")
        elif intent is Intent.STATUS or (reference and len(fold(text)) <= 40):
            self._status(reference)
        elif intent is Intent.MENU:
            self.replies.append(r.menu())
        elif intent is Intent.HELP:
            self.replies.append(r.help_text(self.ctx.city))
        elif intent is Intent.HUMAN:
            self.replies.append(r.human_note(self.ctx.city, in_form=False))
        elif intent in _COURTESIES:
            self.replies.append(_COURTESIES[intent](self.ctx.city))
        elif intent in _LEAVING:
            self.replies.append(r.menu("いま入力中のものはありません。ご用件をお選びください。"))
        elif _a_code_alone(text):  # a check or registration code with no reference: not a question to keep
            self.replies.append(r.code_without_reference())
        else:
            self._knowledge(text)

    def _form_text(self, text: str, intent: Intent | None) -> None:
        if not self._form_command(intent):
            self._answer(text)

    def _form_command(self, intent: Intent | None) -> bool:
        """Commands that work in every step of a form; True when `intent` was one."""
        if intent is Intent.CANCEL:
            self._ask_cancel()
        elif intent is Intent.BACK:
            self._review() if self.state.mode is Mode.PICK_EDIT else self._back()
        elif intent is Intent.RESTART:
            self._restart()
        elif intent is Intent.MENU:
            self.replies.append(r.in_progress(self._title(self.draft.form), self.state.token))
        elif intent in (Intent.HELP, Intent.HUMAN, Intent.STATUS):
            self._aside(intent)
        else:
            return False
        return True

    def _aside(self, intent: Intent) -> None:
        if intent is Intent.HELP:
            self.replies.append(r.help_text(self.ctx.city))
        elif intent is Intent.HUMAN:
            self.replies.append(r.human_note(self.ctx.city, in_form=True))
        else:
            self._status(None)
        self._prompt_again()

    def _consent_text(self, text: str, intent: Intent | None) -> None:
        folded = fold(text)
        if _YES.match(folded):
            self._consent(True)
        elif _NO.match(folded) or intent is Intent.CANCEL:
            self._consent(False)
        elif looks_like_question(text):
            self._knowledge(text)
            self._prompt_again()
        else:  # the notice is just above: its buttons, not the whole of it again
            self.replies.append(r.consent_buttons(self.state.token, english=in_english(text)))

    def _confirm_text(self, text: str, intent: Intent | None) -> None:
        folded = fold(text)
        if self._form_command(intent):
            return
        if _YES.match(folded):
            self._submit()
        elif folded.startswith(("修正", "直")):
            self._pick_edit()
        else:
            if looks_like_question(text):
                self._knowledge(text)
            self._prompt_again()

    def _pick_edit_text(self, text: str, intent: Intent | None) -> None:
        folded = fold(text)
        if self._form_command(intent):
            return
        if folded.startswith("確認"):
            self._review()
            return
        for f, _ in self.form.editable(self.draft.answers) if folded else ():
            if fold(f.label) in folded or folded in fold(f.label):
                self._edit(f.key)
                return
        self._pick_edit()

    def _confirm_cancel_text(self, text: str, intent: Intent | None) -> None:
        if _YES.match(fold(text)) or intent is Intent.CANCEL:
            self._discard()
        else:
            self._resume()

    def _check_code_text(self, text: str, intent: Intent | None) -> None:
        code = _code_in(text)
        if intent is None and code and not find_reference(text):
            self._check_code(code)
            return
        self._stop_checking()
        self._idle_text(text, intent)

    def _group_code_text(self, text: str, intent: Intent | None) -> None:
        """The reference and registration code of a group registered from another browser: in one
        message or one after the other; anything else leaves the question and is taken as usual."""
        code = _code_in(text)
        if code and self.state.checking:
            self._open_group(self.state.checking, code)
            return
        reference, given = _reference_and_code(text)
        if reference is None:
            if code and len(code) >= case_codes.REGISTRATION_LENGTH:
                self._prompt_again(lead="先に受付番号を送ってください。")
            else:
                self._stop_checking()
                self._idle_text(text, intent)
            return
        self.state.checking = reference
        if given:
            self._open_group(reference, given)
        else:
            self._prompt_again()

    def _answerable_question(self, text: str) -> bool:
        """Put as a question (「協働提案とは何ですか？」「センターどこ」) that the desk answers, or asks what about
        (「それって個人でも申し込めますか？」): not words to search on."""
        if not _put_as_a_question(text):
            return False
        answer = self.ctx.knowledge.ask(text, self.ctx.today)
        return not answer.declined or answer.reason == "vague"

    def _group_words_text(self, text: str, intent: Intent | None) -> None:
        self.state.mode = Mode.IDLE
        if intent is Intent.FIND_GROUPS or (intent is None and not self._answerable_question(text)):
            self._find_groups(text)
        else:
            self._idle_text(text, intent)

    # --- postbacks ------------------------------------------------------------------------

    def _postback(self, tap: Tap | None) -> None:
        if tap is None:
            self._stale()
            return
        if tap.action in FREE_ACTIONS:
            self._stop_checking()
            self._free_actions[tap.action](tap)
            if tap.action in ASIDES:
                self._prompt_again()
            return
        mode = self.state.mode
        if not self.state.token or tap.token != self.state.token or mode in _NO_FORM:
            self._stale()
            return
        modes, on_field, handler = self._form_actions[tap.action]
        if (modes and mode not in modes) or (on_field and not self._on_field(tap)):
            self._stale()
            return
        handler(tap)

    @property
    def _free_actions(self) -> dict[Action, Callable[[Tap], None]]:
        return {
            Action.MENU: lambda tap: self._menu(welcome=tap.value == "hello"),
            Action.ASK_PROMPT: lambda tap: self.replies.append(r.ask_prompt()),
            Action.CONSULT: lambda tap: self._start("consultation", preset=_consultation_preset(tap)),
            Action.PROPOSE: lambda tap: self._start("proposal"),
            Action.STATUS: lambda tap: self._status(None, r.page_number(tap.index)),
            Action.HELP: lambda tap: self.replies.append(r.help_text(self.ctx.city)),
            Action.HUMAN: lambda tap: self.replies.append(
                r.human_note(self.ctx.city, in_form=self.state.mode is not Mode.IDLE)),
            Action.SHOW: lambda tap: self._show(tap.entry, tap.question, tap.passed_entries),
            Action.WITHDRAW: lambda tap: self._ask_withdraw(tap.reference),
            Action.WITHDRAW_YES: lambda tap: self._withdraw(tap.reference),
            Action.FIND_GROUPS: lambda tap: self._find_groups(tap.value),
            Action.MORE_GROUPS: lambda tap: self._more_groups(tap.value, tap.index),
            Action.CONNECT: lambda tap: self._connect(tap.entry),
            Action.REGISTER: lambda tap: self._start("group"),
            Action.HELPFUL: lambda tap: self._feedback(tap, helpful=True),
            Action.WRONG: lambda tap: self._feedback(tap, helpful=False),
            Action.GRANTS: lambda tap: self._grants(tap.value),
            Action.GROUP_UPKEEP: self._group_upkeep,
        }

    @property
    def _form_actions(self) -> dict[Action, tuple[frozenset[Mode], bool, Callable[[Tap], None]]]:
        """Per action: the modes it is valid in (empty: any), whether it must be for the field
        being asked, and its handler."""
        form, anywhere = frozenset({Mode.FORM}), frozenset[Mode]()
        return {
            Action.CONSENT: (frozenset({Mode.CONSENT}), False, lambda tap: self._consent(tap.value == "yes")),
            Action.CHOOSE: (form, True, lambda tap: self._choose(tap.index)),
            Action.SKIP: (form, True, lambda tap: self._skip()),
            Action.USE_TEXT: (form, True, lambda tap: self._use_pending_text()),
            Action.RETRY: (form, True, lambda tap: self._retry()),
            Action.BACK: (form, False, lambda tap: self._back()),
            Action.CANCEL: (anywhere, False, lambda tap: self._ask_cancel()),
            Action.CANCEL_YES: (frozenset({Mode.CONFIRM_CANCEL}), False, lambda tap: self._discard()),
            Action.CANCEL_NO: (anywhere, False, lambda tap: self._resume()),
            Action.RESUME: (anywhere, False, lambda tap: self._resume()),
            Action.SUBMIT: (frozenset({Mode.CONFIRM}), False, lambda tap: self._submit()),
            Action.EDIT: (frozenset({Mode.CONFIRM}), False, lambda tap: self._pick_edit()),
            Action.EDIT_FIELD: (frozenset({Mode.PICK_EDIT}), False, lambda tap: self._edit(tap.field)),
            Action.REVIEW: (frozenset({Mode.PICK_EDIT}), False, lambda tap: self._review()),
            Action.PICKED: (form, True, lambda tap: self._picked()),
        }

    def _on_field(self, tap: Tap) -> bool:
        draft = self.state.draft
        return draft is not None and (tap.field or draft.asking) == draft.asking

    def _stale(self) -> None:
        if not self.expired:  # 続ける under an old draft: saying it was discarded is enough
            self.replies.append(r.stale_button())
        if self.state.mode in _NO_FORM:
            self.replies.append(r.menu())
        else:
            self._prompt_again()

    # --- knowledge, status and cases ------------------------------------------------------

    def _knowledge(self, text: str, extra: tuple[Choice, ...] = ()) -> Answer:
        """Answer from the knowledge base (a decline included)."""
        answer = self.ctx.knowledge.ask(text, today=self.ctx.today)
        if self.state.mode is Mode.IDLE and "提案" in fold(text):
            extra = extra + (Choice("提案する", Tap(Action.PROPOSE).encode()),)
        elsewhere = answer.route is not None and not answer.route.in_remit  # 住宅リフォームの補助金: another office's
        if not elsewhere and _SUBSIDY.search(fold(text)) and self.ctx.knowledge.grants.steps:
            extra = extra + (Choice("補助金をさがす", Tap(Action.GRANTS).encode()),)  # a way on: 助成金ナビ
        self.replies.extend(r.answer_replies(answer, extra, question=text))
        if self.state.mode is Mode.IDLE and notes.names_contact(text, self.ctx.city.centre_phone):  # 「…090-…に折り返し」
            self.replies.append(r.contact_not_taken(text))
        self._note(text, answer)
        return answer

    def _note(self, text: str, answer: Answer) -> None:
        """Declined, partial and unsure answers are kept for staff; never a form's answer (it may be personal)."""
        if self.state.mode is Mode.FORM or answer.reason in ("empty", "vague"):
            return
        if answer.abstained:
            self.effects.append(NoteQuestion("declined", text, answer.entry_id or "", answer.confidence))
        elif answer.partial:
            self.effects.append(NoteQuestion("partial", text, answer.entry_id or "", answer.confidence))
        elif answer.unsure:
            self.effects.append(NoteQuestion("low_confidence", text, answer.entry_id or "", answer.confidence))

    def _feedback(self, tap: Tap, helpful: bool) -> None:
        question = tap.question
        if question:
            self.effects.append(NoteQuestion("helpful" if helpful else "wrong", question, tap.entry))
        if helpful:
            self.replies.append(r.thanks())
            return
        passed = (*tap.passed_entries, tap.entry)  # every answer marked 違う for this question so far
        self.replies.append(r.wrong_answer(self.ctx.knowledge.alternatives(question, passed), question, passed))

    def _menu(self, welcome: bool = False) -> None:
        """The menu; `welcome` (the web chat's first visit): with what the desk does."""
        if self.ctx.relay and self.state.mode is Mode.IDLE:
            self.effects.append(CloseRelay(self.ctx.relay))
        self.replies.append(r.welcome(self.ctx.city) if welcome else r.menu())

    def _show(self, entry_id: str, question: str = "", passed: tuple[str, ...] = ()) -> None:
        """An entry tapped; picked among 「もしかして」, its 役に立った and 違う tell staff about that question."""
        answer = self.ctx.knowledge.show(entry_id, today=self.ctx.today)
        if answer is None:
            self.replies.append(r.stale_button())
        else:
            self.replies.extend(r.answer_replies(answer, question=question, passed=passed))

    def _titles(self) -> dict[str, str]:
        return {name: self._title(name) for name in FORMS}

    def _status(self, reference: str | None, page: int = 0) -> None:
        """The person's own cases (a page of them); a case submitted elsewhere is shown only for its check code."""
        own = self.ctx.cases.own()
        if reference is None:
            self.replies.append(r.case_list(own, self._titles(), CLOSED, page=page))
        elif mine := [c for c in own if c.reference == reference]:
            self.replies.append(r.case_list(mine, self._titles(), CLOSED))
        elif self.state.mode is Mode.IDLE:
            self.state.mode, self.state.checking, self.state.code_failures = Mode.CHECK_CODE, reference, 0
            self.replies.append(r.ask_check_code(reference))

    def _check_code(self, code: str) -> None:
        reference = self.state.checking or ""
        case = self.ctx.cases.by_check_code(reference, code)
        if case is not None:
            self._stop_checking()
            self.replies.append(r.checked_case(case, self._titles(), self.ctx.city))
            return
        self.state.code_failures += 1
        tries_left = MAX_TRIES - self.state.code_failures
        self.replies.append(r.wrong_check_code(reference, tries_left))
        if tries_left <= 0:
            self._stop_checking()

    def _stop_checking(self) -> None:
        """Stop waiting for a check code or a group's registration code (or for the words of a group search)."""
        if self.state.mode in (Mode.CHECK_CODE, Mode.FIND_GROUPS, Mode.GRANTS, Mode.GROUP_CODE):
            self.state.mode = Mode.IDLE
        self.state.checking, self.state.code_failures, self.state.group_action = None, 0, ""

    def _own_open_case(self, reference: str) -> CaseView | None:
        return next((c for c in self.ctx.cases.own() if c.reference == reference and c.status not in CLOSED), None)

    def _ask_withdraw(self, reference: str) -> None:
        case = self._own_open_case(reference)
        self.replies.append(r.confirm_withdraw(reference) if case else r.case_not_found(reference))

    def _withdraw(self, reference: str) -> None:
        if self._own_open_case(reference) is None:
            self.replies.append(r.case_not_found(reference))
            return
        self.effects.append(WithdrawCase(reference))
        self.replies.append(Say(r.status_notice(case_status.WITHDRAWN, reference, self.ctx.city), r.MENU_CHOICES))

    # --- the group directory (仲間をさがす) ---------------------------------------------------

    def _find_groups(self, query: str) -> None:
        """Public groups for the words (English through the city's glossary); asks for them when there are
        none to search on."""
        self._stop_checking()
        if asks_only_to_search(query):
            query = ""
        elif in_english(query):
            query = self.ctx.knowledge.glossary.translate(query) or query
        page = self.ctx.groups.search(query) if query.strip() else None
        if page is None or not (page.total or _names_something(page.understood)):
            if self.state.mode is Mode.IDLE:
                self.state.mode = Mode.FIND_GROUPS
            self.replies.append(r.group_search_prompt(self.ctx.groups.field_names(), tried=page is not None,
                                                      own=bool(self.ctx.own_groups()) or self.ctx.channel == WEB))
            return
        self.state.group_query = query
        if not page.total and self.state.mode is Mode.IDLE:
            self.state.mode = Mode.FIND_GROUPS  # none found: the next words typed are another try
        self.replies.extend(r.group_results(page, 0, search_id(query), own=bool(self.ctx.own_groups())))

    def _more_groups(self, search: str, cursor: str) -> None:
        query = self.state.group_query
        try:
            page = self.ctx.groups.search(query, cursor) if query and search == search_id(query) else None
        except InvalidCursor:
            page = None
        if page is None or not page.hits:
            self.replies.append(r.stale_button())
            self.replies.append(r.group_search_prompt(self.ctx.groups.field_names()))
            return
        self.replies.extend(r.group_results(page, int(cursor), search_id(query or ""), own=bool(self.ctx.own_groups())))

    def _connect(self, entry: str) -> None:
        """この団体とつながりたい: a consultation that names the group (the centre makes the contact)."""
        group = self.ctx.groups.public_group(int(entry)) if entry.isdecimal() and entry.isascii() else None
        if group is None:
            self.replies.append(r.group_gone())
            return
        if self.state.mode is Mode.IDLE:
            self.replies.append(r.connecting(group))
        self._start("consultation", preset={"group": f"{group.name}（団体ID {group.id}）"})

    def _group_upkeep(self, tap: Tap) -> None:
        """The yearly confirmation's buttons: 変更する starts 団体登録 under the group's name (approval
        updates the entry); the others are recorded for the group's own applicant (bot/group_upkeep.py)."""
        if not tap.entry and tap.value in ("change", "withdraw"):  # 団体情報の変更 beside a search: which group
            self._own_groups(change=tap.value == "change")
        elif not (tap.entry.isdecimal() and tap.entry.isascii()):
            self._stale()
        elif tap.value == "change":
            self._start("group", preset=self._registered_answers(int(tap.entry)))
        elif tap.value in r.UPKEEP_ANSWERS:
            self.effects.append(AnswerGroupUpkeep(int(tap.entry), tap.value))
            self.replies.append(r.group_upkeep_answered(tap.value))
        else:
            self._stale()

    def _registered_answers(self, group_id: int) -> dict[str, str]:
        """団体登録's answers for a change: the entry as published (so the form opens on its summary),
        or at least the name; `changes` tells the approval which entry to update (a renamed one too)."""
        group = self.ctx.groups.public_group(group_id)
        name = dict(self._owned).get(group_id) or (group.name if group else "")
        if not name:
            return {}
        mine = {"changes": f"{name}（団体ID {group_id}）"} if group_id in dict(self._owned) else {}
        if group is None:
            return {"name": name, **mine}
        return {"name": group.name, "kind": group.kind, "fields": "、".join(group.fields),
                "areas": "、".join(group.areas), "offers": group.offers, "seeks": group.seeks,
                "contact": group.contact, "contact_public": "はい" if group.contact_public else "いいえ",
                "url": group.url, **mine}

    @property
    def _owned(self) -> tuple[tuple[int, str], ...]:
        """(id, name) of the groups this person registered, with any opened by its code in this turn."""
        return self.ctx.own_groups() + tuple(self.claimed)

    def _own_groups(self, change: bool) -> None:
        """団体情報の変更 / 団体の登録をやめる, for the groups this person registered. On the web chat,
        a session that registered none is asked for a registration's reference and code instead."""
        owned = self._owned
        if not owned and self.ctx.channel == WEB:
            if self.state.mode not in _NO_FORM:  # a form is open: it is offered again first
                self._start("group")
                return
            self._stop_checking()
            self.state.mode, self.state.group_action = Mode.GROUP_CODE, "change" if change else "withdraw"
            self._prompt_again()
            return
        if change and len(owned) == 1:
            self._group_upkeep(Tap(Action.GROUP_UPKEEP, entry=str(owned[0][0]), value="change"))
        else:
            self.replies.append(r.own_groups(owned, change))

    def _open_group(self, reference: str, code: str) -> None:
        """A registration's code from another browser: right, the group is this person's from now on
        and 団体情報の変更 / 団体の登録をやめる go on as for its applicant; wrong, a few more tries."""
        found = self.ctx.groups.with_code(reference, code)
        if found is None:
            self.state.code_failures += 1
            tries_left = MAX_TRIES - self.state.code_failures
            self.replies.append(r.wrong_registration_code(reference, tries_left))
            if tries_left <= 0:
                self._stop_checking()
            return
        change = self.state.group_action != "withdraw"
        self._stop_checking()
        self.claimed.append(found)
        self.effects.append(ClaimGroup(found[0], reference, code))
        self.replies.append(r.group_opened(found[1]))
        self._own_groups(change)

    # --- 助成金ナビ ------------------------------------------------------------------------

    def _grants(self, path: str) -> None:
        """The next question for the answers so far (a button's path), or the programs that fit them."""
        guide = self.ctx.knowledge.grants
        answers = guide.answers(path)
        if answers is None:  # a button of an older version of the questions
            self.replies.append(r.stale_button())
            answers = {}
        step = guide.next_step(answers)
        if step is None:
            if self.state.mode is Mode.GRANTS:
                self.state.mode = Mode.IDLE
            self.state.grant_path = ""
            self.replies.extend(grant_replies.grant_results(guide, answers, self.ctx.today,
                                                            self.ctx.knowledge.registry))
            return
        if self.state.mode is Mode.IDLE:
            self.state.mode = Mode.GRANTS
        self.state.grant_path = path_of(answers, guide.steps)
        lead = "" if answers else grant_replies.grant_start_lead()
        self.replies.append(grant_replies.grant_step(step, self.state.grant_path, len(answers) + 1,
                                                     len(guide.steps), lead))

    def _grant_words_text(self, text: str, intent: Intent | None) -> None:
        """An option typed instead of tapped. Words the step's options do not name are asked again,
        unless they are a command, or put as a question (「センターの場所は？」, or in English or romaji):
        those leave 助成金ナビ and are answered (or declined) as anywhere else."""
        guide = self.ctx.knowledge.grants
        answers = guide.answers(self.state.grant_path) or {}
        step = guide.next_step(answers)
        option = step.option_in(text) if step is not None else None
        typed_option = option is not None and len(fold(text)) <= OPTION_TYPED_CHARS and not kinds.asks(text)  # 「npo」
        if step is None or intent is not None or (_put_as_a_question(text) and not typed_option):
            self.state.mode = Mode.IDLE
            self._idle_text(text, intent)
            return
        if option is None:
            self.replies.append(grant_replies.grant_step(step, self.state.grant_path, len(answers) + 1,
                                                         len(guide.steps), grant_replies.NOT_AN_OPTION))
            return
        self._grants(path_of({**answers, step.key: option.id}, guide.steps))

    # --- the form -------------------------------------------------------------------------

    def _start(self, form_name: str, preset: dict[str, str] | None = None) -> None:
        if self.state.mode is not Mode.IDLE:
            if self.state.draft:
                self.replies.append(r.in_progress(self._title(self.state.draft.form), self.state.token))
            else:
                self._prompt_again()
            return
        self.state = State(mode=Mode.CONSENT, pending_form=form_name, token=_new_token(self.ctx.now),
                           preset=dict(preset or {}))
        self._prompt_again()

    def _consent(self, agreed: bool) -> None:
        form_name = self.state.pending_form
        if not agreed or form_name not in FORMS:
            self.state = State(token=self.state.token)
            self.replies.append(r.consent_declined())
            return
        self.state.mode, self.state.pending_form = Mode.FORM, None
        self.state.draft = Draft(form=form_name, answers=self.state.preset)
        self.state.preset = {}
        self.replies.append(Say(self.ctx.city.texts.forms[form_name].intro))
        self._advance()

    def _answer(self, text: str, side_questions: bool = True) -> None:
        draft = self.draft
        current = self.form.field(draft.asking or "")
        # Where a name is asked, a question is answered or held (typed again, it is the name); elsewhere
        # free text is the answer: a consultation is often itself a question
        if side_questions and current.a_name and self._put_as_question(text) and text != draft.pending_text:
            answer = self._knowledge(text, extra=(r.use_as_answer_choice(current, self.state.token),))
            answered = not answer.abstained
            if not answered and answer.route is None:  # a route's decline says where to ask: it stays
                self.replies.pop()
            draft.pending_text = text
            lead = ("ご質問にお答えしました。続けて、" if answered else
                    r.USE_AS_ANSWER_HINT if answer.route is not None else r.SIDE_QUESTION_UNANSWERED)
            self._prompt_again(lead=lead)
            return
        result = current.check(text, draft.answers, self.ctx.channel)
        if isinstance(result, Valid):
            self._set_answer(current, self._with_picked(current, result.value))
            return
        if side_questions and looks_like_question(text):
            if not self._knowledge(text).abstained:
                self._prompt_again()
                return
            self.replies.pop()
        draft.failures += 1
        if draft.failures >= MAX_TRIES:
            self.replies.append(r.too_many_tries(current, self.state.token))
        else:
            self._prompt_again(lead=result.reason)

    @staticmethod
    def _put_as_question(text: str) -> bool:
        return looks_like_question(text) and kinds.asks(text) and len(text) <= SIDE_QUESTION_CHARS

    def _use_pending_text(self) -> None:
        text, current = self.draft.pending_text, self.form.field(self.draft.asking or "")
        if not text:
            self._stale()
            return
        before = len(self.replies)
        self._answer(text, side_questions=False)
        if self.draft.answers.get(current.key) == text:  # said back: a question became the answer
            self.replies.insert(before, Say(f"「{text}」を「{current.label}」として受け付けました。"))

    def _skip(self) -> None:
        current = self.form.field(self.draft.asking or "")
        self._set_answer(current, current.skip_answer)

    def _retry(self) -> None:
        self.draft.failures = 0
        self._prompt_again()

    def _choose(self, index: str) -> None:
        current = self.form.field(self.draft.asking or "")
        offered = current.offered(self.ctx.channel)
        if not (index.isdecimal() and index.isascii() and int(index) < len(offered)):
            self._stale()
        elif current.multiple:
            self._toggle(offered[int(index)])
        else:
            self._set_answer(current, offered[int(index)])

    def _toggle(self, choice: str) -> None:
        """A tap on a field that takes several: picked, or unpicked when tapped again."""
        picked = self.draft.picked
        if choice in picked:
            picked.remove(choice)
        else:
            picked.append(choice)
        self._prompt_again()

    def _picked(self) -> None:
        if self.draft.picked:
            self._set_answer(self.form.field(self.draft.asking or ""), "、".join(self.draft.picked))
        else:
            self._prompt_again(lead="ひとつ以上選んでください。")

    def _with_picked(self, current: Field, value: str) -> str:
        """A typed answer to a field that takes several adds to what was tapped before it."""
        if not (current.multiple and self.draft.picked):
            return value
        return "、".join(dict.fromkeys([*self.draft.picked, *value.split("、")]))

    def _set_answer(self, current: Field, value: str) -> None:
        draft, form = self.draft, self.form
        expected_before = {f.key for f in form.expected(draft.answers)}
        dropped = []
        if draft.answers.get(current.key) != value:
            for dependent in form.invalidated(current.key, draft.answers):
                if draft.answers.pop(dependent, None) is not None:
                    dropped.append(form.field(dependent).label)
        draft.answers[current.key] = value
        if current.key in draft.history:
            draft.history.remove(current.key)
        draft.history.append(current.key)
        draft.failures, draft.pending_text, draft.picked = 0, None, []
        added = [f.label for f in form.expected(draft.answers) if f.key not in expected_before]
        lead = r.asked_again(current.label, dropped) if dropped else ""
        self._advance(lead=lead + (r.added_fields(added) if added else ""))

    def _advance(self, lead: str = "") -> None:
        draft = self.draft
        upcoming = self.form.next_field(draft.answers, after=None if draft.editing else draft.asking)
        if upcoming is None:
            draft.asking, draft.editing = None, False
            self._review()
            return
        draft.asking = upcoming.key
        self.state.mode = Mode.FORM
        self._prompt_again(lead=lead)

    def _keeps_on_back(self) -> bool:
        """An answer being changed from the summary: 戻る (確認に戻る) keeps it and returns there."""
        return self.draft.editing and self.draft.asking in self.draft.answers

    def _back(self) -> None:
        draft = self.draft
        if self._keeps_on_back():
            draft.asking, draft.editing, draft.failures, draft.pending_text, draft.picked = None, False, 0, None, []
            self._review()
            return
        if draft.editing:  # asked again because of a changed answer: going back would undo the answers after it
            self._prompt_again(lead="修正の途中です。この項目にお答えください。")
            return
        if not draft.history:
            self._prompt_again(lead="これが最初の質問です。")
            return
        previous = draft.history.pop()
        draft.asking, draft.failures, draft.pending_text = previous, 0, None
        self.state.mode = Mode.FORM
        self._prompt_again(current=draft.answers.pop(previous, None))

    def _restart(self) -> None:
        self.state.draft = Draft(form=self.draft.form, answers=self.form.given(self.draft.answers))
        self.replies.append(Say("最初からやり直します。"))
        self._advance()

    def _review(self) -> None:
        self.state.mode = Mode.CONFIRM
        self._prompt_again()

    def _pick_edit(self) -> None:
        self.state.mode = Mode.PICK_EDIT
        self._prompt_again()

    def _edit(self, key: str) -> None:
        draft = self.draft
        if key not in {f.key for f in self.form.applicable(draft.answers) if not f.given}:
            self._pick_edit()
            return
        draft.asking, draft.editing, draft.failures = key, True, 0
        self.state.mode = Mode.FORM
        self._prompt_again(current=draft.answers.get(key))

    def _ask_cancel(self) -> None:
        if self.state.mode is Mode.CONSENT:
            self._consent(False)
            return
        if self.state.mode is not Mode.CONFIRM_CANCEL:
            self.state.resume_mode = self.state.mode
        self.state.mode = Mode.CONFIRM_CANCEL
        self._prompt_again()

    def _resume(self) -> None:
        if self.state.mode is Mode.CONFIRM_CANCEL:
            self.state.mode = self.state.resume_mode or Mode.FORM
            self.state.resume_mode = None
        self._prompt_again()

    def _discard(self) -> None:
        self.state = State(token=self.state.token)
        self.replies.append(r.cancelled())

    def _submit(self) -> None:
        form, draft = self.form, self.draft
        rows = form.shown(draft.answers)
        registration = form.name == "group" and self.ctx.channel == WEB and not draft.answers.get("changes")
        self.effects.append(SubmitCase(kind=form.name, answers=tuple((f.key, value) for f, value in rows),
                                       registration=registration))
        texts = self.ctx.city.texts.forms[form.name]
        self.replies.append(r.submitted(texts.title, texts.next_steps, registration))
        self.state = State(token=self.state.token)

    # --- what the conversation is waiting for ---------------------------------------------

    def _prompt_again(self, lead: str = "", current: str | None = None) -> None:
        """Say again what the conversation is waiting for (nothing when idle)."""
        token = self.state.token
        mode = self.state.mode
        if mode is Mode.CONSENT:
            form_name = self.state.pending_form or "consultation"
            published = form_name in FORMS and FORMS[form_name].published
            self.replies.append(r.consent_notice(self._title(form_name), self.ctx.city, token, self.ctx.retention_years,
                                                 published))
        elif mode is Mode.FORM:
            self.replies.append(self._field_prompt(lead, current))
        elif mode is Mode.CONFIRM:
            self.replies.append(r.summary(self._title(self.form.name), self.form.shown(self.draft.answers), token))
        elif mode is Mode.PICK_EDIT:
            self.replies.append(r.pick_field(self.form.editable(self.draft.answers), token))
        elif mode is Mode.CONFIRM_CANCEL:
            self.replies.append(r.confirm_cancel(self._title(self.draft.form), token))
        elif mode is Mode.CHECK_CODE:
            self.replies.append(r.ask_check_code(self.state.checking or ""))
        elif mode is Mode.GROUP_CODE:
            self.replies.append(r.ask_registration_code(self.state.checking, lead))

    def _field_prompt(self, lead: str, current: str | None) -> Say:
        draft, form, token = self.draft, self.form, self.state.token
        asking = form.field(draft.asking or "")
        expected = [f.key for f in form.expected(draft.answers)]
        number = expected.index(asking.key) + 1 if asking.key in expected else len(expected)
        say = r.field_prompt(asking, asking.prompt_for(draft.answers), asking.offered(self.ctx.channel), token,
                             (number, len(expected)), current, lead, picked=tuple(draft.picked),
                             editing=self._keeps_on_back(), back=not draft.editing)
        if draft.pending_text and asking.a_name:
            say = Say(say.text, (r.use_as_answer_choice(asking, token),) + say.choices)
        return say


def _consultation_preset(tap: Tap) -> dict[str, str]:
    """What 職員に相談する carries into the consultation: the question it was under, and who is asking
    when the button knows it (助成金ナビ's first answer, if it is one of the form's choices)."""
    preset = {"asked": tap.question} if tap.question else {}
    return preset | ({"applicant_type": tap.value} if tap.value in APPLICANT_TYPES else {})


def _put_as_a_question(text: str) -> bool:
    """「協働提案とは何ですか？」「センターどこ」「…折り返しください」, or English or romaji: not an option's words."""
    return kinds.asks(text) or kinds.question_kind(text) is not None or in_english(text)


def _a_code_alone(text: str) -> bool:
    """A message that is only a code (ABC234, ABCDE-FGHJK, XKQMNP), not a word."""
    return case_codes.looks_like_code(text.strip())


def _code_in(text: str) -> str | None:
    """The text as a code (ABCDE-FGHJK or ABC123: any case, with or without the hyphen), or None."""
    code = _CODE_SEPARATORS.sub("", fold(text))
    return code.upper() if _CHECK_CODE.match(code) else None


def _reference_and_code(text: str) -> tuple[str | None, str | None]:
    """A reference and a registration code typed in one message, each word read on its own (folded
    together, the code's first digits would run into the reference's number)."""
    reference = code = None
    for word in unicodedata.normalize("NFKC", text).split():
        found = None if reference else find_reference(word)
        if found:
            reference, word = found, REFERENCE.sub("", fold(word).upper(), count=1)
        candidate = _code_in(_WORD_EDGES.sub("", fold(word)))
        if code is None and candidate and len(candidate) >= case_codes.REGISTRATION_LENGTH:
            code = candidate
    return reference, code


def _names_something(understood: Mentions) -> bool:
    return bool(understood.fields or understood.areas or understood.kinds)


def search_id(query: str) -> str:
    """A short name of a search, carried by its もっと見る button (an older search's button is stale)."""
    return format(zlib.crc32(query.encode("utf-8")), "08x")


def _new_token(now: datetime) -> str:
    return format(int(now.timestamp() * 1000) % (36 ** 8), "x")
