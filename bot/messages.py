"""The channel-neutral message model: what the engine receives, says and asks to be done.

Handlers turn platform events into these and render replies for their platform; the engine
never sees a platform type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.state import State

# --- incoming events ---------------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Postback:
    data: str


@dataclass(frozen=True)
class Follow:
    pass


@dataclass(frozen=True)
class Unfollow:
    pass


@dataclass(frozen=True)
class Media:
    """A sticker, image, video, audio, file or location: the desk reads text only."""
    kind: str


Event = Text | Postback | Follow | Unfollow | Media


# --- replies -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """A quick-reply or card button. `data` is postback data (≤ 300 characters on LINE)."""
    label: str
    data: str


@dataclass(frozen=True)
class Say:
    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Card:
    """A titled bubble: an answer (body + source line) or the confirmation summary (fields)."""
    title: str
    body: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    buttons: tuple[Choice, ...] = ()
    choices: tuple[Choice, ...] = ()
    kind: str = "answer"  # answer | summary | cases


Reply = Say | Card


# --- effects -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SubmitCase:
    """Create the case record; its reference number is filled into replies marked with {reference}.
    `registration`: a group's registration from the web chat, whose (longer) code also opens the
    group's entry from another browser once it is approved."""
    kind: str
    answers: tuple[tuple[str, str], ...]
    registration: bool = False


@dataclass(frozen=True)
class SetContactActive:
    active: bool


@dataclass(frozen=True)
class RelayToCase:
    """A citizen's message on a case a person has taken: goes to the case's staff thread."""
    reference: str
    text: str


@dataclass(frozen=True)
class CloseRelay:
    """The citizen went back to the menu: the bot answers again instead of relaying."""
    reference: str


@dataclass(frozen=True)
class WithdrawCase:
    reference: str


@dataclass(frozen=True)
class NoteQuestion:
    """A question for staff to look at: declined, answered with low confidence, marked 違う (or
    役に立った). Stored masked and without the person (store/notes.py)."""
    kind: str  # declined | partial | low_confidence | wrong | helpful
    question: str
    entry_id: str = ""
    confidence: float = 0.0


@dataclass(frozen=True)
class AnswerGroupUpkeep:
    """The applicant answered the yearly confirmation of their group (bot/group_upkeep.py)."""
    group_id: int
    choice: str  # keep | no_more


@dataclass(frozen=True)
class ClaimGroup:
    """The person gave a group's registration reference and code (on the web chat, from a session
    that did not register it): the group becomes theirs here, as if registered from this chat."""
    group_id: int
    reference: str
    code: str


Effect = (SubmitCase | SetContactActive | RelayToCase | CloseRelay | WithdrawCase | NoteQuestion | AnswerGroupUpkeep
          | ClaimGroup)


@dataclass
class Turn:
    state: State
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True)
class CaseView:
    """A case as the citizen may see it."""
    reference: str
    kind: str
    status: str
    updated_at: datetime
    latest_reply: str = ""  # staff's newest message, for a case looked up by its check code on another device
