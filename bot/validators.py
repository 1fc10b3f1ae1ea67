"""Field validators: accept what Japanese users actually type, and say exactly what is wrong.

Each validator takes the raw text and returns `Valid(value)` with the cleaned value, or
`Invalid(reason)` with a reason written for the citizen.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from knowledge.analysis import spoken
from knowledge.kana import katakana


@dataclass(frozen=True)
class Valid:
    value: str


@dataclass(frozen=True)
class Invalid:
    reason: str


Result = Valid | Invalid
Validator = Callable[[str], Result]

NONE_WORDS = {"なし", "無し", "特になし", "特に無し", "とくになし", "ない", "ありません", "特にありません", "未定",
              "スキップ", "skip", "-", "ー"}
_DASHES = "ー－―‐−–—ｰ"
_URL = re.compile(r"https?://\S+", re.I)
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9._%+\-]+$")
_EMAIL_DOMAIN = re.compile(r"^[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
_KANA_ONLY = re.compile(r"[ぁ-ゖァ-ヺー\s]+")
PHONE_EXAMPLE = "（例: 090-1234-5678）"
EMAIL_EXAMPLE = "（例: kyodo@example.jp）"


def clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


# 「メールはありません」「予算はないです」「持っていません」: none, said of the thing asked
_NONE_SAID = re.compile(r"^(.{1,8}(は|が|も)|特に)?(ない|無い|ありません|なし|無し|(持|も)って(い)?(ない|ません))(です)?$")


def is_none_word(text: str) -> bool:
    said = clean(text).rstrip("。.!！").lower()
    return said in NONE_WORDS or bool(_NONE_SAID.match(said))


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


# 「同じ」「同じです！」「代表と同じ」「同じ人です」「上に同じ」: the same person as the one named before
SAME = re.compile(r"((代表者?|上)(と|に))?(同じ|おなじ)(人|ひと)?(です|で|でお願いします|でおねがいします)?|同上|代表者?本人")


SAME_MARK = "（代表者と同じ）"


def same_as(name: str, max_chars: int) -> Validator:
    """A name that may be given as 「同じ」 (the same person as `name`): stored as the name itself."""
    def check(text: str) -> Result:
        if name and SAME.fullmatch(clean(text).rstrip("。.!！")):
            return Valid(name + SAME_MARK)
        return free_text(max_chars)(text)
    return check


def is_same_as(value: str) -> bool:
    """An answer given as 「同じ」: it named whoever was the representative then."""
    return value.endswith(SAME_MARK)


_PHONE_IN_WORDS = re.compile(r"(?<![0-9-])0[0-9-]{8,13}[0-9](?![0-9-])")  # spaced digits (086 803 1062) are joined below
_MOBILE = re.compile(r"0[5789]0\d{8}")  # mobile and IP phones: always 3-4-4 (land lines' area codes vary)


def phone(text: str) -> Result:
    value = clean(text)
    for dash in _DASHES:
        value = value.replace(dash, "-")
    if len(said := _PHONE_IN_WORDS.findall(value)) == 1:  # 「電話は090-1111-2222です」: the number in it
        value = said[0]
    value = re.sub(r"-+", "-", value.replace(" ", "-").replace("(", "-").replace(")", "-")).strip("-")
    digits = value.replace("-", "")
    if not value or not re.fullmatch(r"[0-9-]+", value):
        return Invalid("電話番号は数字とハイフンだけで入力してください" + PHONE_EXAMPLE + "。")
    if not digits.startswith("0"):
        return Invalid("電話番号は市外局番など「0」から始まる番号で入力してください" + PHONE_EXAMPLE + "。")
    if not 10 <= len(digits) <= 11:
        return Invalid(f"電話番号の桁数が合いません。10桁か11桁で入力してください（いま{len(digits)}桁です）"
                       + PHONE_EXAMPLE + "。")
    if value == digits and _MOBILE.fullmatch(digits) and not digits.startswith("0800"):  # read out: 090-1234-5678
        return Valid(f"{digits[:3]}-{digits[3:7]}-{digits[7:]}")
    return Valid(value)


def email(text: str) -> Result:
    value = clean(text).replace(" ", "")
    problem = _email_problem(value)
    if problem:
        return Invalid(problem + EMAIL_EXAMPLE + "。")
    local, domain = value.rsplit("@", 1)
    return Valid(f"{local}@{domain.lower()}")


def _email_problem(value: str) -> str:
    """What is wrong with an e-mail address, in the citizen's terms ("" when nothing is)."""
    if value.count("@") == 0:
        return "メールアドレスに「@」が入っていません"
    if value.count("@") > 1:
        return "「@」は1つだけにしてください"
    local, domain = value.split("@")
    if not local:
        return "@の前（お名前の部分）が入力されていません"
    if not domain:
        return "@の後ろ（ドメイン）が入力されていません"
    if not _EMAIL_LOCAL.match(local) or not re.fullmatch(r"[A-Za-z0-9.\-]+", domain):
        return "メールアドレスに使えない文字（全角文字や記号）が含まれています"
    if not _EMAIL_DOMAIN.match(domain):
        return "@の後ろ（ドメイン）に「.」が足りないようです"
    return ""


def url(text: str) -> Result:
    value = clean(text)
    if _URL.fullmatch(value) and len(value) <= 500:
        return Valid(value)
    return Invalid("ウェブサイトのアドレスを https:// から入力してください（ない場合は「スキップ」）。")


def phone_or_email(text: str) -> Result:
    """A group's contact: an e-mail address when it has an @, else a phone number."""
    return email(text) if "@" in unicodedata.normalize("NFKC", text or "") else phone(text)


def named_in(find: Callable[[str], Sequence[str]], what: str, options: Sequence[str]) -> Validator:
    """Names of a controlled list found in free text (synonyms included, several allowed), joined
    with 「、」: 「子ども食堂と見守り」→ 子ども、防犯."""
    def check(text: str) -> Result:
        names = list(dict.fromkeys(find(text)))
        if not names:
            return Invalid(f"{what}を読み取れませんでした。次の中から選ぶか、いくつでも書いてください: {'、'.join(options)}")
        return Valid("、".join(names))
    return check


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
    if len(candidates) == 1:
        return candidates[0]
    return _said_in_kana(typed, choices)


def _said_in_kana(typed: str, choices: tuple[str, ...]) -> str | None:
    """The one choice a kana-only answer reads as (「ちょうないかいです」→ 町内会・自治会), as older people type."""
    if not _KANA_ONLY.fullmatch(typed):
        return None
    heard = katakana(typed.replace(" ", ""))
    candidates = [c for c in choices if any(len(r) > 1 and r in heard or len(heard) > 2 and heard in r
                                            for r in map(spoken, re.split(r"[・/／]", c)))]
    return candidates[0] if len(candidates) == 1 else None
