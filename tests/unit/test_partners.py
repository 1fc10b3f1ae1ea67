"""The directory of groups: vocabulary, CSV validation, search with filters and pages, suggestions,
introductions and the マッチング count, on SQLite and PostgreSQL."""
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.partner_search import InvalidCursor
from bot.partners import GroupDirectory, ImportRefused, parse_csv
from knowledge.base import DEFAULT_FOLDER
from knowledge.partner_vocabulary import load_partner_vocabulary
from store import cases
from store import groups as table
from store.db import session_scope

TZ = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)
HEADER = "name,kind,fields,areas,offers,seeks,contact,url,public\n"
GROUPS = HEADER + """北区防災の会,町内会,防災;防犯,北区,炊き出し訓練と避難所運営の手伝い,若い人の参加,086-000-0000,https://example.jp,true
市民防災ネット,NPO,防災、子ども,市内全域,防災講座の講師派遣,企業の協賛,info@example.jp,,false
南区防災クラブ,NPO,防災,南区,防災マップづくり,,,,true
中区こども食堂,NPO,子ども;食,中区,子ども食堂の運営と学習支援,食材を提供してくれる企業,,,true
東区環境の会,町内会,環境,東区,河川の清掃活動,大学生のボランティア,,,true
"""


@pytest.fixture(scope="module")
def vocabulary():
    return load_partner_vocabulary(DEFAULT_FOLDER)


@pytest.fixture
def directory(db):
    return GroupDirectory.for_folder(db, Path(DEFAULT_FOLDER), TZ)


@pytest.fixture
def filled(directory):
    assert directory.import_csv(GROUPS.encode(), "tester", NOW) == (5, 0)
    return directory


def test_the_vocabulary_reads_fields_areas_and_kinds_in_a_question(vocabulary):
    named = vocabulary.mentions("北区で防災をやっている団体を探したい")
    assert (named.fields, named.areas, named.kinds) == (("防災",), ("北区",), ())
    named = vocabulary.mentions("うちは伊島学区です。留学生と交流したいＮＰＯを探しています")
    assert named.fields == ("国際",) and named.areas == ("伊島学区",) and named.kinds == ("NPO・市民活動団体",)
    assert vocabulary.field_of("災害") == "防災" and vocabulary.area_of("西区") is None
    assert vocabulary.mentions("ゴミ拾いがしたい").fields == ("環境",)  # an everyday word for the field


@pytest.mark.parametrize("typed, fields, areas", [("きたくで ぼうさいの だんたい", ("防災",), ("北区",)),
                                                  ("てつだいに いきたくて だんたいを さがしています", (), ()),
                                                  ("ふくしまから きました", (), ()), ("ふくしの かつどう", ("福祉",), ())])
def test_a_word_in_hiragana_is_read_only_where_it_stands_alone(vocabulary, typed, fields, areas):
    named = vocabulary.mentions(typed)
    assert (named.fields, named.areas) == (fields, areas)


def test_a_csv_with_bom_and_both_separators_is_read(vocabulary):
    rows, problems = parse_csv(("\ufeff" + GROUPS).encode(), vocabulary)
    assert problems == []
    first = rows[0]
    assert (first["kind"], first["activity_fields"], first["areas"], first["contact_public"]) == (
        "町内会・自治会", ["防災", "防犯"], ["北区"], True)
    assert rows[1]["activity_fields"] == ["防災", "子ども"] and rows[1]["contact_public"] is False


def test_every_bad_row_is_named_by_its_line(vocabulary):
    text = GROUPS + ('"複数行の\n説明の会",NPO,防災,北区,,,,,true\n'
                     "名前のない行,協会,宇宙開発,西区,,,,ftp://x,yes\n"
                     "北区防災の会,NPO,防災,北区,,,,,true\n")
    rows, problems = parse_csv(text.encode(), vocabulary)
    lines = sorted({p.line for p in problems})
    assert lines == [9, 10]  # the quoted cell spans lines 7-8, so the next record starts on line 9
    messages = " | ".join(p.message for p in problems if p.line == 9)
    for expected in ("kind '協会'", "field '宇宙開発'", "area '西区'", "url", "public is 'yes'"):
        assert expected in messages
    assert "already on line 2" in str(next(p for p in problems if p.line == 10))


def test_a_file_with_a_wrong_header_or_encoding_is_refused_at_line_1(vocabulary):
    _, problems = parse_csv(b"name,kind\nx,NPO\n", vocabulary)
    assert problems[0].line == 1 and "missing column(s) fields" in problems[0].message
    _, problems = parse_csv(GROUPS.encode("cp932"), vocabulary)
    assert problems[0].line == 1 and "UTF-8" in problems[0].message


def test_a_bad_row_refuses_the_whole_file(directory):
    bad = GROUPS + "壊れた行,NPO,防災,北区,,,,,maybe\n"
    with pytest.raises(ImportRefused) as refused:
        directory.import_csv(bad.encode(), "tester", NOW)
    assert [p.line for p in refused.value.problems] == [7]
    with session_scope(directory.db) as session:
        assert table.all_groups(session) == []


def test_search_filters_by_field_and_area_best_first(filled):
    page = filled.search("北区で防災をやっている団体を探したい")
    names = [h.group.name for h in page.hits]
    assert names == ["北区防災の会", "市民防災ネット"]  # the ward's own group, then the whole city's
    assert page.hits[0].reasons == ("分野: 防災", "地域: 北区")
    assert page.next_cursor is None and page.total == 2


def test_search_shows_only_public_groups_and_hides_private_contacts(filled):
    with session_scope(filled.db) as session:
        group = next(g for g in table.all_groups(session) if g.name == "北区防災の会")
    filled.set_status(group.id, "非公開", "tester", NOW)
    names = [h.group.name for h in filled.search("北区の防災").hits]
    assert names == ["市民防災ネット"]  # the index saw the change without being told
    assert filled.search("防災講座").hits[0].group.public_contact == ""  # via the centre only


@pytest.mark.parametrize("query", ["大学生です。東区で環境系のボランティアを募集してる団体ありますか",
                                   "大学生だけど、東区の環境の団体を探したい",
                                   "うちの町内会は若い人がおらんけぇ、東区の環境の団体とつながりたい"])  # their own, not sought
def test_the_kind_of_group_the_person_is_does_not_filter_the_groups(filled, query):
    page = filled.search(query)
    assert [h.group.name for h in page.hits] == ["東区環境の会"] and page.understood.kinds == ()
    assert filled.search("東区で大学と一緒に活動している環境の団体").understood.kinds == ("学校・大学",)  # asked for
    assert filled.search("そのうち東区のNPOと連携したい").understood.kinds == ("NPO・市民活動団体",)  # そのうち: no one's own


def test_free_words_find_groups_by_what_they_offer(filled):
    page = filled.search("河川の清掃をしたい")
    assert [h.group.name for h in page.hits][0] == "東区環境の会"
    assert filled.search("団体を探したい").hits == ()  # nothing said about which groups


def test_pages_of_five_with_a_cursor(filled):
    rows = HEADER + "".join(f"防災グループ{i:02d},NPO,防災,北区,防災訓練{i},,,,true\n" for i in range(12))
    filled.import_csv(rows.encode(), "tester", NOW)
    seen, cursor, pages = [], None, 0
    while True:
        page = filled.search("北区の防災", cursor)
        assert len(page.hits) <= 5
        seen += [h.group.id for h in page.hits]
        pages, cursor = pages + 1, page.next_cursor
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 14  # 12 + 北区防災の会 + 市民防災ネット
    with pytest.raises(InvalidCursor):
        filled.search("防災", "'; drop table")


def test_suggestions_give_reasons(filled):
    suggestions = filled.suggest("子ども食堂を手伝いたい。食材を寄付できます", "中区", "企業")
    best = suggestions[0]
    assert best.group.name == "中区こども食堂"
    assert best.reasons == ("分野: 子ども・食", "地域: 中区", "さがしていること: 食材を提供してくれる企業")
    words = filled.suggest("川のごみ拾いを企画しています", None, "大学")[0]
    assert words.group.name == "東区環境の会"  # ごみ → field 環境; the group seeks 大学生
    assert words.reasons == ("分野: 環境", "さがしていること: 大学生のボランティア")
    assert len(filled.suggest("防災訓練をしたい", "東区", "町内会", k=2)) == 2


def test_introductions_count_as_matching_per_month(filled):
    with session_scope(filled.db) as session:
        case = cases.create(session, kind="consultation", prefix="S", answers={}, channel="web", user_id="u1",
                            now=NOW, tz=TZ)
        group_ids = [g.id for g in table.all_groups(session)]
    filled.introduce(case.id, group_ids[0], "staff-a", datetime(2026, 10, 31, 14, 59, tzinfo=UTC))  # 10/31 23:59 JST
    filled.introduce(case.id, group_ids[1], "staff-a", datetime(2026, 10, 31, 15, 0, tzinfo=UTC))  # 11/1 JST
    assert filled.matching_count("2026-10") == 1 and filled.matching_count("2026-11") == 1
    assert filled.matching_count("FY2026") == 2 and filled.matching_count("FY2025") == 0
    with pytest.raises(LookupError):
        filled.introduce(case.id + 1000, group_ids[0], "staff-a", NOW)


def test_period_bounds():
    assert table.period_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert table.period_bounds("FY2026") == (date(2026, 4, 1), date(2027, 4, 1))
    with pytest.raises(ValueError):
        table.period_bounds("2026-13")
