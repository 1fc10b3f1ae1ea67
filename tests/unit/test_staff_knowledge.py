"""Staff-made knowledge: checked like the files (a bad entry is refused with its reasons), kept
with who and when (retired rows too), exported as a knowledge file that lints clean, and swapped
into a desk's knowledge base by the reloader while the old one keeps answering."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from app.settings import Settings
from bot.runtime import Desk
from bot.staff_knowledge import (
    KnowledgeReloader,
    Refused,
    add_answer,
    add_route,
    current_overlay,
    link,
    retire,
)
from knowledge.entries import load_entries
from knowledge.overlay import Overlay, StaffAnswer, export_files
from knowledge.routing import load_routing
from store import overlay
from store.db import session_scope

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
PARKING = StaffAnswer(question="センターに駐車場はありますか", title="センターの駐車場",
                      answer="センターには来館者用の駐車場はありません。バスや自転車でお越しください。",
                      source="centre", as_of="2026-12-01", review_by="2027-03-31")


@pytest.mark.parametrize("change, reason", [
    ({"source": "nosuch"}, "not a source id"),
    ({"answer": "長い" * 201}, "body is 402 characters"),
    ({"title": "センター駐車場についてのよくあるご質問です"}, "title is 21 characters"),
    ({"as_of": "昨日"}, "is not a date"),
    ({"question": ""}, "needs questions"),
    ({"review_by": "2026-11-01"}, "has already passed"),
    ({"as_of": "2027-01-01"}, "is in the future"),
])
def test_a_bad_staff_answer_is_refused_with_the_reason(db, kb, change, reason):
    written = StaffAnswer(**{**PARKING.__dict__, **change})
    with session_scope(db) as session, pytest.raises(Refused) as refused:
        add_answer(session, kb, written, "山田", NOW)
    assert any(reason in problem for problem in refused.value.problems), refused.value.problems
    with Session(db) as session:
        assert overlay.rows(session, include_retired=True) == []


def test_a_link_needs_an_existing_entry(db, kb):
    with session_scope(db) as session, pytest.raises(Refused, match="no entry 'nope'"):
        link(session, kb, "協働ってなんなん", "nope", "山田", NOW)


def test_a_change_needs_a_name_and_is_not_made_twice(db, kb):
    with session_scope(db) as session, pytest.raises(Refused, match="--by"):
        link(session, kb, "協働ってなんなん", "faq-kyodo-toha", " ", NOW)
    with session_scope(db) as session:
        first = link(session, kb, "協働ってなんなん", "faq-kyodo-toha", "山田", NOW)
    with session_scope(db) as session, pytest.raises(Refused, match="already linked"):
        link(session, kb, "協働って なんなん？", "faq-kyodo-toha", "佐藤", NOW)
    with session_scope(db) as session:
        retire(session, first.id, "山田", NOW)
    with session_scope(db) as session, pytest.raises(Refused, match="already retired by 山田"):
        retire(session, first.id, "佐藤", NOW)


def test_changes_are_versioned_and_retired_rows_kept(db, kb):
    with session_scope(db) as session:
        answer = add_answer(session, kb, PARKING, "山田", NOW)
        linked = link(session, kb, "協働ってなんなん", "faq-kyodo-toha", "佐藤", NOW)
    with session_scope(db) as session:
        retire(session, linked.id, "鈴木", NOW)
        with pytest.raises(Refused):
            retire(session, linked.id, "鈴木", NOW)
    with Session(db) as session:
        assert overlay.version(session) == 3
        live = current_overlay(session, kb)
        kept = overlay.rows(session, include_retired=True)
    assert [e.id for e in live.answers] == [answer.entry_id] == ["staff-1"] and live.links == ()
    assert [(r.created_by, r.retired_by) for r in kept] == [("山田", None), ("佐藤", "鈴木")]


def test_retiring_a_staff_answer_retires_the_wordings_linked_to_it(db, kb):
    with session_scope(db) as session:
        answer = add_answer(session, kb, PARKING, "山田", NOW)
        other = link(session, kb, "センターに車で行ける？", answer.entry_id, "佐藤", NOW)
        kept = link(session, kb, "協働ってなんなん", "faq-kyodo-toha", "佐藤", NOW)
    with session_scope(db) as session:
        taken = retire(session, answer.id, "鈴木", NOW)
    assert [r.id for r in taken] == [answer.id, other.id]  # the link would have stayed listed as live, answering nothing
    with Session(db) as session:
        assert [r.id for r in overlay.rows(session)] == [kept.id]


def test_the_export_is_a_knowledge_file_that_lints_clean(db, kb, tmp_path):
    with session_scope(db) as session:
        add_answer(session, kb, PARKING, "山田", NOW)
        link(session, kb, "協働ってなんなん", "faq-kyodo-toha", "佐藤", NOW)
        staff = current_overlay(session, kb)
    folder = tmp_path / "city"
    folder.mkdir()
    for path in kb.folder.glob("*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    staff_file, questions_file, _ = export_files(staff, tmp_path / "out")
    (folder / "staff.yaml").write_bytes(staff_file.read_bytes())
    result = load_entries(folder)
    assert result.problems == []
    [exported] = [e for e in result.entries if e.id == "staff-1"]
    assert exported.body == PARKING.answer and exported.questions == (PARKING.question,)
    assert "faq-kyodo-toha:\n- 協働ってなんなん" in questions_file.read_text(encoding="utf-8")


def test_the_reloader_swaps_in_the_staff_answer_while_answers_go_on(db, kb):
    desk = Desk(db, kb, Settings().desk, clock=lambda: NOW)
    reloader = KnowledgeReloader(desk)
    assert not reloader.refresh()  # nothing staff-made yet: the files' index stays
    assert desk.knowledge.ask(PARKING.question).declined
    with session_scope(db) as session:
        add_answer(session, kb, PARKING, "山田", NOW)
    answered_meanwhile = []
    swap = threading.Thread(target=reloader.refresh)
    swap.start()
    while swap.is_alive():
        answered_meanwhile.append(not desk.knowledge.ask("区づくりの補助はいくらまで？").declined)
    swap.join()
    assert answered_meanwhile and all(answered_meanwhile)
    answer = desk.knowledge.ask(PARKING.question)
    assert not answer.declined and answer.entry_id == "staff-1" and "来館者用の駐車場はありません" in answer.body
    assert kb.ask(PARKING.question).declined  # the files' knowledge base itself is unchanged


def test_a_question_staff_tied_to_an_entry_is_answered_from_it_whatever_the_search_ranks_first(db, kb):
    asked = "協働ってなにするもんなん？"
    assert kb.ask(asked).entry_id != "faq-kyodo-itaku-hojo"
    garbage = StaffAnswer(question="ごみの日いつ？", title="ごみの収集日", answer="収集日は地区ごとに違います。",
                          source="centre", as_of="2026-12-01")
    assert kb.ask(garbage.question).declined  # routed: the desk does not answer ごみ
    with session_scope(db) as session:
        link(session, kb, asked, "faq-kyodo-itaku-hojo", "山田", NOW)
        add_answer(session, kb, garbage, "山田", NOW)
    with Session(db) as session:
        with_staff = kb.overlaid(current_overlay(session, kb))
    for typed in (asked, "協働って なにするもんなん", "協働ってなにするもんなん？！"):
        assert with_staff.ask(typed).entry_id == "faq-kyodo-itaku-hojo"
    assert "地区ごとに違います" in with_staff.ask("ごみの日いつ").body
    assert "地区ごとに違います" in with_staff.ask("ゴミの日いつ？").body  # katakana for hiragana is the same wording
    with session_scope(db) as session:  # another wording, tied to the staff answer itself
        staff_id = next(r.entry_id for r in overlay.rows(session) if r.entry_id.startswith("staff-"))
        link(session, kb, "ごみの収集日はいつですか", staff_id, "山田", NOW)
    with Session(db) as session:
        with_staff = kb.overlaid(current_overlay(session, kb))
    assert with_staff.ask("ごみの収集日はいつですか").entry_id == staff_id
    assert with_staff.ask("協働ってなに？").entry_id != "faq-kyodo-itaku-hojo"  # another question keeps its answer


def test_one_wording_is_tied_to_one_answer_and_an_unconfirmed_entry_still_declines(db, kb):
    hours = "センターは何時まで開いてますか"
    assert kb.entry("faq-center-jikan").unconfirmed
    with session_scope(db) as session:
        link(session, kb, hours, "faq-center-jikan", "山田", NOW)
        add_answer(session, kb, PARKING, "山田", NOW)
    with session_scope(db) as session, pytest.raises(Refused, match="already answered by staff-2"):
        link(session, kb, PARKING.question + "？", "faq-center-basho", "佐藤", NOW)
    with session_scope(db) as session, pytest.raises(Refused, match="already answered by faq-center-jikan"):
        add_answer(session, kb, replace(PARKING, question=hours, title="センターの時間"), "佐藤", NOW)
    with Session(db) as session:
        with_staff = kb.overlaid(current_overlay(session, kb))
    answer = with_staff.ask(hours)
    assert answer.declined and answer.entry_id == "faq-center-jikan"  # in that entry's words, kept for staff


def test_a_topic_marked_out_of_scope_is_declined_with_its_name_and_the_general_contact(db, kb):
    question = "飼い犬の登録はどこでできますか"
    assert "犬の登録については" not in kb.ask(question).text
    with session_scope(db) as session:
        add_route(session, kb, "犬の登録", "犬の登録、狂犬病", "山田", NOW)
    with Session(db) as session:
        staff = current_overlay(session, kb)
    routed = kb.overlaid(staff)
    answer = routed.ask(question)
    assert answer.abstained and answer.reason == "out_of_scope"
    assert "犬の登録については、この窓口ではお答えできません" in answer.text
    assert kb.profile.general_contact in answer.text
    assert routed.ask("協働とは").text.startswith("【協働とは】")  # the desk's own questions still answered
    assert len(routed.overlaid(staff).routing.routes) == len(routed.routing.routes)  # laid over once, not stacked


@pytest.mark.parametrize("words, reason", [
    ("補助金、犬の登録", "窓口が答えている言葉は使えません: 補助金"),
    ("犬", "1文字の言葉は使えません: 犬"),
    ("、 ,", "言葉を1つ以上"),
])
def test_an_out_of_scope_topic_that_would_turn_away_the_desks_own_questions_is_refused(db, kb, words, reason):
    with session_scope(db) as session, pytest.raises(Refused) as refused:
        add_route(session, kb, "犬の登録", words, "山田", NOW)
    assert any(reason in problem for problem in refused.value.problems), refused.value.problems
    with Session(db) as session:
        assert overlay.rows(session) == []


def test_the_export_writes_out_of_scope_topics_as_routing_yaml_routes(db, kb, tmp_path):
    with session_scope(db) as session:
        add_route(session, kb, "犬の登録", "犬の登録、狂犬病", "山田", NOW)
    with Session(db) as session:
        export_files(current_overlay(session, kb), tmp_path)
    (tmp_path / "routing.yaml").write_text((tmp_path / "staff-routes.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    table, problems = load_routing(tmp_path)
    assert problems == [] and [(r.topic, r.words) for r in table.routes] == [("犬の登録", ("犬の登録", "狂犬病"))]


def test_the_files_are_analysed_ahead_of_a_change_a_slice_at_a_time(kb, tmp_path):
    from knowledge.base import load_knowledge

    load_knowledge(kb.folder, tmp_path)  # builds the index and caches it
    restored = load_knowledge(kb.folder, tmp_path)  # from the cache: no analysis yet
    assert not restored.prepare(8) and len(restored._documents) == 8
    assert restored.prepare() and len(restored._documents) == len(restored.files)
    with_staff = restored.overlaid(Overlay(links=(("faq-kyodo-toha", "きょうどうってなんなん"),), version=1))
    assert with_staff.ask("きょうどうってなんなん").entry_id == "faq-kyodo-toha"
