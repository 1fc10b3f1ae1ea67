"""Leases: one holder at a time, taken over once the holder stops renewing."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.db import rows_affected
from store.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another holder's lease is still valid."""
    renewed = session.execute(
        update(Lease).where(col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.expires_at) < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if rows_affected(renewed) == 1:
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
    session.execute(update(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
                    .values(expires_at=datetime(2000, 1, 1)))


def holder_of(session: Session, name: str) -> str | None:
    lease = session.get(Lease, name)
    return lease.holder if lease else None


# Each sender process holds a PostgreSQL advisory lock (this class, its holder number) on a
# connection of its own for as long as it lives; PostgreSQL lets go of it when the process dies.
_LIFE_LOCKS = 4242002


def new_holder() -> int:
    """A number naming one sender process in its leases (fits PostgreSQL's int4 lock key)."""
    return secrets.randbelow(2**31 - 1) + 1


def hold_life(engine: Engine, holder: int) -> Connection | None:
    """On PostgreSQL, the connection holding this process's life lock (keep it open); None elsewhere."""
    if engine.dialect.name != "postgresql":
        return None
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    connection.execute(text("SELECT pg_advisory_lock(:space, :holder)"), dict(space=_LIFE_LOCKS, holder=holder))
    return connection


def end_life(connection: Connection | None) -> None:
    """Let go of a life lock: the connection is closed for good, not handed back to the pool
    (where the lock would outlive the sender)."""
    if connection is not None:
        connection.invalidate()
        connection.close()


def dead_holders(life: Connection | None, holders: set[int | None], me: int) -> set[int | None]:
    """Which of these lease holders are known to be dead. Without a life lock (SQLite: one process
    works a database file) every other holder is; with one, a holder whose lock is free is."""
    others = holders - {me}
    if life is None:
        return others
    dead: set[int | None] = set()
    for holder in others - {None}:  # None: leased before holders were named; its lease runs out
        if life.execute(text("SELECT pg_try_advisory_lock(:space, :holder)"),
                        dict(space=_LIFE_LOCKS, holder=holder)).scalar():
            life.execute(text("SELECT pg_advisory_unlock(:space, :holder)"), dict(space=_LIFE_LOCKS, holder=holder))
            dead.add(holder)
    return dead
