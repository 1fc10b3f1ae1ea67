"""The directory of groups (団体名簿) and the introductions staff make between cases and groups."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from store.models import Introduction, PartnerGroup

GROUP_STATUSES = ("申請中", "公開", "非公開", "終了")
PUBLIC = "公開"
_IN_CHUNK = 500  # names per IN (...) list
_PERIOD = re.compile(r"(\d{4})-(\d{2})|FY(\d{4})")


def upsert(session: Session, rows: Iterable[dict[str, Any]], by: str, now: datetime,
           new_defaults: dict[str, Any] | None = None) -> tuple[int, int]:
    """Add each group (with `new_defaults` under its values), or update the one of the same name;
    (added, updated). Nothing is committed here."""
    rows = list(rows)
    existing: dict[str, PartnerGroup] = {}
    names = [row["name"] for row in rows]
    for start in range(0, len(names), _IN_CHUNK):
        chunk = names[start:start + _IN_CHUNK]
        existing.update((g.name, g) for g in session.exec(select(PartnerGroup).where(col(PartnerGroup.name).in_(chunk))))
    added = 0
    for row in rows:
        group = existing.get(row["name"])
        if group is None:
            group = existing[row["name"]] = PartnerGroup(**{**(new_defaults or {}), **row})
            added += 1
        else:
            for key, value in row.items():
                setattr(group, key, value)
        group.updated_by, group.updated_at = by, now
        session.add(group)
    session.flush()
    return added, len(rows) - added


def all_groups(session: Session) -> list[PartnerGroup]:
    return list(session.exec(select(PartnerGroup).order_by(col(PartnerGroup.id))))


def get(session: Session, group_id: int) -> PartnerGroup | None:
    return session.get(PartnerGroup, group_id)


def set_status(session: Session, group_id: int, status: str, by: str, now: datetime) -> PartnerGroup | None:
    if status not in GROUP_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(GROUP_STATUSES)}")
    group = session.get(PartnerGroup, group_id)
    if group is not None:
        group.status, group.updated_by, group.updated_at = status, by, now
        session.add(group)
    return group


def stamp(session: Session) -> tuple[int | None, datetime | None]:
    """Changes whenever a group is added or changed (newest id, newest change): an index compares it."""
    newest_id, newest_change = session.exec(
        select(func.max(col(PartnerGroup.id)), func.max(col(PartnerGroup.updated_at)))).one()
    return newest_id, newest_change


def record_introduction(session: Session, case_id: int, group_id: int, staff: str, at: datetime,
                        note: str = "") -> Introduction:
    row = Introduction(case_id=case_id, group_id=group_id, staff=staff, at=at, note=note)
    session.add(row)
    session.flush()
    return row


def introductions_in(session: Session, period: str, tz: ZoneInfo) -> list[Introduction]:
    """Introductions made in a month (2026-10) or a fiscal year (FY2026, April to March), local time."""
    start, end = period_bounds(period)
    # In UTC: SQLite compares the stored UTC text, not the instants.
    begin, finish = (datetime.combine(day, time(), tz).astimezone(UTC) for day in (start, end))
    return list(session.exec(select(Introduction).where(Introduction.at >= begin, Introduction.at < finish)
                             .order_by(col(Introduction.at), col(Introduction.id))))


def introductions_for_case(session: Session, case_id: int) -> list[Introduction]:
    return list(session.exec(select(Introduction).where(Introduction.case_id == case_id).order_by(col(Introduction.id))))


def introduction(session: Session, introduction_id: int) -> Introduction | None:
    return session.get(Introduction, introduction_id)


def set_outcome(session: Session, row: Introduction, outcome: str, by: str, now: datetime) -> None:
    row.outcome, row.outcome_at, row.outcome_by = outcome, now, by
    session.add(row)


def without_outcome_since(session: Session, before: datetime, limit: int = 50) -> list[Introduction]:
    """Introductions made before `before` that nobody has given an outcome yet, oldest first."""
    return list(session.exec(select(Introduction).where(Introduction.outcome == "", Introduction.at < before)
                             .order_by(col(Introduction.at), col(Introduction.id)).limit(limit)))


def names_of(session: Session, group_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(group_ids))
    if not ids:
        return {}
    found = dict(session.exec(select(col(PartnerGroup.id), col(PartnerGroup.name))
                              .where(col(PartnerGroup.id).in_(ids))).all())
    return {group_id: found[group_id] for group_id in ids if group_id in found}


def period_bounds(period: str) -> tuple[date, date]:
    """[first day, first day after) of a month (2026-10) or a fiscal year (FY2026)."""
    match = _PERIOD.fullmatch(period.strip())
    if not match:
        raise ValueError(f"period {period!r}: use a month (2026-10) or a fiscal year (FY2026)")
    if match.group(3):
        year = int(match.group(3))
        return date(year, 4, 1), date(year + 1, 4, 1)
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"period {period!r}: no month {month}")
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def unconfirmed_since(session: Session, before: date) -> list[PartnerGroup]:
    """Public groups registered through the chat, not confirmed since before `before`, that did
    not opt out of the yearly confirmation: the ones to ask (or to hide when they never answered)."""
    return list(session.exec(select(PartnerGroup).where(
        PartnerGroup.status == PUBLIC, PartnerGroup.applicant_user != "", col(PartnerGroup.confirm_opt_out).is_(False),
        col(PartnerGroup.confirmed_on).is_not(None), col(PartnerGroup.confirmed_on) < before,
    ).order_by(col(PartnerGroup.id))))


def of_applicant(session: Session, group_id: int, channel: str, user_key: str) -> PartnerGroup | None:
    """The group, when this person registered it."""
    group = session.get(PartnerGroup, group_id)
    if group is None or (group.applicant_channel, group.applicant_user) != (channel, user_key) or not user_key:
        return None
    return group


def forget_applicant(session: Session, channel: str, user_key: str) -> int:
    """The person is no longer named as any group's applicant, and the registration code they held
    no longer opens it (erasure)."""
    result = session.execute(update(PartnerGroup).where(col(PartnerGroup.applicant_channel) == channel,
                                                        col(PartnerGroup.applicant_user) == user_key)
                             .values(applicant_channel="", applicant_user="", code_reference="", code_hash=None))
    return int(getattr(result, "rowcount", 0) or 0)


def claim(session: Session, group: PartnerGroup, channel: str, user_key: str) -> None:
    """The group's registration code was given in this chat: the group is now this person's, as if
    they had registered it here (its changes and withdrawal go through the applicant)."""
    group.applicant_channel, group.applicant_user = channel, user_key
    session.add(group)


def registered_by(session: Session, channel: str, user_key: str) -> list[tuple[int, str]]:
    """(id, name) of the groups this person registered through the chat that are not ended."""
    if not user_key:
        return []
    return [(group_id, name) for group_id, name in session.exec(
        select(col(PartnerGroup.id), col(PartnerGroup.name)).where(
            col(PartnerGroup.applicant_channel) == channel, col(PartnerGroup.applicant_user) == user_key,
            col(PartnerGroup.status) != "終了").order_by(col(PartnerGroup.id))) if group_id is not None]


def update_entry(session: Session, group_id: int, values: dict[str, Any], by: str, now: datetime) -> bool:
    """Change one group's entry (a new name included); False when another group has that name."""
    taken = session.exec(select(col(PartnerGroup.id)).where(PartnerGroup.name == values.get("name"),
                                                            col(PartnerGroup.id) != group_id)).first()
    group = session.get(PartnerGroup, group_id)
    if taken is not None or group is None:
        return False
    for key, value in values.items():
        setattr(group, key, value)
    group.updated_by, group.updated_at = by, now
    session.add(group)
    session.flush()
    return True
