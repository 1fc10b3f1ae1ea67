"""Settings: the only reader of the environment (and of a `.env` file in the working directory).

Every value is checked at start; a bad one stops the process with a message that names the
variable and what it accepts. The lower layers get the part they need (DeskConfig, LineConfig,
SlackConfig), never the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.config import DeskConfig
from handlers.config import LineConfig, SlackConfig, WebConfig

# What one `serve` process runs: everything, the endpoints only, or the background loops only.
SERVE_ROLES = ("all", "web", "worker")


class SettingsError(ValueError):
    """A setting with a value it cannot take; the message names the variable."""


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
    cache_dir: str = ""
    draft_ttl_days: int = 7
    retention_years: int = 5
    overdue_business_days: int = 3
    scheduler_lease_seconds: int = 30
    http_timeout_seconds: float = 10.0
    session_secret: str = ""  # signs web chat session ids (empty: a key kept in cache_dir)
    cookie_secure: bool = False  # the web chat cookie only over HTTPS (set when served behind HTTPS)
    api_docs: bool = False  # serve /docs and /openapi.json
    web_messages_per_second: float = 50.0  # the web chat's messages of one process together (LINE is never held back)
    audit_key: str = field(default="", repr=False)  # keys the hashes naming erased people (empty: a key kept in the database)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def desk(self) -> DeskConfig:
        return DeskConfig(self.timezone, self.draft_ttl_days, self.retention_years, self.overdue_business_days,
                          self.audit_key)

    @property
    def line(self) -> LineConfig:
        return LineConfig(self.line_channel_secret, self.line_channel_access_token, self.line_api_base_url,
                          self.http_timeout_seconds)

    @property
    def slack(self) -> SlackConfig:
        return SlackConfig(self.slack_bot_token, self.slack_signing_secret, self.slack_api_url,
                           self.slack_staff_channel, self.slack_staff_user_ids, self.http_timeout_seconds)

    @property
    def web(self) -> WebConfig:
        return WebConfig(self.session_secret, self.cache_dir, self.cookie_secure,
                         process_messages_per_second=self.web_messages_per_second,
                         process_message_burst=max(1, round(2 * self.web_messages_per_second)))

    @property
    def line_enabled(self) -> bool:
        return self.line.enabled

    @property
    def slack_enabled(self) -> bool:
        return self.slack.enabled

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """From `env`, or from the process environment over a `.env` file (the environment wins)."""
        if env is None:
            env = {**{k: v for k, v in dotenv_values(".env").items() if v is not None}, **os.environ}
        values: dict[str, Any] = {}
        for name, (variable, parse) in _VARIABLES.items():
            raw = (env.get(variable) or "").strip()
            if raw:
                values[name] = parse(variable, raw)
        if "cache_dir" not in values:  # the index cache's usual place
            values["cache_dir"] = os.path.join(env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kyodo-desk")
        return cls(**values)


def _text(variable: str, raw: str) -> str:
    return raw


def _ids(variable: str, raw: str) -> tuple[str, ...]:
    return tuple(part for part in raw.replace(" ", "").split(",") if part)


def _number(kind: type, low: float, high: float) -> Callable[[str, str], Any]:
    def parse(variable: str, raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            noun = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{variable}={raw!r}: expected {noun} from {low:g} to {high:g}")
        return value
    return parse


def _flag(variable: str, raw: str) -> bool:
    if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
        raise SettingsError(f"{variable}={raw!r}: expected true or false")
    return raw.lower() in ("1", "true", "yes")


def _zone(variable: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{variable}={raw!r}: expected a time zone name such as Asia/Tokyo") from exc
    return raw


def _database(variable: str, raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql")):
        raise SettingsError(f"{variable}={raw!r}: expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
    return raw


def _url(variable: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{variable}={raw!r}: expected an http:// or https:// address")
    return raw


_VARIABLES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "database_url": ("DATABASE_URL", _database),
    "line_channel_secret": ("LINE_CHANNEL_SECRET", _text),
    "line_channel_access_token": ("LINE_CHANNEL_ACCESS_TOKEN", _text),
    "line_api_base_url": ("LINE_API_BASE_URL", _url),
    "slack_bot_token": ("SLACK_BOT_TOKEN", _text),
    "slack_signing_secret": ("SLACK_SIGNING_SECRET", _text),
    "slack_api_url": ("SLACK_API_URL", _url),
    "slack_staff_channel": ("SLACK_STAFF_CHANNEL", _text),
    "slack_staff_user_ids": ("SLACK_STAFF_USER_IDS", _ids),
    "timezone": ("KYODO_TIMEZONE", _zone),
    "knowledge_dir": ("KYODO_KNOWLEDGE_DIR", _text),
    "cache_dir": ("KYODO_CACHE_DIR", _text),
    "draft_ttl_days": ("KYODO_DRAFT_TTL_DAYS", _number(int, 1, 365)),
    "retention_years": ("KYODO_RETENTION_YEARS", _number(int, 1, 100)),
    "overdue_business_days": ("KYODO_OVERDUE_DAYS", _number(int, 1, 60)),
    "scheduler_lease_seconds": ("KYODO_SCHEDULER_LEASE_SECONDS", _number(int, 3, 3600)),
    "http_timeout_seconds": ("KYODO_HTTP_TIMEOUT_SECONDS", _number(float, 0.1, 120)),
    "session_secret": ("KYODO_SESSION_SECRET", _text),
    "cookie_secure": ("KYODO_COOKIE_SECURE", _flag),
    "api_docs": ("KYODO_API_DOCS", _flag),
    "web_messages_per_second": ("KYODO_WEB_MESSAGES_PER_SECOND", _number(float, 0.1, 100_000)),
    "audit_key": ("KYODO_AUDIT_KEY", _text),
}
assert set(_VARIABLES) == {f.name for f in fields(Settings)}, "every setting has its variable"
