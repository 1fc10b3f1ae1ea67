"""Settings from the environment (and a `.env` file in the working directory)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dotenv import load_dotenv


# What one `serve` process runs: everything, the endpoints only, or the background loops only.
SERVE_ROLES = ("all", "web", "worker")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///kyodo-desk.db"
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_staff_channel: str = ""
    slack_staff_user_ids: tuple[str, ...] = ()
    timezone: str = "Asia/Tokyo"
    knowledge_dir: str = ""
    draft_ttl_days: int = 7
    retention_years: int = 5
    overdue_business_days: int = 3
    scheduler_lease_seconds: int = 30
    http_timeout_seconds: float = 10.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret and self.slack_staff_channel)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        if env is None:
            load_dotenv(override=False)
            env = dict(os.environ)
        get = lambda name, default="": env.get(name, "").strip() or default  # noqa: E731
        return cls(
            database_url=get("DATABASE_URL", cls.database_url),
            line_channel_secret=get("LINE_CHANNEL_SECRET"),
            line_channel_access_token=get("LINE_CHANNEL_ACCESS_TOKEN"),
            line_api_base_url=get("LINE_API_BASE_URL", cls.line_api_base_url),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_api_url=get("SLACK_API_URL", cls.slack_api_url),
            slack_staff_channel=get("SLACK_STAFF_CHANNEL"),
            slack_staff_user_ids=tuple(u for u in get("SLACK_STAFF_USER_IDS").replace(" ", "").split(",") if u),
            timezone=get("KYODO_TIMEZONE", cls.timezone),
            knowledge_dir=get("KYODO_KNOWLEDGE_DIR"),
            draft_ttl_days=int(get("KYODO_DRAFT_TTL_DAYS", str(cls.draft_ttl_days))),
            retention_years=int(get("KYODO_RETENTION_YEARS", str(cls.retention_years))),
            overdue_business_days=int(get("KYODO_OVERDUE_DAYS", str(cls.overdue_business_days))),
            scheduler_lease_seconds=int(get("KYODO_SCHEDULER_LEASE_SECONDS", str(cls.scheduler_lease_seconds))),
            http_timeout_seconds=float(get("KYODO_HTTP_TIMEOUT_SECONDS", str(cls.http_timeout_seconds))),
        )
