"""仲間をさがす on the web chat page in a real browser: each group card carries its own
「この団体とつながりたい」 button, and pressing it starts the consultation that names the group."""
import pytest

from tests.e2e.test_browser import DESKTOP, browser, open_page, settled  # noqa: F401 (browser: a fixture)
from tests.e2e.test_partners_chat import fill_directory


@pytest.fixture
def directory_server(tmp_path, kb):
    from app.server import create_app
    from app.settings import Settings
    from bot.runtime import Desk
    from store.db import make_engine, migrate
    from tests.support.live import LiveServer

    db = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    migrate(db)
    fill_directory(db)
    with LiveServer(create_app(Settings(), Desk(db, kb, Settings().desk), run_scheduler=False)) as server:
        yield server


def test_group_cards_carry_their_connect_button(browser, directory_server):  # noqa: F811
    page = open_page(browser, DESKTOP, directory_server.url + "/")
    settled(page)
    page.fill("#text", "北区で防災をやっている団体を探したい")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#log .card').length >= 5", timeout=10000)
    cards = page.locator("#log .card")
    assert cards.count() == 5
    for i in range(5):
        assert cards.nth(i).locator("button").all_inner_texts() == ["この団体とつながりたい"]
    assert "もっと見る" in page.locator("#choices button").all_inner_texts()
    page.locator("#choices button", has_text="もっと見る").click()
    page.wait_for_function("() => document.querySelectorAll('#log .card').length >= 7", timeout=10000)
    site = page.locator("#log .card a.web")  # 市民防災ネット's site, on the second page
    assert site.count() == 1 and site.get_attribute("href") == "https://example.jp"
    assert site.get_attribute("target") == "_blank" and "noopener" in site.get_attribute("rel")
    name = cards.nth(0).locator("h2").inner_text()
    cards.nth(0).locator("button").click()
    page.wait_for_function("() => document.getElementById('log').innerText.includes('とのおつなぎは')", timeout=10000)
    assert f"「{name}」とのおつなぎは" in page.locator("#log").inner_text()
    assert "同意する" in page.locator("#choices button").all_inner_texts()
    assert page.problems == []
