"""The tables. Timestamps are timezone-aware UTC; JSON columns are replaced whole, never mutated."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from store.case_status import RECEIVED


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps come back aware (UTC) from every database; SQLite hands back naive ones."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Stored (and compared) in UTC: SQLite keeps the text of the wall time without its offset, so a
        Tokyo-time bound must not meet a UTC-time row as text (2027-01-01 00:10 JST is 2026-12-31 15:10)."""
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _ts(**kw) -> Column:
    return Column(UTCDateTime(), **kw)


class Conversation(SQLModel, table=True):
    channel: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=128)
    state: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Contact(SQLModel, table=True):
    channel: str = Field(primary_key=True, max_length=16)
    user_id: str = Field(primary_key=True, max_length=128)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Case(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=32)
    kind: str = Field(max_length=32)
    fiscal_year: int
    channel: str = Field(max_length=16)
    user_id: str = Field(index=True, max_length=128)
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=RECEIVED, max_length=16)
    assignee: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_staff_action_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    relay_open: bool = False  # a person has the case: the citizen's messages go to its thread
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)  # the card; its thread holds the history
    check_code_hash: str | None = Field(default=None, max_length=64)  # for a status check from another device


class CaseEvent(SQLModel, table=True):
    """A case's history: submitted, status changes, replies, notes, citizen messages."""
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    actor: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    text: str = ""
    status: str | None = Field(default=None, max_length=16, index=True)  # the status reached, for kind "status"


class ReferenceCounter(SQLModel, table=True):
    prefix: str = Field(primary_key=True, max_length=4)
    fiscal_year: int = Field(primary_key=True)
    last: int = 0


class Outbox(SQLModel, table=True):
    """A message to send: to a citizen (line/web) or to staff (slack). Sent at least once, deduplicated by key."""
    __table_args__ = (UniqueConstraint("dedupe_key"), Index("ix_outbox_target_status_id", "channel", "target", "status", "id"),
                      Index("ix_outbox_status_id", "status", "id"))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    target: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reply_token: str | None = Field(default=None, max_length=256)
    dedupe_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    lease_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # while a sender holds it
    lease_holder: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # which sender process
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str | None = None


class Inbox(SQLModel, table=True):
    """A platform event, stored before the webhook is answered; processed once, in order per person."""
    __table_args__ = (Index("ix_inbox_user_status_id", "user_key", "status", "id"), Index("ix_inbox_status_id", "status", "id"))
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=128)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=160)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str | None = None


class IndicatorReport(SQLModel, table=True):
    """A reported figure. A correction is a new row: the newest per indicator and period counts."""
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: str = Field(max_length=64, index=True)
    period: str = Field(max_length=16)  # 2026-10 (a month) or FY2026 (a fiscal year)
    value: float
    note: str = ""
    reported_by: str = Field(max_length=128)
    reported_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class IndicatorTarget(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: str = Field(max_length=64, index=True)
    value: float
    set_by: str = Field(max_length=128)
    set_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ReminderLedger(SQLModel, table=True):
    """One row per scheduled post that went out: its unique key makes a second post impossible."""
    job: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=32)
    posted_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Lease(SQLModel, table=True):
    """A named lease one process holds at a time (the scheduler), renewed while it lives."""
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_column=_ts(nullable=False))


class PrivacyAudit(SQLModel, table=True):
    """Who erased or anonymised what, and when. The person is named by a keyed hash (store/privacy.py), not their id."""
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    actor: str = Field(max_length=128)
    action: str = Field(max_length=32)  # erase | retention
    subject: str = Field(default="", max_length=128)
    detail: str = ""


class PartnerGroup(SQLModel, table=True):
    """A group in the directory (団体名簿). Fields and areas hold the controlled names (partner-fields.yaml)."""
    __tablename__ = "partner_group"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=32)
    activity_fields: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    areas: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    offers: str = ""  # できること
    seeks: str = ""  # さがしていること
    contact: str = ""
    contact_public: bool = False  # False: citizens reach the group through the centre only
    url: str = Field(default="", max_length=500)
    confirmed_on: date | None = None  # when the centre last confirmed the entry
    status: str = Field(default="申請中", max_length=8)  # 申請中 | 公開 | 非公開 | 終了
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    applicant_channel: str = Field(default="", max_length=16)  # who registered it in the chat ("" otherwise)
    applicant_user: str = Field(default="", max_length=128)
    confirm_asked_on: date | None = None  # the first yearly confirmation message not yet answered
    confirm_opt_out: bool = False  # 今後は案内不要
    # A group registered on the web chat: the registration whose code (shown once in its confirmation)
    # opens the entry from another browser, and that code's salted hash (store/case_codes.py).
    code_reference: str = Field(default="", max_length=32)
    code_hash: str | None = Field(default=None, max_length=64)


class Introduction(SQLModel, table=True):
    """Staff introduced a group to a case (a マッチング)."""
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    group_id: int = Field(foreign_key="partner_group.id", index=True)
    staff: str = Field(max_length=128)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    note: str = ""
    outcome: str = Field(default="", max_length=16)  # "" (open) or 取組化: the match became a joint effort
    outcome_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
    outcome_by: str = Field(default="", max_length=128)


class Erasure(SQLModel, table=True):
    """A person whose data was erased, by keyed hash: their events from before `erased_at`, replayed
    by the platform, are dropped unread."""
    subject: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(sa_column=_ts(nullable=False))


class DeskSecret(SQLModel, table=True):
    """A secret the desk generated for itself (the audit key, when KYODO_AUDIT_KEY is not set)."""
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=128)
