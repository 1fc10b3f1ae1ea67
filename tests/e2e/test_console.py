"""The staff console without Slack, end to end: a case submitted on the web chat of the real
server is listed, shown, replied to and moved by `kyodo-desk cases …`, and the web citizen
receives the reply and the status notice on the page's next poll."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import httpx
import pytest

from app.cli import main
from app.server import create_app
from app.settings import Settings
from bot.runtime import Desk
from tests.support.live import LiveServer, free_port, wait_until

NAME, EMAIL = "web太郎", "taro@example.jp"
CONTENT = "公民館のイベントの協力者を探しています"
PLATFORM_VARIABLES = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
                      "SLACK_STAFF_CHANNEL")


@pytest.fixture
def web_only(db, kb, monkeypatch):
    """The real app with neither LINE nor Slack configured, and the CLI pointed at its database."""
    for variable in PLATFORM_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    settings = Settings()
    with LiveServer(create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)) as server:
        yield server


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def submit_on_the_web(browser: httpx.Client) -> str:
    """A consultation through /api/chat, as the page sends it; returns its reference number."""
    last = {}
    for text in ["相談したい", "同意する", "個人", NAME, CONTENT, "なし", "メール", EMAIL, "なし", "送信"]:
        last = browser.post("/api/chat", json={"text": text}).json()
    done = json.dumps(last, ensure_ascii=False)
    assert "S-" in done, f"the consultation was not submitted: {done}"
    return "S-" + done.split("S-", 1)[1][:9]


def poll(browser: httpx.Client) -> list[dict]:
    """What the page shows on its next poll; it acknowledges what it showed, as the page does."""
    items = browser.get("/api/chat/poll").json()["items"]
    if items:
        browser.post("/api/chat/ack", json={"ids": [item["id"] for item in items]})
    return [message for item in items for message in item["messages"]]


def test_a_web_case_is_worked_from_the_console_and_the_citizen_hears_on_the_next_poll(web_only, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=web_only.url) as browser:
        reference = submit_on_the_web(browser)
        code, out, _ = cli(capsys, "cases", "list", "--json")
        [listed] = [row for row in json.loads(out) if row["reference"] == reference]
        assert code == 0 and listed["status"] == "受付" and listed["kind"] == "協働の相談"
        assert CONTENT[:10] in listed["summary"]
        code, out, _ = cli(capsys, "cases", "list")
        assert reference in out and NAME not in out and EMAIL not in out  # a listing names nobody

        code, out, _ = cli(capsys, "cases", "show", reference.lower())
        assert code == 0 and NAME in out and EMAIL in out and CONTENT in out  # staff need to contact them
        assert poll(browser) == []

        code, out, _ = cli(capsys, "cases", "reply", reference, "来週お電話します", "--by", "田中")
        assert code == 0 and "ウェブチャット" in out
        [message] = wait_until(lambda: poll(browser), 10, "the reply on the poll")
        assert "来週お電話します" in message["text"] and reference in message["text"]
        assert poll(browser) == []  # delivered once

        code, out, _ = cli(capsys, "cases", "status", reference, "協議中", "--note", "市民活動課と相談", "--by", "田中")
        assert code == 0
        [notice] = wait_until(lambda: poll(browser), 10, "the status notice on the poll")
        assert "協議を進めています" in notice["text"] and "市民活動課" not in notice["text"]  # the note is internal

    code, out, _ = cli(capsys, "cases", "show", reference)
    assert "担当: 田中" in out and "reply" in out and "受付→協議中 市民活動課と相談" in out
    code, out, _ = cli(capsys, "cases", "list", "--status", "協議中", "--json")
    assert [row["reference"] for row in json.loads(out)] == [reference]
    logged = caplog.text
    assert NAME not in logged and EMAIL not in logged and "来週お電話します" not in logged


def test_a_mistyped_reference_or_status_is_one_line_and_exit_code_2(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    for argv in (["show", "S-2026-9999"], ["status", "S-2026-9999", "協議中", "--by", "田中"],
                 ["list", "--status", "保留"], ["reply", "S-2026-0001", "こんにちは"]):
        run = subprocess.run([sys.executable, "-m", "app", "cases", *argv], env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 2, argv
        assert "Traceback" not in run.stderr and run.stderr.strip(), argv
    assert "S-2026-9999 の案件はありません" in subprocess.run(
        [sys.executable, "-m", "app", "cases", "show", "S-2026-9999"], env=env, capture_output=True, text=True,
        timeout=120).stderr


def test_serve_without_slack_says_once_where_the_cases_are(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in PLATFORM_VARIABLES}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'desk.db'}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_until(lambda: _healthy(port), 60, "serve started")
        time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(20)
    text = log_path.read_text(encoding="utf-8")
    assert text.count("kyodo-desk cases list") == 1, text
    assert "posted" not in text


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
