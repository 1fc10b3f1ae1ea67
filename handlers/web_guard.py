"""What keeps the web chat safe to leave open on the internet: session ids only as the server
issued and signed them, and limits per session and per client address (a token bucket for
messages, a daily cap on submitted cases). The limits live in the process's memory."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)
KEY_FILE = "web-session.key"


def session_key(secret: str, key_dir: str) -> bytes:
    """The key that signs session ids: from the setting, else a random one kept in `key_dir` (so
    the processes of one host and a restart keep accepting the cookies already issued)."""
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    if not key_dir:  # nowhere to keep it: this process's own key
        return secrets.token_bytes(32)
    path = Path(key_dir) / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    except FileExistsError:
        pass  # another process made it first, or an earlier run
    except OSError:
        log.warning("web chat session key not writable in %s: sessions end when the process stops", path.parent)
        return secrets.token_bytes(32)
    return bytes.fromhex(path.read_text().strip())


class Sessions:
    """A session id is `random.mac`; a cookie the server did not sign is refused (and replaced)."""

    def __init__(self, key: bytes):
        self.key = key

    def issue(self) -> tuple[str, str]:
        """A new (session id, cookie value)."""
        sid = secrets.token_urlsafe(18)
        return sid, f"{sid}.{self._mac(sid)}"

    def verify(self, cookie: str | None) -> str | None:
        """The session id of a cookie this server issued, else None (a cookie of any other
        characters than the ASCII the server issues included)."""
        cookie = cookie or ""
        sid, _, mac = cookie.partition(".")
        if not sid or len(cookie) > 80 or not cookie.isascii() or not hmac.compare_digest(mac, self._mac(sid)):
            return None
        return sid

    def _mac(self, sid: str) -> str:
        digest = hmac.new(self.key, sid.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TokenBuckets:
    """One bucket per key: `burst` tokens, refilled at `per_minute`; a message takes one."""

    MAX_KEYS = 50_000  # past this, buckets that have refilled completely are forgotten

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = per_minute / 60.0, float(burst), clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """0 when a token was taken; else the seconds until one will be there."""
        now = self.clock()
        tokens, then = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self.buckets[key] = (tokens - 1, now)
        if len(self.buckets) > self.MAX_KEYS:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [k for k, (tokens, then) in self.buckets.items() if tokens + (now - then) * self.rate >= self.burst]
        for key in full:
            del self.buckets[key]


class DailyCounts:
    """How many times each key did something today (the day as the caller tells it)."""

    def __init__(self):
        self.day: date | None = None
        self.counts: dict[str, int] = {}

    def get(self, key: str, today: date) -> int:
        return self.counts.get(key, 0) if today == self.day else 0

    def add(self, key: str, today: date) -> None:
        if today != self.day:
            self.day, self.counts = today, {}
        self.counts[key] = self.counts.get(key, 0) + 1
