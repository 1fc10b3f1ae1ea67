"""A web citizen checks a case from another browser: the reference alone shows nothing; with the
check code from the confirmation, the status is shown."""
import re

import httpx


class Browser:
    """One browser on /api/chat: its own cookie session; taps buttons by label."""

    def __init__(self, url: str):
        self.client, self.messages = httpx.Client(base_url=url, timeout=30), []

    def send(self, body: dict) -> str:
        response = self.client.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        self.messages = response.json()["messages"]
        return "\n".join(" ".join([m.get("title", ""), m.get("text", ""), m.get("body", "")]
                                  + [" ".join(f) for f in m.get("fields", [])]) for m in self.messages)

    def say(self, text: str) -> str:
        return self.send({"text": text})

    def tap(self, label: str) -> str:
        for message in self.messages:
            for choice in message.get("choices", []) + message.get("buttons", []):
                if choice["label"] == label:
                    return self.send({"postback": choice["data"]})
        raise AssertionError(f"no button {label!r}")


def submit_consultation(browser: Browser) -> str:
    browser.say("相談したい")
    browser.tap("同意する")
    browser.tap("個人")
    browser.say("岡山花子")
    browser.say("公園の清掃活動を一緒にしてくれる団体を探しています")
    assert "LINE" not in browser.say("なし")  # on the web: phone or mail only
    assert "メールアドレス" in browser.tap("メール")
    browser.say("hanako@example.jp")
    browser.say("なし")
    return browser.tap("送信する")


def test_status_from_another_browser_needs_the_check_code(line_server):
    first, second = Browser(line_server.url), Browser(line_server.url)
    confirmation = submit_consultation(first)
    reference = re.search(r"受付番号は (S-\d{4}-\d{4})", confirmation).group(1)
    code = re.search(r"確認コードは ([A-Z0-9]{6})", confirmation).group(1)
    assert reference in first.say("状況確認")

    asked = second.say(reference)
    assert "確認コード" in asked and "受付（" not in asked and "協働の相談" not in asked
    wrong = second.say("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
    assert "確認できませんでした" in wrong and "受付（" not in wrong
    shown = second.say(code.lower())
    assert reference in shown and "受付（" in shown
    assert "お預かりしているご相談・ご提案はありません" in second.say("状況確認")  # not made the second's own
