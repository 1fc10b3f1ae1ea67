"""Check codes: a short code shown once when a case is submitted, so that its status can be seen
from another device with the reference number. Only a salted, slow hash of the code is stored.

A group's registration from the web chat gets a longer code (a registration code): with the
registration's reference it also opens the group's entry from another browser, to change or
withdraw it (the group keeps the reference and the hash when staff approve it)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from sqlmodel import Session, col, select

from store.cases import by_reference
from store.models import Case, PartnerGroup

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to copy by hand
LENGTH = 6
REGISTRATION_LENGTH = 10  # about 50 bits: a group's entry is opened with it
_SHAPE = re.compile(rf"[{ALPHABET}]{{6}}|[{ALPHABET}]{{5}}-?[{ALPHABET}]{{5}}")
_ROUNDS = 50_000
_ENDED = "終了"


def looks_like_code(word: str) -> bool:
    """A word shaped like a check or registration code (ABC234, ABCDE-FGHJK; full-width too): of the
    codes' letters and digits, and with a digit or written in capitals (「SEMINAR」 is no code, 「XKQMNP」 may be)."""
    folded = unicodedata.normalize("NFKC", word).replace("ー", "-")
    if not _SHAPE.fullmatch(folded.upper()):
        return False
    return any(c.isdigit() for c in folded) or folded.replace("-", "").isupper()


def _hash(reference: str, code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.upper().encode(), f"kyodo-desk:{reference}".encode(), _ROUNDS).hex()


def issue(session: Session, case: Case, length: int = LENGTH) -> str:
    """A new check code for the case; returns the code (shown once, never stored as such)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(length))
    case.check_code_hash = _hash(case.reference, code)
    session.add(case)
    return code


def shown(code: str) -> str:
    """The code as the citizen reads it: a long one in two halves (ABCDE-FGHJK); the hyphen is ignored when typed."""
    return f"{code[:len(code) // 2]}-{code[len(code) // 2:]}" if len(code) >= REGISTRATION_LENGTH else code


def case_for(session: Session, reference: str, code: str) -> Case | None:
    """The case, when the code is its check code; None otherwise (unknown reference included)."""
    case = by_reference(session, reference)
    expected = case.check_code_hash if case is not None else None
    offered = _hash(reference, code)
    if expected is None or not hmac.compare_digest(expected, offered):
        return None
    return case


def group_for(session: Session, reference: str, code: str) -> PartnerGroup | None:
    """The group registered on the web chat by the case `reference`, when `code` is that registration's
    code (a registration code: a short check code never opens a group); None otherwise, an ended group included."""
    group = session.exec(select(PartnerGroup).where(col(PartnerGroup.code_reference) == reference,
                                                    col(PartnerGroup.status) != _ENDED)).first()
    offered = _hash(reference, code)  # computed whatever was found: the answer takes as long either way
    if group is None or group.code_hash is None or len(code) < REGISTRATION_LENGTH \
            or not hmac.compare_digest(group.code_hash, offered):
        return None
    return group


def opening(case: Case) -> dict[str, str | None]:
    """The group's columns for the code of the registration that puts it in the directory: the web
    chat's registration code; none for a registration from anywhere else."""
    if case.channel != "web" or not case.check_code_hash:
        return {"code_reference": "", "code_hash": None}
    return {"code_reference": case.reference, "code_hash": case.check_code_hash}
