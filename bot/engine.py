"""The conversation engine: (state, event, context) → turn (new state, replies, effects).

A plain function with no I/O. The context carries the clock, the knowledge base and a read-only
view of the person's own cases; the runtime (bot/runtime.py) stores the new state and carries
out the effects in one transaction.
"""
from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import replies as r
from bot.forms import FORMS, SKIPPED, Field, Form
from bot.intents import Intent, detect, find_reference, looks_like_question
from bot.messages import (
    Choice,
    CloseRelay,
    Event,
    Follow,
    Media,
    Postback,
    RelayToCase,
    SetContactActive,
    SubmitCase,
    Text,
    Turn,
    Unfollow,
    WithdrawCase,
)
from bot.state import Draft, State
from bot.validators import Valid
from knowledge.base import KnowledgeBase
from store import case_status
from store.case_status import CLOSED

MAX_TRIES = 3
_YES = re.compile(r"^(同意(する|します)?|はい|ok|オッケー|おっけー|いいよ|いいです|大丈夫です?|了解|承知しました|送信(する|します)?|お願いします)[。!]*$")
_NO = re.compile(r"^(同意しない|同意しません|いいえ|いや|しない|しません|no)[。!]*$")


@dataclass(frozen=True)
class CaseView:
    reference: str
    kind: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class Context:
    now: datetime
    knowledge: KnowledgeBase
    cases: Callable[[], list[CaseView]] = list
    draft_ttl: timedelta = timedelta(days=7)
    retention_years: int = 5
    private: bool = True  # False in a group chat: no personal data is asked for there
    relay: str | None = None  # reference of the case a person has taken: messages go to its thread


def handle(state: State, event: Event, ctx: Context) -> Turn:
    conversation = _Conversation(copy.deepcopy(state), ctx)
    conversation.receive(event)
    return Turn(conversation.state.touched(ctx.now), conversation.replies, conversation.effects)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower().replace(" ", "")


@dataclass
class _Conversation:
    state: State
    ctx: Context
    replies: list = field(default_factory=list)
    effects: list = field(default_factory=list)

    # --- entry point ----------------------------------------------------------------------

    def receive(self, event: Event) -> None:
        if not self.ctx.private:
            self._in_group(event)
            return
        self._expire_old_draft()
        if isinstance(event, Follow):
            self.effects.append(SetContactActive(True))
            self.replies.append(r.greeting(self.ctx.knowledge.profile.desk_name))
        elif isinstance(event, Unfollow):
            self.effects.append(SetContactActive(False))
        elif isinstance(event, Media):
            self.replies.append(r.media_note())
            self._prompt_again()
        elif isinstance(event, Postback):
            self._postback(r.parse_postback(event.data))
        elif isinstance(event, Text):
            # NUL is the one character a database text column cannot hold; everything else is kept as typed.
            self._text((event.text or "").replace("\x00", ""))

    @property
    def form(self) -> Form | None:
        draft = self.state.draft
        return FORMS.get(draft.form) if draft else None

    def _expire_old_draft(self) -> None:
        if self.state.mode == "idle" and not self.state.draft:
            return
        if self.state.idle_for(self.ctx.now) <= self.ctx.draft_ttl.total_seconds():
            return
        if self.form:
            self.replies.append(r.expired(self.form, self.ctx.draft_ttl.days))
        self.state = State(token=self.state.token)

    def _in_group(self, event: Event) -> None:
        """In a group: answer questions, and invite people to a 1:1 chat for anything personal."""
        wants_personal = False
        if isinstance(event, Text):
            intent = detect(event.text)
            wants_personal = intent in (Intent.CONSULT, Intent.PROPOSE, Intent.STATUS, Intent.HUMAN)
            if not wants_personal and looks_like_question(event.text):
                self._knowledge(event.text)
        elif isinstance(event, Postback):
            data = r.parse_postback(event.data)
            wants_personal = data.get("a") not in ("show", "menu", "ask_prompt", "help")
            if data.get("a") == "show":
                self._show(data.get("e", ""))
        if wants_personal:
            self.replies.append(r.private_only())

    # --- text -----------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        intent = detect(text)
        mode = self.state.mode
        if mode == "idle":
            self._idle_text(text, intent)
        elif mode == "consent":
            self._consent_text(text, intent)
        elif intent in (Intent.CANCEL,):
            self._ask_cancel()
        elif intent is not None and intent not in (Intent.CONSULT, Intent.PROPOSE) and self._form_command(intent):
            pass
        elif mode == "form":
            self._answer(text)
        elif mode == "confirm":
            self._confirm_text(text)
        elif mode == "pick_edit":
            self._pick_edit_text(text)
        elif mode == "confirm_cancel":
            self._confirm_cancel_text(text)

    def _idle_text(self, text: str, intent: Intent | None) -> None:
        reference = find_reference(text)
        if self.ctx.relay and intent is Intent.MENU:
            self.effects.append(CloseRelay(self.ctx.relay))
            self.replies.append(r.menu())
        elif self.ctx.relay and intent is not Intent.STATUS:  # a person has the case: they read everything else
            self.effects.append(RelayToCase(self.ctx.relay, text))
            self.replies.append(r.relayed(self.ctx.relay))
        elif intent is Intent.CONSULT:
            self._start("consultation")
        elif intent is Intent.PROPOSE:
            self._start("proposal")
        elif intent is Intent.STATUS or (reference and len(_fold(text)) <= 40):
            self._status(reference)
        elif intent is Intent.MENU:
            self.replies.append(r.menu())
        elif intent is Intent.HELP:
            self.replies.append(r.help_text())
        elif intent is Intent.HUMAN:
            self.replies.append(self._human(in_form=False))
        elif intent in (Intent.CANCEL, Intent.BACK, Intent.RESTART):
            self.replies.append(r.menu("いま入力中のものはありません。ご用件をお選びください。"))
        else:
            self._knowledge(text)

    def _form_command(self, intent: Intent) -> bool:
        """Commands that work inside a form; True when handled."""
        if intent is Intent.BACK:
            self._review() if self.state.mode == "pick_edit" else self._back()
        elif intent is Intent.RESTART:
            self._restart()
        elif intent is Intent.MENU:
            self.replies.append(r.in_progress(self.form, self.state.token))
        elif intent is Intent.HELP:
            self.replies.append(r.help_text())
            self._prompt_again()
        elif intent is Intent.HUMAN:
            self.replies.append(self._human(in_form=True))
            self._prompt_again()
        elif intent is Intent.STATUS:
            self._status(None)
            self._prompt_again()
        else:
            return False
        return True

    def _consent_text(self, text: str, intent: Intent | None) -> None:
        folded = _fold(text)
        if _YES.match(folded):
            self._consent(True)
        elif _NO.match(folded) or intent is Intent.CANCEL:
            self._consent(False)
        else:
            if looks_like_question(text):
                self._knowledge(text)
            self._prompt_again()

    def _confirm_text(self, text: str) -> None:
        folded = _fold(text)
        if _YES.match(folded):
            self._submit()
        elif folded.startswith(("修正", "直")):
            self._pick_edit()
        else:
            if looks_like_question(text):
                self._knowledge(text)
            self._prompt_again()

    def _pick_edit_text(self, text: str) -> None:
        folded = _fold(text)
        if folded.startswith("確認"):
            return self._review()
        if not folded:
            return self._pick_edit()
        for f, _ in self.form.shown(self.state.draft.answers):
            if _fold(f.label) in folded or folded in _fold(f.label):
                return self._edit(f.key)
        self._pick_edit()

    def _confirm_cancel_text(self, text: str) -> None:
        folded = _fold(text)
        if _YES.match(folded) or detect(text) is Intent.CANCEL:
            self._discard()
        else:
            self._resume()

    # --- postbacks ------------------------------------------------------------------------

    def _postback(self, data: dict[str, str]) -> None:
        action = data.get("a", "")
        simple = {
            "menu": self._menu,
            "withdraw": lambda: self._ask_withdraw(data.get("r", "")),
            "withdraw_yes": lambda: self._withdraw(data.get("r", "")),
            "ask_prompt": lambda: self.replies.append(r.ask_prompt()),
            "consult": lambda: self._start("consultation"),
            "propose": lambda: self._start("proposal"),
            "status": lambda: self._status(None),
            "help": lambda: self.replies.append(r.help_text()),
            "human": lambda: self.replies.append(self._human(in_form=self.state.mode != "idle")),
            "show": lambda: self._show(data.get("e", "")),
        }
        if action in simple:
            simple[action]()
            if action in ("status", "help", "show", "human") and self.state.mode != "idle":
                self._prompt_again()
            return
        if not self.state.token or data.get("t") != self.state.token or self.state.mode == "idle":
            self.replies.append(r.stale_button())
            self._prompt_again() if self.state.mode != "idle" else self.replies.append(r.menu())
            return
        self._form_postback(action, data)

    def _form_postback(self, action: str, data: dict[str, str]) -> None:
        draft, mode = self.state.draft, self.state.mode
        on_field = mode == "form" and draft is not None and data.get("f", draft.asking) == draft.asking
        if action == "consent" and mode == "consent":
            self._consent(data.get("v") == "yes")
        elif action == "choose" and on_field:
            self._choose(data.get("i", ""))
        elif action == "skip" and on_field:
            self._set_answer(self.form.field(draft.asking), SKIPPED)
        elif action == "use_text" and on_field and draft.pending_text:
            self._answer(draft.pending_text, side_questions=False)
        elif action == "retry" and on_field:
            draft.failures = 0
            self._prompt_again()
        elif action == "back" and mode == "form":
            self._back()
        elif action == "cancel":
            self._ask_cancel()
        elif action == "cancel_yes" and mode == "confirm_cancel":
            self._discard()
        elif action in ("cancel_no", "resume"):
            self._resume() if mode == "confirm_cancel" else self._prompt_again()
        elif action == "submit" and mode == "confirm":
            self._submit()
        elif action == "edit" and mode == "confirm":
            self._pick_edit()
        elif action == "edit_field" and mode == "pick_edit":
            self._edit(data.get("f", ""))
        elif action == "review" and mode == "pick_edit":
            self._review()
        else:
            self.replies.append(r.stale_button())
            self._prompt_again()

    # --- knowledge and status -------------------------------------------------------------

    def _knowledge(self, text: str, extra: tuple[Choice, ...] = ()) -> bool:
        """Answer from the knowledge base; True when it answered (did not decline)."""
        answer = self.ctx.knowledge.ask(text)
        if self.state.mode == "idle":
            extra = extra + _actions_for(text)
        self.replies.extend(r.answer_replies(answer, extra))
        return not answer.abstained

    def _menu(self) -> None:
        if self.ctx.relay and self.state.mode == "idle":
            self.effects.append(CloseRelay(self.ctx.relay))
        self.replies.append(r.menu())

    def _own_open_case(self, reference: str) -> CaseView | None:
        return next((c for c in self.ctx.cases() if c.reference == reference and c.status not in CLOSED), None)

    def _ask_withdraw(self, reference: str) -> None:
        case = self._own_open_case(reference)
        self.replies.append(r.confirm_withdraw(reference) if case else r.case_not_found(reference))

    def _withdraw(self, reference: str) -> None:
        if self._own_open_case(reference) is None:
            self.replies.append(r.case_not_found(reference))
            return
        self.effects.append(WithdrawCase(reference))
        self.replies.append(r.Say(r.status_notice(case_status.WITHDRAWN, reference), r.MENU_CHOICES))

    def _show(self, entry_id: str) -> None:
        answer = self.ctx.knowledge.show(entry_id)
        if answer is None:
            self.replies.append(r.stale_button())
        else:
            self.replies.extend(r.answer_replies(answer))

    def _status(self, reference: str | None) -> None:
        cases = self.ctx.cases()
        if reference:
            cases = [c for c in cases if c.reference == reference]
            if not cases:
                self.replies.append(r.case_not_found(reference))
                return
        titles = {name: form.title for name, form in FORMS.items()}
        self.replies.append(r.case_list(cases, titles, CLOSED))

    def _human(self, in_form: bool):
        profile = self.ctx.knowledge.profile
        return r.human_note(profile.centre_name, profile.centre_phone, in_form)

    # --- the form -------------------------------------------------------------------------

    def _start(self, form_name: str) -> None:
        if self.state.mode != "idle":
            if self.form:
                self.replies.append(r.in_progress(self.form, self.state.token))
            else:
                self._prompt_again()
            return
        self.state = State(mode="consent", pending_form=form_name, token=_new_token(self.ctx.now))
        self._prompt_again()

    def _consent(self, agreed: bool) -> None:
        form_name = self.state.pending_form
        if not agreed or form_name not in FORMS:
            self.state = State(token=self.state.token)
            self.replies.append(r.consent_declined())
            return
        self.state.mode, self.state.pending_form = "form", None
        self.state.draft = Draft(form=form_name)
        self.replies.append(r.Say(FORMS[form_name].intro))
        self._advance()

    def _answer(self, text: str, side_questions: bool = True) -> None:
        draft, form = self.state.draft, self.form
        current = form.field(draft.asking)
        if side_questions and current.accepts_anything and looks_like_question(text) and len(text) <= 80:
            if self._knowledge(text, extra=(r.use_as_answer_choice(current, self.state.token),)):
                draft.pending_text = text
                self._prompt_again(lead="ご質問にお答えしました。続けて、")
                return
            self.replies.pop()
        result = current.check(text, draft.answers)
        if isinstance(result, Valid):
            self._set_answer(current, result.value)
            return
        if side_questions and looks_like_question(text):
            if self._knowledge(text):
                self._prompt_again()
                return
            self.replies.pop()
        draft.failures += 1
        if draft.failures >= MAX_TRIES:
            self.replies.append(r.too_many_tries(current, self.state.token))
        else:
            self._prompt_again(lead=result.reason)

    def _choose(self, index: str) -> None:
        current = self.form.field(self.state.draft.asking)
        if index.isdecimal() and index.isascii() and int(index) < len(current.choices):
            self._set_answer(current, current.choices[int(index)])
        else:
            self.replies.append(r.stale_button())
            self._prompt_again()

    def _set_answer(self, current: Field, value: str) -> None:
        draft = self.state.draft
        if draft.answers.get(current.key) != value:
            for dependent in self.form.dependents(current.key):
                draft.answers.pop(dependent, None)
        draft.answers[current.key] = value
        if current.key in draft.history:
            draft.history.remove(current.key)
        draft.history.append(current.key)
        draft.failures, draft.pending_text = 0, None
        self._advance()

    def _advance(self) -> None:
        draft = self.state.draft
        upcoming = self.form.next_field(draft.answers, after=None if draft.editing else draft.asking)
        if upcoming is None:
            draft.asking, draft.editing = None, False
            self._review()
            return
        draft.asking = upcoming.key
        self.state.mode = "form"
        self._prompt_again()

    def _back(self) -> None:
        draft = self.state.draft
        if not draft or not draft.history:
            self._prompt_again(lead="これが最初の質問です。")
            return
        previous = draft.history.pop()
        draft.asking, draft.failures = previous, 0
        self.state.mode = "form"
        self._prompt_again(current=draft.answers.pop(previous, None))

    def _restart(self) -> None:
        self.state.draft = Draft(form=self.state.draft.form)
        self.replies.append(r.Say("最初からやり直します。"))
        self._advance()

    def _review(self) -> None:
        self.state.mode = "confirm"
        self._prompt_again()

    def _pick_edit(self) -> None:
        self.state.mode = "pick_edit"
        self._prompt_again()

    def _edit(self, key: str) -> None:
        draft = self.state.draft
        if key not in {f.key for f in self.form.applicable(draft.answers)}:
            self._pick_edit()
            return
        draft.asking, draft.editing, draft.failures = key, True, 0
        self.state.mode = "form"
        self._prompt_again(current=draft.answers.get(key))

    def _ask_cancel(self) -> None:
        if self.state.mode == "consent":
            self._consent(False)
            return
        if self.state.mode != "confirm_cancel":
            self.state.resume_mode = self.state.mode
        self.state.mode = "confirm_cancel"
        self._prompt_again()

    def _resume(self) -> None:
        self.state.mode = self.state.resume_mode or "form"
        self.state.resume_mode = None
        self._prompt_again()

    def _discard(self) -> None:
        self.state = State(token=self.state.token)
        self.replies.append(r.cancelled())

    def _submit(self) -> None:
        form, draft = self.form, self.state.draft
        rows = form.shown(draft.answers)
        self.effects.append(SubmitCase(kind=form.name, answers=tuple((f.key, value) for f, value in rows)))
        self.replies.append(r.submitted(form))
        self.state = State(token=self.state.token)

    def _prompt_again(self, lead: str = "", current: str | None = None) -> None:
        """Say again what the conversation is waiting for."""
        state, form, token = self.state, self.form, self.state.token
        if state.mode == "consent":
            profile = self.ctx.knowledge.profile
            self.replies.append(r.consent_notice(FORMS[state.pending_form], token, self.ctx.retention_years, profile.centre_name))
        elif state.mode == "form":
            draft = state.draft
            fields = form.applicable(draft.answers)
            current_field = form.field(draft.asking)
            number = next((i for i, f in enumerate(fields, 1) if f.key == draft.asking), len(fields))
            say = r.field_prompt(form, current_field, token, number, len(fields), current, lead)
            if draft.pending_text and current_field.accepts_anything:
                say = r.Say(say.text, (r.use_as_answer_choice(current_field, token),) + say.choices)
            self.replies.append(say)
        elif state.mode == "confirm":
            self.replies.append(r.summary(form, form.shown(state.draft.answers), token))
        elif state.mode == "pick_edit":
            self.replies.append(r.pick_field(form, form.shown(state.draft.answers), token))
        elif state.mode == "confirm_cancel":
            self.replies.append(r.confirm_cancel(form or FORMS["consultation"], token))


def _actions_for(text: str) -> tuple[Choice, ...]:
    """A knowledge answer about proposing or consulting offers to start one."""
    folded = _fold(text)
    actions = []
    if "提案" in folded:
        actions.append(Choice("提案する", r.postback("propose")))
    return tuple(actions)


def _new_token(now: datetime) -> str:
    return format(int(now.timestamp() * 1000) % (36 ** 8), "x")
