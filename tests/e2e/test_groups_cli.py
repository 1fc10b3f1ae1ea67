"""`kyodo-desk groups …` as staff run it: import (whole or nothing), export (spreadsheet-safe),
search (same ranking as the directory, JSON), suggest, introduce, status."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "name,kind,fields,areas,offers,seeks,contact,url,public\n"
GROUPS = HEADER + """北区防災の会,町内会,防災;防犯,北区,炊き出し訓練と避難所運営の手伝い,若い人の参加,086-000-0000,https://example.jp,true
市民防災ネット,NPO,防災、子ども,市内全域,防災講座の講師派遣,企業の協賛,info@example.jp,,false
=HYPERLINK("http://evil"),事業者,情報・IT,南区,スマホ教室,,+81-86-000,,true
"""


@pytest.fixture
def run(tmp_path, db):
    env = {**os.environ, "DATABASE_URL": db.url.render_as_string(hide_password=False)}

    def kyodo(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", "groups", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
    return kyodo


def test_import_search_export_round_trip(run, tmp_path):
    (tmp_path / "groups.csv").write_bytes(("\ufeff" + GROUPS).encode())
    imported = run("import", "groups.csv", "--by", "staff-a")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("3 group(s) added, 0 updated")

    found = run("search", "北区で防災をやっている団体を探したい", "--json")
    result = json.loads(found.stdout)
    assert result["understood"] == {"fields": ["防災"], "areas": ["北区"], "kinds": []}
    assert [g["name"] for g in result["groups"]] == ["北区防災の会", "市民防災ネット"]
    assert result["groups"][1]["contact"] == ""  # this group is reached through the centre
    text = run("search", "北区で防災をやっている団体を探したい").stdout
    assert text.index("北区防災の会") < text.index("市民防災ネット") and "センター経由" in text

    assert run("export", "--out", "out.csv").returncode == 0
    exported = (tmp_path / "out.csv").read_bytes()
    assert exported.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    evil = next(r for r in rows if "HYPERLINK" in r["name"])
    assert evil["name"].startswith("'=") and evil["contact"] == "'+81-86-000"  # opened as text, not a formula
    assert rows[0]["fields"] == "防災、防犯" and rows[0]["status"] == "公開"
    again = run("import", "out.csv")
    assert again.stdout.startswith("0 group(s) added, 3 updated"), again.stderr
    assert json.loads(run("search", "スマホ教室", "--json").stdout)["groups"][0]["name"] == '=HYPERLINK("http://evil")'


def test_a_bad_row_refuses_the_whole_file_naming_its_line(run, tmp_path):
    bad = GROUPS + "西区の会,NPO,防災,西区,,,,,true\n"
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    refused = run("import", "bad.csv", "--by", "staff-a")
    assert refused.returncode == 1
    assert "bad.csv:5: area '西区' is not in partner-fields.yaml" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert json.loads(run("search", "防災", "--json").stdout)["total"] == 0


def test_pages_suggestions_and_status(run, tmp_path):
    rows = HEADER + "".join(f"防災グループ{i:02d},NPO,防災,北区,防災訓練の支援{i},町内会との連携,,,true\n" for i in range(7))
    (tmp_path / "many.csv").write_text(rows, encoding="utf-8")
    assert run("import", "many.csv").returncode == 0
    first = json.loads(run("search", "北区の防災", "--json").stdout)
    assert len(first["groups"]) == 5 and first["next_cursor"] == "5" and first["total"] == 7
    second = json.loads(run("search", "北区の防災", "--json", "--cursor", first["next_cursor"]).stdout)
    assert len(second["groups"]) == 2 and second["next_cursor"] is None
    assert run("search", "防災", "--cursor", "abc").returncode == 2

    suggested = [json.loads(line) for line in run("suggest", "防災訓練を始めたい", "--area", "北区",
                                                  "--kind", "自治会", "--json").stdout.splitlines()]
    assert len(suggested) == 3
    assert "分野: 防災" in suggested[0]["reasons"] and "さがしていること: 町内会との連携" in suggested[0]["reasons"]

    group_id = str(first["groups"][0]["id"])
    assert run("status", group_id, "終了", "--by", "staff-a").returncode == 0
    assert json.loads(run("search", "北区の防災", "--json").stdout)["total"] == 6
    assert run("status", group_id, "閉鎖", "--by", "staff-a").returncode == 2
    missing = run("introduce", "S-2026-0001", group_id, "--by", "staff-a")
    assert missing.returncode == 2 and "no case S-2026-0001" in missing.stderr
