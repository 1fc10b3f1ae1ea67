"""Leases: one holder at a time, taken over once the holder stops renewing."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another holder's lease is still valid."""
    renewed = session.execute(
        update(Lease).where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if renewed.rowcount == 1:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=datetime(2000, 1, 1)))


def holder_of(session: Session, name: str) -> str | None:
    lease = session.get(Lease, name)
    return lease.holder if lease else None
