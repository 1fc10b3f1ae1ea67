"""What the desk's services need to know about the office (built by app/settings.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DeskConfig:
    timezone: str = "Asia/Tokyo"
    draft_ttl_days: int = 7
    retention_years: int = 5
    overdue_business_days: int = 3
    audit_key: str = field(default="", repr=False)  # HMAC key naming erased people (empty: kept in the database)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
