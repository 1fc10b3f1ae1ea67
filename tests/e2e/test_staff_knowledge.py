"""Staff keep the knowledge current without a developer or a restart: a question the desk
declines on a running server's web chat shows up in `kb unanswered`; after `kb faq add` the same
question is answered with the new text by every running process within seconds, and by `kyodo-desk ask`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import httpx
from sqlalchemy import create_engine, text

from tests.support.live import start_serve, wait_until

QUESTION = "センターに駐車場はありますか"
ANSWER = "センターには来館者用の駐車場はありません。バスや自転車でお越しください。"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(db_url: str, cache: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=db_url, KYODO_CACHE_DIR=cache)
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def ask(port: int, question: str) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"text": question}, timeout=30)
    assert response.status_code == 200
    return "\n".join(m.get("text", "") + m.get("body", "") for m in response.json()["messages"])


def staff_fix_reaches_every_process(db_url: str, cache: str, ports: list[int]) -> None:
    for port in ports:
        assert "この窓口ではお答えできません" in ask(port, QUESTION)
    listed = cli(db_url, cache, "kb", "unanswered", "--json")
    assert listed.returncode == 0, listed.stderr
    [group] = json.loads(listed.stdout)
    assert group["count"] == len(ports) and group["questions"] == [QUESTION] and group["kinds"] == {"declined": len(ports)}

    refused = cli(db_url, cache, "kb", "faq", "add", "--question", QUESTION, "--answer", ANSWER, "--source", "nosuch",
                  "--by", "山田")
    assert refused.returncode == 2 and "not a source id" in refused.stderr
    added = cli(db_url, cache, "kb", "faq", "add", "--question", QUESTION, "--title", "センターの駐車場",
                "--answer", ANSWER, "--source", "centre", "--by", "山田")
    assert added.returncode == 0, added.stderr
    changed = time.monotonic()
    for port in ports:
        wait_until(lambda port=port: ANSWER in ask(port, QUESTION), 10, f"the new answer on :{port}")
    assert time.monotonic() - changed < 8  # the target is 5 s; a loaded test machine gets some slack
    assert ANSWER in cli(db_url, cache, "ask", QUESTION).stdout  # `ask` answers as the server does

    retired = cli(db_url, cache, "kb", "faq", "retire", added.stdout.split(":")[0], "--by", "山田")
    assert retired.returncode == 0, retired.stderr
    for port in ports:
        wait_until(lambda port=port: ANSWER not in ask(port, QUESTION), 10, f"the retired answer gone on :{port}")
    history = json.loads(cli(db_url, cache, "kb", "faq", "list", "--all", "--json").stdout)
    assert [(row["title"], row["retired_by"]) for row in history] == [("センターの駐車場", "山田")]


def test_a_declined_question_is_listed_and_answered_after_faq_add_on_sqlite(tmp_path, line_api):
    db_url, cache = f"sqlite:///{tmp_path / 'desk.db'}", str(tmp_path / "cache")
    proc, port = start_serve(db_url, line_api.url, cache)
    try:
        staff_fix_reaches_every_process(db_url, cache, [port])
    finally:
        proc.terminate()
        proc.wait(15)


def test_every_process_answers_from_the_staff_edit_on_postgresql(tmp_path, line_api, postgres_url):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = postgres_url + ("&" if "?" in postgres_url else "?") + f"options=-csearch_path%3D{schema}"
    cache = str(tmp_path / "cache")
    procs = []
    try:
        for role in ("all", "web"):
            procs.append(start_serve(db_url, line_api.url, cache, role=role))
        staff_fix_reaches_every_process(db_url, cache, [port for _, port in procs])
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(15)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()



def test_ask_without_a_database_answers_from_the_files_and_creates_nothing(tmp_path):
    db = tmp_path / "none.db"
    answered = cli(f"sqlite:///{db}", str(tmp_path / "cache"), "ask", "協働とは")
    assert answered.returncode == 0 and "立場の異なる主体" in answered.stdout
    assert not db.exists()


def test_faq_add_names_the_option_a_staff_member_left_empty(tmp_path):
    db_url, cache = f"sqlite:///{tmp_path / 'desk.db'}", str(tmp_path / "cache")
    empty = cli(db_url, cache, "kb", "faq", "add", "--question", " ", "--answer", "", "--source", "centre", "--by", "山田")
    assert empty.returncode == 2 and "--question is empty" in empty.stderr and "--answer is empty" in empty.stderr
    long = cli(db_url, cache, "kb", "faq", "add", "--question", "センターに駐車場はありますか、それと駐輪場も",
               "--answer", "ありません。", "--source", "centre", "--by", "山田")
    assert long.returncode == 2 and "--title" in long.stderr and "Traceback" not in long.stderr


def test_faq_add_over_a_file_answer_says_which_it_replaces_and_kb_eval_wants_labels(tmp_path):
    db_url, cache = f"sqlite:///{tmp_path / 'desk.db'}", str(tmp_path / "cache")
    added = cli(db_url, cache, "kb", "faq", "add", "--question", "協働とは？", "--title", "協働",
                "--answer", "協働とは一緒に取り組むことです。", "--source", "jorei", "--by", "山田")
    assert added.returncode == 0 and "注意" in added.stdout and "faq-kyodo-toha" in added.stdout
    questions_only = tmp_path / "questions-only.jsonl"
    questions_only.write_text('{"id": "q1", "q": "協働とは？"}\n', encoding="utf-8")
    unlabelled = cli(db_url, cache, "kb", "eval", str(questions_only))
    assert unlabelled.returncode == 2 and "holdout_report.py" in unlabelled.stderr and "Traceback" not in unlabelled.stderr
