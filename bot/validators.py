"""Field validators: accept what Japanese users actually type, and say exactly what is wrong.

Each validator takes the raw text and returns `Valid(value)` with the cleaned value, or
`Invalid(reason)` with a reason written for the citizen.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Valid:
    value: str


@dataclass(frozen=True)
class Invalid:
    reason: str


Result = Valid | Invalid
Validator = Callable[[str], Result]

NONE_WORDS = {"なし", "無し", "特になし", "特に無し", "とくになし", "ない", "ありません", "特にありません", "未定", "スキップ", "skip", "-", "ー"}
_DASHES = "ー－―‐−–—ｰ"
_URL = re.compile(r"https?://\S+", re.I)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
PHONE_REASON = "電話番号は数字とハイフンで入力してください（例: 086-803-1062）。"
EMAIL_REASON = "メールアドレスの形が正しくないようです。「@」を含めて入力してください（例: kyodo@example.jp）。"


def clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def is_none_word(text: str) -> bool:
    return clean(text).rstrip("。.!！").lower() in NONE_WORDS


def free_text(max_chars: int, min_chars: int = 1) -> Validator:
    def check(text: str) -> Result:
        value = (text or "").strip()
        if len(value) < min_chars:
            return Invalid("内容を入力してください。")
        if _URL.fullmatch(value):
            return Invalid("URL だけでは内容が分かりません。ひとことご説明をお願いします。")
        if len(value) > max_chars:
            return Invalid(f"{max_chars}文字以内でお願いします（いま {len(value)} 文字です）。要点だけ送り、詳しくは職員にお伝えください。")
        return Valid(value)
    return check


def phone(text: str) -> Result:
    value = clean(text)
    for dash in _DASHES:
        value = value.replace(dash, "-")
    value = value.replace(" ", "-").replace("(", "-").replace(")", "-").strip("-")
    value = re.sub(r"-+", "-", value)
    digits = value.replace("-", "")
    if not re.fullmatch(r"[0-9-]+", value) or not digits.startswith("0") or not 10 <= len(digits) <= 11:
        return Invalid(PHONE_REASON)
    return Valid(value)


def email(text: str) -> Result:
    value = clean(text).replace(" ", "")
    if not _EMAIL.match(value):
        return Invalid(EMAIL_REASON)
    local, domain = value.rsplit("@", 1)
    return Valid(f"{local}@{domain.lower()}")


def contact_for_method(method: str) -> Validator:
    return email if method == "メール" else phone


def match_choice(text: str, choices: tuple[str, ...]) -> str | None:
    """The choice a typed answer means: exact, then contained either way (「NPOです」→ NPO・市民活動団体)."""
    typed = clean(text).rstrip("。.です").lower()
    if not typed:
        return None
    folded = {c: clean(c).lower() for c in choices}
    for choice, norm in folded.items():
        if typed == norm:
            return choice
    candidates = [c for c, norm in folded.items() if any(part and part in typed for part in re.split(r"[・/／]", norm))]
    if len(candidates) == 1:
        return candidates[0]
    candidates = [c for c, norm in folded.items() if typed in norm]
    return candidates[0] if len(candidates) == 1 else None
