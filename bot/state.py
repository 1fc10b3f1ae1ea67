"""Conversation state: plain data, stored as JSON after every turn."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """What the conversation is waiting for."""
    IDLE = "idle"
    CONSENT = "consent"  # agreement to the handling of personal data
    FORM = "form"  # the answer to one field
    CONFIRM = "confirm"  # submit, edit or cancel the summary
    PICK_EDIT = "pick_edit"  # which field to edit
    CONFIRM_CANCEL = "confirm_cancel"  # whether to discard the draft
    CHECK_CODE = "check_code"  # the check code of a case the person did not submit from here
    FIND_GROUPS = "find_groups"  # what kind of group to look for (仲間をさがす)
    GRANTS = "grants"  # the next answer of 助成金ナビ (who, what, where, when)
    GROUP_CODE = "group_code"  # the reference and code of a group registered from another browser (web chat)


# Modes halfway through a step whose buttons 続ける (Action.RESUME) shows again
RESUMABLE = frozenset({Mode.CONSENT, Mode.FORM, Mode.CONFIRM, Mode.PICK_EDIT, Mode.CONFIRM_CANCEL})


@dataclass
class Draft:
    form: str
    answers: dict[str, str] = field(default_factory=dict)
    asking: str | None = None  # the key of the field being asked
    history: list[str] = field(default_factory=list)  # answered fields, in order (for 戻る)
    failures: int = 0
    editing: bool = False  # re-asking one field from the summary
    pending_text: str | None = None  # a side question that may have been meant as the answer
    picked: list[str] = field(default_factory=list)  # choices tapped so far on a field that takes several


@dataclass
class State:
    mode: Mode = Mode.IDLE
    pending_form: str | None = None  # the form chosen, waiting for consent
    draft: Draft | None = None
    token: str = ""  # changes whenever a form starts; buttons of older forms carry older tokens
    resume_mode: Mode | None = None  # where 「やめない」 returns to
    checking: str | None = None  # the reference whose check code (or registration code) is asked for
    code_failures: int = 0
    group_action: str = ""  # change | withdraw: what a group's registration code is asked for
    group_query: str | None = None  # the last group search, for its もっと見る
    grant_path: str = ""  # 助成金ナビ's answers so far (option ids), for an answer typed instead of tapped
    preset: dict[str, str] = field(default_factory=dict)  # answers the chosen form starts with (the group to meet)
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State:
        if not data:
            return cls()
        draft = data.get("draft")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "draft"}
        state = cls(**known, draft=Draft(**draft) if draft else None)
        state.mode = _mode(state.mode) or Mode.IDLE
        state.resume_mode = _mode(state.resume_mode)
        return state

    def touched(self, now: datetime) -> State:
        self.updated_at = now.isoformat()
        return self

    def idle_for(self, now: datetime) -> float:
        """Seconds since the last turn (0 when never)."""
        if not self.updated_at:
            return 0.0
        return (now - datetime.fromisoformat(self.updated_at)).total_seconds()


def _mode(value: str | None) -> Mode | None:
    try:
        return Mode(value) if value else None
    except ValueError:  # a state stored by a version with other modes
        return None
