"""Button data: what a tapped button asks for, typed, and its encoding (a query string of at most
300 characters, LINE's limit for postback data). The engine and the replies use only this module."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode

LIMIT = 300


class Action(StrEnum):
    MENU = "menu"
    ASK_PROMPT = "ask_prompt"
    CONSULT = "consult"
    PROPOSE = "propose"
    STATUS = "status"
    HELP = "help"
    HUMAN = "human"
    SHOW = "show"  # a knowledge entry
    WITHDRAW = "withdraw"
    WITHDRAW_YES = "withdraw_yes"
    CONSENT = "consent"
    CHOOSE = "choose"
    SKIP = "skip"
    USE_TEXT = "use_text"
    RETRY = "retry"
    BACK = "back"
    CANCEL = "cancel"
    CANCEL_YES = "cancel_yes"
    CANCEL_NO = "cancel_no"
    RESUME = "resume"
    SUBMIT = "submit"
    EDIT = "edit"
    EDIT_FIELD = "edit_field"
    REVIEW = "review"
    FIND_GROUPS = "groups"  # a group search: `value` holds the words (none: ask for them)
    MORE_GROUPS = "more_groups"  # the next page: `index` is the cursor, `value` names the search
    CONNECT = "connect"  # この団体とつながりたい: `entry` is the group's id
    REGISTER = "register"  # 団体を登録する
    PICKED = "picked"  # 決定: the choices tapped on a field that takes several
    HELPFUL = "helpful"  # feedback on an answer: 役に立った
    WRONG = "wrong"  # feedback on an answer: 違う
    GRANTS = "grants"  # 助成金ナビ: `value` holds the answers so far (option ids joined by /; none: start)
    GROUP_UPKEEP = "group_upkeep"  # the yearly confirmation: `entry` is the group's id, `value` the answer


# Actions that need no form in progress (the rest carry the form's token).
FREE_ACTIONS = frozenset({Action.MENU, Action.ASK_PROMPT, Action.CONSULT, Action.PROPOSE, Action.STATUS,
                          Action.HELP, Action.HUMAN, Action.SHOW, Action.WITHDRAW, Action.WITHDRAW_YES,
                          Action.HELPFUL, Action.WRONG})
# Free actions that leave a form in progress where it was (its question is asked again).
ASIDES = frozenset({Action.STATUS, Action.HELP, Action.SHOW, Action.HUMAN, Action.HELPFUL, Action.WRONG})
# Actions a group chat may use: nothing personal.
PUBLIC_ACTIONS = frozenset({Action.SHOW, Action.MENU, Action.ASK_PROMPT, Action.HELP, Action.HELPFUL, Action.WRONG})
# The partner directory (仲間をさがす・団体登録) needs no form either; a search leaves a form where it was.
FREE_ACTIONS = FREE_ACTIONS | {Action.FIND_GROUPS, Action.MORE_GROUPS, Action.CONNECT, Action.REGISTER,
                               Action.GROUP_UPKEEP}
ASIDES = ASIDES | {Action.FIND_GROUPS, Action.MORE_GROUPS}
# 助成金ナビ's buttons carry every answer so far: they work from anywhere, and leave a form where it was.
FREE_ACTIONS, ASIDES = FREE_ACTIONS | {Action.GRANTS}, ASIDES | {Action.GRANTS}

# The short keys of the encoding (kept stable: buttons already sent carry them).
_KEYS = {"token": "t", "field": "f", "index": "i", "value": "v", "reference": "r", "entry": "e", "asked": "q",
         "passed": "p"}
PASSED_KEPT = 5  # entries marked 違う for one question that later buttons still leave out


@dataclass(frozen=True)
class Tap:
    action: Action
    token: str = ""
    field: str = ""
    index: str = ""  # of a choice, as sent back (checked by the engine)
    value: str = ""  # yes | no for consent
    reference: str = ""
    entry: str = ""
    asked: str = ""  # the question answered, base64 (feedback and 「もしかして」 buttons): see `about_question`
    passed: str = ""  # entries already marked 違う for that question, comma-separated

    @property
    def passed_entries(self) -> tuple[str, ...]:
        return tuple(e for e in self.passed.split(",") if e)[-PASSED_KEPT:]

    @property
    def question(self) -> str:
        """The question a button was for ('' when it did not fit or is damaged)."""
        try:
            return base64.urlsafe_b64decode(self.asked + "=" * (-len(self.asked) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""

    def encode(self) -> str:
        return self.query()[:LIMIT]

    def query(self) -> str:
        """The whole encoding, however long."""
        values = {_KEYS[f.name]: getattr(self, f.name) for f in fields(self) if f.name != "action"}
        return urlencode({"a": self.action.value, **{k: v for k, v in values.items() if v}})


ELLIPSIS = "…"


def encode(action: Action, **values: str) -> str:
    return Tap(action, **values).encode()


def about_question(action: Action, entry: str, question: str, passed: tuple[str, ...] = (), value: str = "") -> str:
    """The data of a button on an entry for a question (役に立った, 違う, a 「もしかして」 entry), carrying
    the entries already marked 違う for it (`passed`) and as much of the question as fits in LIMIT
    (whole characters). Unpadded url-safe base64 passes urlencode as it is: n bytes take ceil(4n/3) characters."""
    passed_text = ",".join(passed[-PASSED_KEPT:])
    room = LIMIT - len(Tap(action, entry=entry, passed=passed_text, value=value).query()) - len("&q=")
    budget = room * 3 // 4
    if len(question.encode("utf-8")) > budget:  # cut, and marked as cut for the staff who read it
        question = _cut(question, budget - len(ELLIPSIS.encode("utf-8"))) + ELLIPSIS
    asked = base64.urlsafe_b64encode(question.encode("utf-8")).decode("ascii").rstrip("=")
    return Tap(action, entry=entry, asked=asked, passed=passed_text, value=value).encode()


def _cut(text: str, budget: int) -> str:
    """The longest start of `text` whose UTF-8 fits in `budget` bytes."""
    used, end = 0, 0
    for char in text:
        used += len(char.encode("utf-8"))
        if used > budget:
            break
        end += 1
    return text[:end]


def decode(data: str) -> Tap | None:
    """The tap a button's data stands for; None for data no button of ours carries."""
    try:
        raw = dict(parse_qsl(data or "", keep_blank_values=True))
        action = Action(raw.get("a", ""))
    except ValueError:
        return None
    return Tap(action, **{name: raw.get(key, "") for name, key in _KEYS.items()})
