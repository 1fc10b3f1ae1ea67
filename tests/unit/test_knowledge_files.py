"""The knowledge files: what `kb lint` catches, and that the shipped Okayama folder is clean."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from knowledge.base import DEFAULT_FOLDER, load_knowledge
from knowledge.entries import CATEGORIES, KnowledgeError, load_entries

GOOD = """\
- id: a-1
  title: 一つ目
  category: faq
  source: テスト資料
  as_of: 2016-04-01
  body: 本文です。
  questions: [一つ目って何]
  related: [a-2]
- id: a-2
  title: 二つ目
  category: plan
  source: テスト資料
  as_of: 2016-04-01
  body: 本文です。
"""


def make_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "city"
    folder.mkdir(exist_ok=True)
    shutil.copy(DEFAULT_FOLDER / "city.yaml", folder / "city.yaml")
    vocabulary = yaml.safe_load((DEFAULT_FOLDER / "synonyms.yaml").read_text(encoding="utf-8"))
    local = {key: value for key, value in vocabulary.items() if key not in ("programs", "audiences", "gated")}  # Okayama's names
    (folder / "synonyms.yaml").write_text(yaml.safe_dump(local, allow_unicode=True), encoding="utf-8")
    (folder / "entries.yaml").write_text(text, encoding="utf-8")
    return folder


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "kb", "lint", str(folder)], capture_output=True, text=True)


def test_shipped_knowledge_lints_clean_and_covers_every_category():
    result = load_entries(DEFAULT_FOLDER)
    assert result.problems == []
    categories = {e.category for e in result.entries}
    assert categories == set(CATEGORIES)
    assert sum(1 for e in result.entries if e.category == "faq") >= 60


def test_shipped_knowledge_covers_all_thirteen_basic_measures_and_the_ordinance_articles():
    ids = {e.id for e in load_entries(DEFAULT_FOLDER).entries}
    assert {f"plan-shisaku-{n:02d}" for n in range(1, 14)} <= ids
    assert {"jorei-01", "jorei-07", "jorei-08", "jorei-09", "jorei-10", "jorei-13", "jorei-14", "jorei-15"} <= ids


def test_good_folder_passes(tmp_path):
    out = lint(make_folder(tmp_path, GOOD))
    assert out.returncode == 0, out.stdout
    assert "2 entries, 0 problem(s)" in out.stdout


@pytest.mark.parametrize("broken, message", [
    (GOOD.replace("id: a-2", "id: a-1"), "duplicate id a-1"),
    (GOOD.replace("  source: テスト資料\n", "", 1), "missing source"),  # from a-1 only
    (GOOD.replace("  as_of: 2016-04-01\n  body: 本文です。\n  questions", "  body: 本文です。\n  questions"), "missing as_of"),
    (GOOD.replace("related: [a-2]", "related: [a-9]"), "related id a-9 does not exist"),
    (GOOD.replace("本文です。\n  questions", "長" * 401 + "\n  questions"), "401 characters"),
    (GOOD.replace("category: plan", "category: news"), "category 'news'"),
    (GOOD.replace("  questions: [一つ目って何]\n", ""), "needs questions"),
    (GOOD.replace("title: 一つ目", "title: " + "長" * 21), "add short: (up to 20) for buttons"),
    (GOOD.replace("title: 一つ目", "title: 一つ目\n  short: " + "短" * 21), "short is 21 characters"),
])
def test_lint_names_file_line_and_problem(tmp_path, broken, message):
    out = lint(make_folder(tmp_path, broken))
    assert out.returncode == 1
    assert message in out.stdout
    assert "entries.yaml:" in out.stdout


def test_yaml_syntax_error_reports_its_line_not_a_traceback(tmp_path):
    folder = make_folder(tmp_path, GOOD + "- id: [unclosed\n")
    out = lint(folder)
    assert out.returncode == 1
    assert "entries.yaml:16" in out.stdout and "YAML syntax" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_broken_files_stop_the_index_build_with_the_same_messages(tmp_path):
    folder = make_folder(tmp_path, GOOD.replace("related: [a-2]", "related: [a-9]"))
    with pytest.raises(KnowledgeError, match=r"entries\.yaml:1: a-1: related id a-9"):
        load_knowledge(folder)
    ask = subprocess.run([sys.executable, "-m", "app", "ask", "一つ目"], capture_output=True, text=True,
                         env={**__import__("os").environ, "KYODO_KNOWLEDGE_DIR": str(folder)})
    assert ask.returncode == 2 and "related id a-9" in ask.stderr and "Traceback" not in ask.stderr


def test_index_is_cached_and_rebuilt_when_a_file_changes(tmp_path):
    folder = make_folder(tmp_path, GOOD)
    first = load_knowledge(folder, tmp_path / "cache")
    assert first.search("一つ目って何").hits[0].entry.id == "a-1"
    assert len(list((tmp_path / "cache").glob("index-*.npz"))) == 1
    (folder / "entries.yaml").write_text(GOOD.replace("一つ目", "新しい項目"), encoding="utf-8")
    second = load_knowledge(folder, tmp_path / "cache")
    assert second.search("新しい項目").hits[0].entry.title == "新しい項目"
    assert len(list((tmp_path / "cache").glob("index-*.npz"))) == 2


SOURCES = """\
- id: test-doc
  title: テスト資料
  issuer: テスト市
  date: 2016-04-01
  primary: true
"""


def cite(text: str, *ids: str) -> str:
    return text.replace("  source: テスト資料\n", f"  source: テスト資料\n  cites: [{', '.join(ids)}]\n")


def test_entries_cite_sources_of_the_registry(tmp_path):
    folder = make_folder(tmp_path, cite(GOOD, "test-doc"))
    (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    assert lint(folder).returncode == 0
    (folder / "entries.yaml").write_text(cite(GOOD, "test-doc", "web-page"), encoding="utf-8")
    out = lint(folder)
    assert out.returncode == 1 and "unknown source id web-page" in out.stdout and "entries.yaml:1" in out.stdout
    (folder / "entries.yaml").write_text(GOOD, encoding="utf-8")
    assert "a-1: cites no source" in lint(folder).stdout


@pytest.mark.parametrize("field, message", [
    ("closes: {label: 受付, ends: 2026-13-01}", "not a valid value: month must be in 1..12"),
    ("closes: {label: 受付, ends: soon}", "closes.ends 'soon' is not a date"),
    ("period: {ends: 2021-03-31}", "period needs label: and ends:"),
    ("kinds: [price]", "kind 'price' is not one of"),
    ("still_answers: [article]", "still_answers is only for an entry marked unconfirmed"),
    ("unconfirmed: 条文\n  still_answers: [price]", "kind 'price' is not one of"),
    ("review_by: someday", "review_by 'someday' is not a date"),
])
def test_dated_facts_and_kinds_are_checked(tmp_path, field, message):
    out = lint(make_folder(tmp_path, GOOD.replace("  body: 本文です。\n  questions", f"  {field}\n  body: 本文です。\n  questions")))
    assert out.returncode == 1 and message in out.stdout


def test_the_kinds_an_unconfirmed_entry_still_answers_pass_the_lint(tmp_path):
    marked = "  unconfirmed: 条文\n  still_answers: [article]\n  body: 本文です。\n  questions"
    text = GOOD.replace("  body: 本文です。\n  questions", marked)
    assert lint(make_folder(tmp_path, text)).returncode == 0


def test_shipped_entries_cite_the_registry_and_date_what_ends():
    entries = {e.id: e for e in load_entries(DEFAULT_FOLDER).entries}
    assert all(e.facts.cites for e in entries.values())
    assert "kominkan" in entries["place-kominkan"].facts.cites  # 37館: the plan gives no count
    assert entries["prog-teian-junbi"].facts.cites == ("other-cities-forms",)
    assert [f.ends.isoformat() for f in entries["prog-kuzukuri-schedule"].facts.dated] == ["2026-06-30"]
    assert [f.ends.isoformat() for f in entries["plan-period"].facts.dated] == ["2021-03-31"]


def test_a_route_naming_an_office_needs_a_known_source(tmp_path):
    folder = make_folder(tmp_path, cite(GOOD, "test-doc"))
    (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    (folder / "routing.yaml").write_text("routes:\n  - {topic: ごみ, words: [ごみ], office: 環境局}\n"
                                         "  - {topic: 税金, words: [税金], office: 税務課, source: tax-page}\n", encoding="utf-8")
    out = lint(folder)
    assert out.returncode == 1
    assert "route 1 (ごみ) names an office without a source id" in out.stdout
    assert "route 税金: unknown source id tax-page" in out.stdout


def test_programs_gates_and_lone_words_must_lead_somewhere(tmp_path):
    folder = make_folder(tmp_path, GOOD.replace("  title: 二つ目\n", "  title: 二つ目\n  defines: [一つ]\n")
                         .replace("  title: 一つ目\n", "  title: 一つ目\n  defines: [一つ]\n"))
    with (folder / "synonyms.yaml").open("a", encoding="utf-8") as fh:
        fh.write("programs:\n  - [一つ目]\n  - [三つ目事業]\naudiences:\n  - [四つ目の人]\n"
                 "gated:\n  - {title: 成果指標, words: [指標]}\n")
    out = lint(folder)
    assert out.returncode == 1
    assert "programs: no entry speaks of 三つ目事業" in out.stdout and "一つ目" not in out.stdout.split("programs:")[1]
    assert "audiences: no entry speaks of 四つ目の人" in out.stdout
    assert "gated: no entry title begins with 成果指標" in out.stdout
    assert "a-2: 一つ is already defined by a-1" in out.stdout
