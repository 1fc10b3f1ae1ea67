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
