"""Conversation state: plain data, stored as JSON after every turn."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Draft:
    form: str
    answers: dict[str, str] = field(default_factory=dict)
    asking: str | None = None  # the key of the field being asked
    history: list[str] = field(default_factory=list)  # answered fields, in order (for 戻る)
    failures: int = 0
    editing: bool = False  # re-asking one field from the summary
    pending_text: str | None = None  # a side question that may have been meant as the answer


@dataclass
class State:
    mode: str = "idle"  # idle | consent | form | confirm | pick_edit | confirm_cancel
    pending_form: str | None = None  # the form chosen, waiting for consent
    draft: Draft | None = None
    token: str = ""  # changes whenever a form starts; buttons of older forms carry older tokens
    resume_mode: str | None = None  # where 「やめない」 returns to
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State:
        if not data:
            return cls()
        draft = data.get("draft")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "draft"}
        return cls(**known, draft=Draft(**draft) if draft else None)

    def touched(self, now: datetime) -> State:
        self.updated_at = now.isoformat()
        return self

    def idle_for(self, now: datetime) -> float:
        """Seconds since the last turn (0 when never)."""
        if not self.updated_at:
            return 0.0
        return (now - datetime.fromisoformat(self.updated_at)).total_seconds()
