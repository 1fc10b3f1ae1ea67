"""助成金ナビ end to end on the web chat (/api/chat), the desk's clock set to a day inside and a day
after the 区づくり推進事業's round: the menu button, four taps, the program cards and their buttons."""
from datetime import UTC, datetime

from app.server import create_app
from app.settings import Settings
from bot.runtime import Desk
from tests.e2e.test_web_status_check import Browser
from tests.support.live import LiveServer

KUZUKURI = "区づくり推進事業「地域活動部門」"


def round_status(db, kb, now: datetime) -> str:
    """What the 区づくり card says of its round, on the day `now`, after a citizen's four taps."""
    settings = Settings()
    with LiveServer(create_app(settings, Desk(db, kb, settings.desk, clock=lambda: now), run_scheduler=False)) as server:
        browser = Browser(server.url)
        browser.say("メニュー")
        browser.tap("補助金をさがす")
        for label in ("町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "すぐ"):
            browser.tap(label)
        cards = {m["title"]: dict(m["fields"]) for m in browser.messages if m["type"] == "card"}
        assert list(cards) == [KUZUKURI]
        assert "詳しく見る" in [b["label"] for m in browser.messages for b in m.get("buttons", [])]
        assert "区づくり推進事業" in browser.tap("詳しく見る")
        return cards[KUZUKURI]["募集"]


def test_web_chat_navi_shows_the_round_open_then_closed(db, kb):
    assert round_status(db, kb, datetime(2026, 6, 20, 3, 0, tzinfo=UTC)).startswith("受付中")
    closed = round_status(db, kb, datetime(2026, 7, 1, 3, 0, tzinfo=UTC))
    assert "2026年6月30日で終了しました" in closed and "受付中" not in closed
