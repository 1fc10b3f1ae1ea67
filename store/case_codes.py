"""Check codes: a short code shown once when a case is submitted, so that its status can be seen
from another device with the reference number. Only a salted, slow hash of the code is stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session

from store.cases import by_reference
from store.models import Case

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to copy by hand
LENGTH = 6
_ROUNDS = 50_000


def _hash(reference: str, code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.upper().encode(), f"kyodo-desk:{reference}".encode(), _ROUNDS).hex()


def issue(session: Session, case: Case) -> str:
    """A new check code for the case; returns the code (shown once, never stored as such)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    case.check_code_hash = _hash(case.reference, code)
    session.add(case)
    return code


def case_for(session: Session, reference: str, code: str) -> Case | None:
    """The case, when the code is its check code; None otherwise (unknown reference included)."""
    case = by_reference(session, reference)
    expected = case.check_code_hash if case is not None else None
    offered = _hash(reference, code)
    if expected is None or not hmac.compare_digest(expected, offered):
        return None
    return case
