"""The web chat's guards without a server: signed session ids, token buckets, daily counts, and
the settings that switch the secure cookie and the API docs."""
import pytest

from app.settings import Settings, SettingsError
from handlers.web_guard import KEY_FILE, DailyCounts, Sessions, TokenBuckets, session_key


def test_only_session_ids_this_server_signed_are_accepted(tmp_path):
    sessions = Sessions(session_key("", str(tmp_path)))
    sid, cookie = sessions.issue()
    assert sessions.verify(cookie) == sid
    for forged in (sid, f"{sid}.", f"{sid}.AAAAAAAAAAAAAAAAAAAAAA", "chosen-by-client", "", None, cookie + "x" * 80):
        assert sessions.verify(forged) is None
    assert Sessions(session_key("another secret", str(tmp_path))).verify(cookie) is None


def test_the_processes_of_one_host_share_the_key_kept_in_the_cache_folder(tmp_path):
    _, cookie = Sessions(session_key("", str(tmp_path))).issue()
    assert Sessions(session_key("", str(tmp_path))).verify(cookie)  # another process, or after a restart
    assert oct((tmp_path / KEY_FILE).stat().st_mode & 0o777) == "0o600"
    assert session_key("secret", "") == session_key("secret", str(tmp_path))
    assert session_key("", "") != session_key("", "")  # nowhere to keep one: a key per process


def test_a_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # someone else is not held back
    now[0] = 1.0
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0


def test_buckets_that_refilled_are_forgotten_when_there_are_too_many(monkeypatch):
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    monkeypatch.setattr(TokenBuckets, "MAX_KEYS", 10)
    for n in range(10):
        buckets.take(f"visitor-{n}")
    now[0] = 5.0
    buckets.take("one more")
    assert list(buckets.buckets) == ["one more"]


def test_daily_counts_start_again_each_day():
    from datetime import date

    counts = DailyCounts()
    counts.add("addr", date(2026, 12, 1))
    counts.add("addr", date(2026, 12, 1))
    assert counts.get("addr", date(2026, 12, 1)) == 2 and counts.get("addr", date(2026, 12, 2)) == 0


def test_cookie_and_docs_settings_are_read_and_checked():
    settings = Settings.from_env({"KYODO_COOKIE_SECURE": "true", "KYODO_API_DOCS": "1", "KYODO_SESSION_SECRET": "s"})
    assert settings.web.cookie_secure and settings.api_docs and settings.web.session_secret == "s"
    assert not Settings.from_env({}).web.cookie_secure and not Settings.from_env({}).api_docs
    with pytest.raises(SettingsError, match="KYODO_COOKIE_SECURE"):
        Settings.from_env({"KYODO_COOKIE_SECURE": "maybe"})


def test_the_web_chat_limit_of_the_whole_process_is_read_and_checked():
    assert Settings.from_env({}).web.process_messages_per_second == 50
    web = Settings.from_env({"KYODO_WEB_MESSAGES_PER_SECOND": "2.5"}).web
    assert (web.process_messages_per_second, web.process_message_burst) == (2.5, 5)  # a burst of two seconds' worth
    for bad in ("0", "fast", "-1"):
        with pytest.raises(SettingsError, match="KYODO_WEB_MESSAGES_PER_SECOND"):
            Settings.from_env({"KYODO_WEB_MESSAGES_PER_SECOND": bad})
