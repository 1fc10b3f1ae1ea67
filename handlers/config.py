"""What the platform edges need: credentials and addresses (built by app/settings.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineConfig:
    channel_secret: str = ""
    access_token: str = ""
    api_base_url: str = "https://api.line.me"
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.channel_secret and self.access_token)


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = ""
    signing_secret: str = ""
    api_url: str = "https://slack.com/api/"
    staff_channel: str = ""
    staff_user_ids: tuple[str, ...] = ()
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token and self.signing_secret and self.staff_channel)


@dataclass(frozen=True)
class WebConfig:
    """The web chat: how its session cookie is signed and sent, and how much one session, one
    client address or all of them together may ask (token buckets for messages, a daily cap on
    submitted cases). The last keeps a web flood from taking the CPU that LINE's events need."""
    session_secret: str = ""  # empty: a random key kept in `key_dir` (shared by the processes of one host)
    key_dir: str = ""
    cookie_secure: bool = False  # behind HTTPS: the cookie is never sent over plain HTTP
    messages_per_minute: float = 30.0  # per session
    message_burst: int = 20
    address_messages_per_minute: float = 120.0  # per client address (many people may share one)
    address_message_burst: int = 60
    process_messages_per_second: float = 50.0  # every web chat message of this process together
    process_message_burst: int = 100
    cases_per_day: int = 3  # per session
    address_cases_per_day: int = 10
