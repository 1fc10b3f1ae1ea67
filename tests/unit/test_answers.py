"""Knowledge answers as a citizen sees them, and the CLI contracts around them."""
import json
import re
import subprocess
import sys

import pytest

from knowledge.english import in_english
from tests.conftest import DEV_QUESTIONS, ROOT

HOLDOUT = ROOT / "tests" / "data" / "holdout-questions.jsonl"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, input=stdin, timeout=120)


def eval_figures(path) -> dict[str, float]:
    out = run_cli("kb", "eval", str(path))
    assert out.returncode == 0, out.stderr
    figures = {name: float(value) for name, value in re.findall(r"^(top-1 hit rate|top-3 hit rate): ([\d.]+)%", out.stdout, re.M)}
    figures["declined"] = float(re.search(r"abstention accuracy: ([\d.]+)% of out-of-scope declined", out.stdout).group(1))
    figures["reliability"] = float(re.search(r"reliability: ([\d.]+)%", out.stdout).group(1))
    figures["offered"] = float(re.search(r"offered: ([\d.]+)%", out.stdout).group(1))
    return figures


@pytest.mark.skipif(not DEV_QUESTIONS.exists(), reason="shared/eval not present")
def test_dev_set_meets_the_targets():
    figures = eval_figures(DEV_QUESTIONS)
    assert figures["top-1 hit rate"] >= 90.0
    assert figures["declined"] >= 5 / 6 * 100 - 0.1


def test_independent_holdout_set_generalizes():
    # The threshold is fitted on citizen-style sets too, where a wrong answer costs more than a
    # decline: on this plainer set a refit may answer a few fewer (83-90% this round), those it
    # gives stay right, and most of the others get the right entry as a 「もしかして」 button.
    figures = eval_figures(HOLDOUT)
    assert figures["top-1 hit rate"] >= 80.0
    assert figures["top-1 hit rate"] + figures["offered"] >= 93.0
    assert figures["top-3 hit rate"] >= 95.0
    assert figures["declined"] >= 90.0
    assert figures["reliability"] >= 95.0


def test_answer_names_its_source_and_date_and_fits_a_bubble(kb):
    answer = kb.ask("町内会の活動に使える補助金ってある？")
    assert not answer.abstained
    assert "区づくり推進事業" in answer.text
    assert "出典:" in answer.text and "時点" in answer.text
    assert len(answer.body) <= 400
    assert 1 <= len(answer.related) <= 3 and all(r.id != answer.entry_id for r in answer.related)


def test_asked_what_the_committee_is_the_answer_says_what_it_does(kb):
    answer = kb.ask("協働推進委員会ってなにしよるとこ？")
    assert not answer.declined and "委員会" in answer.title
    assert "評価" in answer.body and "表彰" in answer.body


def test_amounts_that_may_change_point_to_the_centre(kb):
    answer = kb.ask("区づくり推進事業の補助の上限はいくら？")
    assert "万円" in answer.body
    assert "ESD・市民協働推進センター" in answer.caution and "086-803-1062" in answer.caution


@pytest.mark.parametrize("question", ["ごみの日はいつ？", "住民票を取りたい", "明日の天気は？", "粗大ごみの出し方"])
def test_outside_the_desk_it_declines_and_offers_a_person(kb, question):
    answer = kb.ask(question)
    assert answer.abstained
    assert "この窓口ではお答えできません" in answer.text and "職員" in answer.text

def test_a_question_no_route_places_is_not_told_the_desk_cannot_answer_it(kb):
    answer = kb.ask("まちづくりのお金の相談にのってほしい")  # the desk's own topic, in words it did not follow
    assert answer.declined and answer.route is None
    assert "お答えできません" not in answer.text
    assert "見つかりませんでした" in answer.text and "言葉を変えて" in answer.text and "職員への相談" in answer.text



@pytest.mark.parametrize("question, expect_in_answer", [
    ("ｺｳﾐﾝｶﾝの休館日は？", "水曜"),
    ("ＥＳＤ・市民協働推進センターの電話番号", "086-803-1062"),
    ("協働のまちづくり条例　第１０条", "提案"),
    ("こうみんかんの休みの日は？", "水曜"),
    ("きょうどうていあんってなに", "第10条"),
])
def test_width_and_spelling_variants_find_the_same_answer(kb, question, expect_in_answer):
    answer = kb.ask(question)
    assert not answer.abstained and expect_in_answer in answer.text


@pytest.mark.parametrize("question, reason", [
    ("", "empty"), ("   \n\t ", "empty"), ("😀🎉🙏", "empty"), ("？！。、…", "empty"),
    ("What's the weather like today?", "not_japanese"), ("When is garbage collected in my neighborhood?", "not_japanese"),
    ("いつ", "vague"), ("いくらですか？", "vague"), ("何時から？", "vague"), ("どこにありますか", "vague"), ("when?", "vague"),
    ("いつまで？", "vague"), ("何円？", "vague"),
])
def test_odd_questions_get_a_helpful_decline(kb, question, reason):
    answer = kb.ask(question)
    assert answer.abstained and answer.reason == reason and answer.text


def test_a_question_naming_only_what_kind_of_thing_it_asks_is_asked_what_about(kb):
    assert "どのようなことについてのご質問" in kb.ask("いくら？").text  # not an award's prize, asserted
    assert not kb.ask("締め切りは？").declined  # a topic of its own, however short


@pytest.mark.parametrize("question", ["NPO", "ＮＰＯ", "ESD？"])
def test_an_acronym_alone_is_answered_as_japanese_is_written(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and not answer.text.startswith("(This desk answers in Japanese")
    assert kb.ask("SDGs").reason != "not_japanese"  # one the desk does not know: not asked to write in Japanese


@pytest.mark.parametrize("question, expect", [("補助金のrateってどれくらい？", "補助率"),
                                              ("うちの会社のskillを活かせるNPOとmatchingしてもらえる？", "つなぎ役")])
def test_an_english_loanword_inside_a_japanese_question_is_read(kb, question, expect):
    answer = kb.ask(question)
    assert not answer.declined and expect in answer.body


def test_a_dialect_how_question_with_background_is_answered(kb):
    answer = kb.ask("市と一緒にやりたい企画があるんじゃけど、提案ってどうやるん？")
    assert not answer.declined and "提案" in answer.title


def test_where_in_the_ordinance_something_is_is_answered_not_taken_for_how_many_articles(kb):
    answer = kb.ask("協働の原則は何条から書いてある？")
    assert not answer.declined and "第3条" in answer.body


def test_an_english_question_the_desk_is_unsure_of_still_offers_the_nearest_entries(kb):
    answer = kb.ask("Our company wants to do a CSR project with the city. What is the first step?")
    assert answer.declined and answer.reason == "not_japanese" and "(Sorry, this desk answers questions in Japanese.)" in answer.text
    assert "faq-kigyo-kouken" in {m.id for m in answer.maybe}  # 企業として地域貢献・社会貢献したい
    assert kb.ask("What's the weather like today?").maybe == ()


def test_a_romaji_question_on_a_detail_the_sources_lack_says_so_not_that_it_is_not_japanese(kb):
    answer = kb.ask("kyodo teian no shimekiri wa itsu?")
    assert answer.declined and answer.reason != "not_japanese"
    assert "この窓口の資料では確認できません" in answer.text and answer.text.startswith("(This desk answers in Japanese")


@pytest.mark.parametrize("question", ["協働" * 5000, "公民館の休館日" + "あ" * 20000, "補助金 " + "a" * 20000 + " b"])
def test_very_long_questions_are_answered_without_error(kb, question):
    answer = kb.ask(question)
    assert answer.text and 0.0 <= answer.confidence <= 1.0


def test_ask_json_contract():
    out = run_cli("ask", "公民館の休館日はいつ？", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"id", "q", "answer", "abstained", "confidence", "sources"}
    assert data["abstained"] is False and "水曜" in data["answer"]
    assert all(set(s) == {"id", "title", "score"} for s in data["sources"]) and data["sources"]


def test_ask_batch_answers_each_line_in_order(tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "q": "協働推進委員会の委員は何人？"}\n{"id": "b", "q": "印鑑登録したい"}\n', encoding="utf-8")
    out = run_cli("ask", "--batch", str(batch), "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert "16" in rows[0]["answer"] and rows[1]["abstained"] is True


@pytest.mark.parametrize("question", ["", "😀", "x" * 10_000, "あ" * 20_000])
def test_ask_cli_never_prints_a_traceback(question):
    out = run_cli("ask", question, "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert json.loads(out.stdout)["answer"]


def test_ask_piped_into_a_reader_that_stops_early_prints_no_traceback(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(f'{{"id": "{i}", "q": "公民館の休館日はいつ？"}}\n' for i in range(400)), encoding="utf-8")
    asking = subprocess.Popen([sys.executable, "-m", "app", "ask", "--batch", str(questions)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert asking.stdout is not None and asking.stdout.readline()
    asking.stdout.close()  # as `| head -1` does
    _, err = asking.communicate(timeout=120)
    assert asking.returncode == 0 and b"Traceback" not in err


def test_kb_dump_lists_every_passage():
    out = run_cli("kb", "dump")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) >= 200
    assert {"id", "title", "text", "source"} <= set(rows[0])
    assert len({r["id"] for r in rows}) == len(rows)


# --- what was asked, what has ended, where to go instead -------------------------------------

import datetime as dt  # noqa: E402

from knowledge import calibration  # noqa: E402
from knowledge.kinds import other_asks, question_kind  # noqa: E402

AFTER_ROUND = dt.date(2026, 11, 28)


def test_a_closed_round_is_never_presented_as_open(kb):
    closed = kb.ask("区づくりの締め切りはいつ？", today=AFTER_ROUND)
    assert closed.body.startswith("2026年度第2回の応募受付は2026年6月30日で終了しました。")
    open_round = kb.ask("区づくりの締め切りはいつ？", today=dt.date(2026, 6, 10))
    assert open_round.body.startswith("2026年度第2回の応募受付は2026年6月30日までです。")
    assert "終了しました" not in open_round.body


def test_the_awards_only_known_round_is_said_to_have_closed(kb):
    answer = kb.ask("まちづくり賞の締め切りはいつ？", today=AFTER_ROUND)
    assert answer.entry_id == "faq-award-oubo"
    assert answer.body.startswith("資料にある最後の応募受付は2016年12月5日で終了しました。第1回（2016年）は")


def test_an_ended_plan_period_is_said_to_have_ended(kb):
    assert "この計画の期間（2016〜2020年度）は終了しています。" in kb.ask("協働推進計画っていつまで？", today=AFTER_ROUND).body
    assert "終了しています" not in kb.ask("協働推進計画っていつまで？", today=dt.date(2018, 4, 1)).body


def test_an_entry_past_its_review_date_says_so(kb):
    assert "見直しの時期" in kb.show("faq-npo-teian-gaku", today=dt.date(2027, 4, 1)).caution
    assert "見直しの時期" not in kb.show("faq-npo-teian-gaku", today=dt.date(2026, 12, 1)).caution


def test_figures_from_a_secondary_source_point_to_the_centre(kb):
    answer = kb.show("place-kominkan", today=AFTER_ROUND)  # 37館: from the city's page, not the plan
    assert "37館" in answer.body and "ESD・市民協働推進センター" in answer.caution


@pytest.mark.parametrize("question, kind", [
    ("区づくりの補助はいくらまで？", "how_much"), ("公民館の休館日は？", "when"), ("センターはどこにある？", "where"),
    ("区づくり推進事業の担当はどこの課？", "who"), ("協働提案はどうやって進めるの", "how"), ("申請はどうすりゃええ", "how"),
    ("できたばかりの団体でも応募できる？", "can"), ("協働ってなに？", "what"), ("協働", None),
    ("協働の まちづくりって なんのことですか", "what"),  # spaced between words, as hiragana is typed
    ("こどもの居場所づくりの補助金", None), ("居場所づくりの場所はどこ？", "where"),  # 居場所 names an activity
    ("補助金もらえる？", "can"), ("条例にはどんなことが書いてあるのか、ざっくり教えてもらえますか？", "what"),  # asked politely
])
def test_the_kind_of_question_is_recognised(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("question, kind", [
    ("センターはどけぇあるん？", "where"), ("申し込みはどがぁしたらええん", "how"), ("なして協働が大事なん", "why"),
    ("申請書は手書きでもええん？", "can"),
])
def test_okayama_dialect_asks_the_same_kinds(kb, question, kind):
    assert kb.search(question).kind == kind


@pytest.mark.parametrize("question, entry_id", [
    # 「…に関する」 is how one writes formally, not a word naming 町内会等との協働に関する条例; 趣旨 asks the purpose
    ("恐れ入りますが、協働のまちづくりに関する条例の趣旨についてご教示いただけますでしょうか。", "faq-jorei-gaiyo"),
    ("協働のまちづくりに関する市の計画の期間について、お伺いしてもよろしいでしょうか。", "faq-plan-kikan"),
    ("町内会の活動に活用できる助成制度がございましたら、お教えいただけますと幸いです。", "faq-kuzukuri-gaiyo"),
    # a courtesy before the question (お手数ですが, お忙しいところ失礼いたします, 申し訳ありませんが) names no topic
    ("お手数ですが、協働推進計画の計画期間を教えていただけますでしょうか。", "faq-plan-kikan"),
    ("突然の質問で申し訳ありませんが、協働提案の流れを教えてください", "faq-teian-nagare"),
])
def test_formal_wording_is_answered_as_the_plain_question(kb, question, entry_id):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert not answer.declined and answer.entry_id == entry_id


def test_the_answer_leads_with_the_part_asked_for(kb):
    answer = kb.ask("区づくり推進事業はどの課が担当していて上限はいくら？", today=AFTER_ROUND)
    assert answer.kind == "how_much" and "万円" in answer.body.split("。")[0]


@pytest.mark.parametrize("question, entry_ids", [
    ("協働ってなに？", {"jorei-02-kyodo", "faq-kyodo-toha", "gen-kyodo-imi"}),
    ("協働の意味を教えて", {"jorei-02-kyodo", "faq-kyodo-toha", "gen-kyodo-imi"}),
    ("ボランティアを始めたい", {"gen-volunteer-start"}),
    ("NPOってなに", {"gen-npo-toha"}),
    ("企業として協働したい", {"faq-kigyo-kouken"}),  # a wish, not a question about 条例でいう「事業者」
    ("弊社として地域貢献活動を検討しておりますが、市との連携についてご相談させていただくことは可能でしょうか。",
     {"faq-kigyo-kouken"}),  # not the universities' 地域貢献・地域との連携
    ("きょうどう を しえんする ところ は どこ に ありますか", {"faq-center-basho"}),  # where, not 第8条
])
def test_general_questions_find_general_entries(kb, question, entry_ids):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert not answer.declined and answer.entry_id in entry_ids


@pytest.mark.parametrize("question", ["岡山市の人口は？", "岡山市の面積は？", "市役所の駐車場はどこ？", "投票所はどこ？",
                                      "ゴミの収集日を知りたい", "住民票がほしい", "公民館に駐車場はある？"])
def test_generic_words_outside_the_desk_are_declined_with_a_way_forward(kb, question):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert answer.declined and answer.route is not None
    assert "岡山市のホームページ、または市役所の担当課" in answer.text and "職員への相談" in answer.text
    assert answer.route.topic in answer.text


def test_a_routed_word_inside_a_real_question_is_still_answered(kb):
    answer = kb.ask("人口あたりのNPO法人数は政令市で何番目？", today=AFTER_ROUND)
    assert not answer.declined and "5番目" in answer.text


@pytest.mark.parametrize("question, expect_in_answer", [
    ("Where is the citizen collaboration center?", "086-803-1062"),
    ("How much is the subsidy for neighborhood associations?", "区づくり推進事業"),
    ("How can a foreign resident find volunteer opportunities?", "ボランティア"),
    ("What is the Okayama City ordinance on collaborative community building about?", "条例"),
    ('Why does Okayama City promote "kyodo"? I saw the word 協働 on a poster.', "行政だけ"),  # a Japanese word inside
    ("hojokin no shinsei shimekiri wa itsu desu ka?", "6月30日"),  # romaji
    ("chonaikai no hojokin wa ikura?", "250万円"),
    ("hojokin ni tsuite oshiete", "区づくり推進事業"), ("sentaa no denwa bangou wa?", "086-803-1062"),
    ("Which subsidy can my group use?", "市民協働推進事業"),  # prose words (use, fits, check) name no topic
    ("Our company wants to do 地域貢献, who should we talk to at 市役所?", "企業"),
    ("What kind of help does the civic collaboration center offer?", "センター"),
])
def test_an_english_question_with_known_words_gets_the_japanese_answer_saying_so(kb, question, expect_in_answer):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert not answer.declined and expect_in_answer in answer.text
    assert answer.text.startswith("(This desk answers in Japanese") and answer.body.startswith("(This desk")


@pytest.mark.parametrize("question, expect_in_answer", [
    ("I'm a foreign resident. 市民協働推進事業に応募できる団体の条件を教えてください。", "10人以上"),
    ("Where is the citizen collaboration center? 行き方を知りたいです。バスで行けますか", "本庁舎2階"),
])
def test_an_english_sentence_inside_a_japanese_question_is_read(kb, question, expect_in_answer):
    assert not in_english(question)  # read as Japanese, with its English sentence through the glossary
    answer = kb.ask(question, today=AFTER_ROUND)
    assert not answer.declined and expect_in_answer in answer.text


def test_english_words_the_glossary_lacks_do_not_turn_a_question_away(kb):
    answer = kb.ask("I just moved here and my Japanese is poor. Where is the citizen collaboration center?")
    assert not answer.declined and "本庁舎2階" in answer.text


@pytest.mark.parametrize("question, program, other", [
    ("市民協働推進事業の応募締め切りはいつですか", "市民協働推進事業", "区づくり推進事業"),
    ("市民協働推進事業 対象", "市民協働推進事業", "区づくり推進事業"),
    ("区づくりの補助金の対象は？", "区づくり推進事業", "市民協働推進事業"),
])
def test_a_question_naming_a_program_is_not_answered_from_another_programs_entry(kb, question, program, other):
    answer = kb.ask(question, today=AFTER_ROUND)
    top = kb.search(question).hits[0].entry
    assert program in top.title and other not in top.title
    assert answer.declined or program in answer.text


def test_confidence_is_a_probability_that_rises_with_coverage():
    base = calibration.Features(coverage=0.3, margin=0.2, kind_match=1, kind_miss=0, routed=0, strength=2.5,
                                defines=0, foreign=0)
    covered = calibration.Features(**{**base.__dict__, "coverage": 1.0})
    assert 0.0 < calibration.probability(base) < calibration.probability(covered) < 1.0


def test_the_fit_learns_which_feature_predicts_a_right_answer():
    rows = [(c / 10, 0.5) for c in range(11)] * 4
    weights, _ = calibration.fit(rows, [int(c >= 0.5) for c, _ in rows])
    assert weights[0] > 1.0 and abs(weights[1]) < weights[0]
    assert 0.3 <= calibration.choose_threshold([(c, c >= 0.5) for c, _ in rows]) <= 0.5


@pytest.mark.skipif(not DEV_QUESTIONS.exists(), reason="shared/eval not present")
def test_answers_above_the_threshold_are_reliable():
    out = run_cli("kb", "eval", str(DEV_QUESTIONS))
    reliability = float(re.search(r"reliability: ([\d.]+)%", out.stdout).group(1))
    assert reliability >= 95.0


def test_no_suggestion_only_repeats_the_answer_just_given(kb):
    """公民館の開館時間と休館日 is in the knowledge twice (places and faq); answering with one does not
    offer the other, while a neighbouring topic with a similar title stays."""
    answer = kb.ask("公民館の休館日はいつ？")
    assert answer.title in ("公民館の開館時間と休館日", "公民館の開館時間・休館日")
    assert not any("開館時間" in r.title for r in answer.related)
    rate = kb.ask("区づくり推進事業の地域活動部門の補助率は？")
    assert any("補助上限額" in r.title or "とは" in r.title for r in rate.related)


def test_a_decline_that_came_close_offers_its_best_entries_as_buttons(kb):
    from bot.replies import answer_replies

    answer = kb.ask("町内会長 相談先 どこ", today=AFTER_ROUND)
    assert answer.declined and answer.maybe and "かもしれません" in answer.text
    assert any("相談" in offered.title for offered in answer.maybe)
    assert len({offered.label for offered in answer.maybe}) == len(answer.maybe)
    (reply,) = answer_replies(answer)
    assert [c.data for c in reply.choices[:len(answer.maybe)]] == [f"a=show&e={m.id}" for m in answer.maybe]


@pytest.mark.parametrize("question", ["ごみの収集日は？", "今日の天気", "印鑑登録したい", "消費生活センタ 相談 電話",
                                      "中小企業向けの設備投資の補助金について相談したい", "敬老パスの申し込み方法",
                                      "図書館の開館時間は？", "小学校の学区を調べたい", "犬の鳴き声がうるさい",
                                      "市役所の窓口の対応がひどかったので、意見を伝えたいのですが、どうすればいいですか。"])
def test_a_question_outside_the_desk_offers_no_guesses(kb, question):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert answer.declined and not answer.maybe and "かもしれません" not in answer.text


@pytest.mark.parametrize("question", ["岡山市の現在の人口を教えてください。", "岡山市の最新の人口は？"])
def test_a_routed_topic_with_only_generic_words_besides_is_declined(kb, question):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert answer.declined and answer.route is not None


def test_the_held_out_report_pools_sets_whose_labels_are_kept_apart(tmp_path):
    files = []
    for n, (question, label) in enumerate([
        ("区づくり推進事業の地域活動部門の補助率は？", {"expect": [["2分の1"]], "entry": []}),
        ("粗大ごみの出し方を教えて", {"abstain": True}),
    ]):
        questions, labels = tmp_path / f"q{n}.jsonl", tmp_path / f"l{n}.jsonl"
        questions.write_text(json.dumps({"id": f"x{n}", "q": question}, ensure_ascii=False), encoding="utf-8")
        labels.write_text(json.dumps({"id": f"x{n}", **label}, ensure_ascii=False), encoding="utf-8")
        files += [str(questions), str(labels)]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "holdout_report.py"), *files],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "answerable 1: top-1 answered right 1 (100.0%)" in out.stdout
    assert "out of remit 1: declined 1" in out.stdout
    assert "reliability: 1 of 1 answers given are right" in out.stdout


@pytest.mark.parametrize("question, expect", [("うちの会社の社員がボランティアできる場所", "faq-kigyo-kouken"),
                                              ("企業のCRS活動について相談したい", "faq-kigyo-kouken"),
                                              ("企業の社会貢献について相談したい", "faq-kigyo-kouken"),
                                              ("企業として地域貢献活動をしたい。協働先の団体を紹介してもらえますか？", "faq-kigyo-kouken"),
                                              ("ボランティアを始めたい", "gen-volunteer-start")])
def test_a_company_asking_about_volunteering_gets_the_entry_written_for_companies(kb, question, expect):
    assert kb.search(question).hits[0].entry.id == expect


@pytest.mark.parametrize("question, expect_in_answer", [
    ("ESD・市民協働推進センターってどこにあるの？", "本庁舎2階"),  # the centre's own entry says where it is
    ("センターはどけぇあるん？", "本庁舎2階"),  # Okayama dialect: the asking word is not read as a topic
    ("うちの団体でボランティアを募集したいんですが", "団体検索サイトへの登録"),
    ("会社として地域の団体とつながりたい、どこに相談すればいい？", "つなぎ役"),
])
def test_a_neighbouring_entry_still_gives_what_was_asked(kb, question, expect_in_answer):
    assert expect_in_answer in kb.ask(question, today=AFTER_ROUND).body


def test_a_question_naming_a_program_and_an_audience_is_about_the_program(kb):
    top = kb.search("社会貢献活動をしてる企業を市が表彰する制度ってある？").hits[0].entry
    assert "表彰" in top.title or "賞" in top.title


@pytest.mark.parametrize("question", ["市民協働推進事業の補助金で人件費は対象になりますか。",
                                      "補助金って先にもらえるの？それとも後払い？",
                                      "コーディネーター養成講座の受講料はかかりますか？",
                                      "ぼらんてぃあ ほけん はいったほうがいい？", "協働推進計画の数値目標はどれくらい達成できてますか",
                                      "事業費は先にもらえますか？", "講座ってお金かかる？", "区づくりの補助って何年も続けて申請できますか",
                                      "採択後に事業の内容を変更したい場合は？", "審査の結果はいつわかりますか",
                                      "公民館の部屋を借りたい", "協働コーディネーター養成講座はいつありますか",
                                      "申請はオンラインでできますか", "補助金のお金はいつ入るんじゃろか",
                                      "補助金、2年続けてもらえたりする？", "協働提案って何回まで出せるん？",
                                      "ESDアワードの応募方法を教えてください。", "公民館の講座っていつやっとるん？",
                                      "きょうどうのまちずくり条例って何条まであるん",
                                      "補助金の申請書どこでもらえる？", "補助金もらうのに何がいるん",
                                      "補助金って具体的に何に使えるの？"])
def test_a_detail_the_sources_do_not_give_is_declined_as_such_with_where_to_ask(kb, question):
    answer = kb.ask(question)
    assert answer.declined and "この窓口の資料では確認できません" in answer.text
    assert answer.maybe  # what the desk does know about it, as buttons
    assert "この窓口ではお答えできません" not in answer.text


@pytest.mark.parametrize("question", ["NPO法人 設立", "えぬぴーおーをつくりたいのでそうだんしたいです"])
def test_a_route_is_found_whatever_the_spacing_and_spelling(kb, question):
    answer = kb.ask(question)
    assert answer.declined and "NPO法人の設立" in answer.text


@pytest.mark.parametrize("question, topic", [("かいごほけんのてつづき", "介護・福祉の手続き"),
                                             ("じゅうみんひょうとりたい", "住民票"), ("ぜいきんの はらいかた", "税金"),
                                             ("ほいくえんに いれたい", "保育園")])
def test_a_route_typed_in_hiragana_is_found_as_typed(kb, question, topic):
    answer = kb.ask(question)
    assert answer.declined and topic in answer.text and "この窓口ではお答えできません" in answer.text


def test_a_question_asking_details_the_sources_lack_besides_something_they_give_is_answered_with_a_note(kb):
    answer = kb.ask("地域で高齢者のサロンを続けてきました。市でリーダー養成の研修などはやっていますか。参加費や日程も教えてください。")
    assert not answer.declined and answer.partial and "リーダー養成" in answer.title
    assert "参加費・利用料などの費用、募集や開催の日程は、この窓口の資料では確認できません" in answer.body


def test_a_second_ask_leaning_on_an_outside_topic_is_not_answered_on_its_own(kb):
    answer = kb.ask("転入届はどこで出せばいいですか。必要なものも教えてください")
    assert answer.declined and "住民票・戸籍" in answer.text  # not 「なぜ協働が必要なのか」


def test_two_asks_in_one_sentence_are_answered_apart(kb):
    answer = kb.ask("任意団体でも市民協働推進事業の対象になるのか、また何年続けて補助を受けられるのか教えてください")
    assert not answer.declined and "応募できる団体" in answer.title
    assert "続けて補助を受けられるかは、この窓口の資料では確認できません" in answer.body


@pytest.mark.parametrize("question, note", [("リーダー養成の研修はありますか？参加費いくら？", "参加費"),
                                            ("センターはどこ？駐車場はある？", "駐車場")])
def test_a_short_second_question_is_a_question_of_its_own(kb, question, note):
    answer = kb.ask(question)
    assert not answer.declined and note in answer.body.split("なお、")[1]


@pytest.mark.parametrize("question, rest", [
    ("研修はありますか。参加費は？", "研修はありますか。"),
    ("補助金って先にもらえるの？それとも後払い？", None),  # one question with its alternative
    ("補助金は先にもらえるの？後払い？", None),
    ("補助金って先にもらえるん？後払いじゃと困るんじゃけど", None),  # the detail is told, not asked
    ("研修はありますか？参加費いくら？", "研修はありますか？"),  # a short question of its own
    ("人件費は対象ですか。", None),
])
def test_the_other_asks_of_a_question_are_those_not_naming_the_detail(question, rest):
    word = "参加費" if "参加費" in question else "後払い" if "後払い" in question else "人件費"
    parts = other_asks(question, word)
    assert (parts[0] if parts else None) == rest


@pytest.mark.parametrize("question, foreign", [("町内会の役やることになって大変じゃ。誰に相談したらええん？", False),
                                               ("夏祭りの費用が年々足りません。補助はありますか", False),
                                               ("図書館の本を返したい", True)])
def test_only_a_noun_naming_something_no_entry_speaks_of_is_a_foreign_topic(kb, question, foreign):
    assert kb.assess(question).result.foreign is foreign


def test_a_route_word_inside_one_of_its_exceptions_does_not_turn_the_question_away(kb):
    assert kb.ask("ゴミの収集日を知りたい").route.topic.startswith("ごみ")
    litter_picking = kb.ask("高校の部活でゴミ拾いのボランティアをしたいです")
    assert litter_picking.route is None and "ごみの出し方" not in litter_picking.text
    assert kb.ask("年金のことを聞きたいです").route.topic == "介護・福祉の手続き"
    assert kb.ask("ボランティアしたら年金減る？").route.topic == "介護・福祉の手続き"
    pensioner = kb.ask("年金暮らしで暇しとるけぇ、なんかボランティアでもしてみてぇんじゃけど、年寄りでもできるもんある？")
    assert pensioner.route is None and pensioner.entry_id == "gen-volunteer-start"


def test_a_polite_request_to_explain_is_answered_as_what_is_asked(kb):
    answer = kb.ask("町内会の研修で協働のまちづくり条例について説明することになりました。"
                    "条例にはどんなことが書いてあるのか、ざっくり教えてもらえますか？")
    assert not answer.declined and answer.entry_id == "faq-jorei-gaiyo"


@pytest.mark.parametrize("question", ["きょうどうの そうだんは でんわでも できますか",
                                      "相談したいことがあるんじゃけど、電話でもええんかな"])
def test_asked_whether_one_may_consult_by_phone_the_answer_says_so_with_the_number(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "お電話でも受け付けています" in answer.body and "086-803-1062" in answer.body


@pytest.mark.parametrize("question", ["それって個人でも申し込めますか？", "じゃあ、それって個人でも申し込めるってこと？",
                                      "それって高校生でも参加できる？"])
def test_a_question_about_something_said_before_asks_what_it_is_about(kb, question):
    answer = kb.ask(question)  # no earlier answer is kept: 「それ」 could be any program
    assert answer.declined and "「それ」が何を指すか" in answer.text and not answer.maybe
    assert not kb.ask("区づくり推進事業は個人でも申し込めますか？").text.startswith("何についてのご質問")
    assert kb.ask("それから、協働の条例っていつからあるんですか？").entry_id  # それから is a conjunction
    assert kb.ask("それはそうと、センターの電話番号は？").entry_id == "faq-center-denwa"  # a connective
    assert kb.ask("それは区づくり推進事業のことですか").entry_id  # names what it is about
    assert not kb.ask("これって何聞けばいいの？").text.startswith("何についてのご質問")  # これ: this chat


@pytest.mark.parametrize("question", ["ちょっと待って、コードどこに書いたかわからん", "確認コードをなくしました"])
def test_a_lost_check_code_is_answered_with_what_to_do(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "受付番号を添えて" in answer.body and "086-803-1062" in answer.body


@pytest.mark.parametrize("question", ["それって、ボランティアとはどう違うんですか？", "それって協働提案とどう違うの？",
                                      "じゃあ、これと市民協働推進事業の違いは？"])
def test_a_difference_from_something_said_before_asks_for_both_things(kb, question):
    answer = kb.ask(question)  # the desk keeps no earlier answer: 「それ」 is unknown, so nothing is described
    assert answer.declined and "比べたいものを両方" in answer.text and not answer.maybe
    assert not kb.ask("NPOとボランティア団体の違いは？").text.startswith("何と何の違い")


@pytest.mark.parametrize("question, entry", [("市民協働推進事業 締切", None), ("コーディネーター講座 日程", None),
                                             ("区づくり推進事業のしめきり", "faq-kuzukuri-shimekiri"),
                                             ("協働推進計画っていつまで？", "faq-plan-kikan")])
def test_a_when_question_is_answered_only_by_an_entry_giving_a_date(kb, question, entry):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert answer.entry_id == entry
    if entry is None:
        assert "募集や開催の日程は、この窓口の資料では確認できません" in answer.text


@pytest.mark.parametrize("question", ["コーディネーター養成講座って、どんくらいの期間通わにゃおえんの？",
                                      "リーダー養成講座は全部で何回ありますか"])
def test_how_long_a_course_runs_is_not_answered_by_what_the_course_is(kb, question):
    answer = kb.ask(question)  # the sources describe the courses, never their length
    assert answer.declined and "講座や事業の期間・回数は、この窓口の資料では確認できません" in answer.text
    assert answer.maybe  # the course itself is offered
    for not_a_course in ("センターまで通わないといけんの？電話じゃだめ？", "区づくり推進事業は何日間で審査されますか"):
        assert kb.ask(not_a_course).route is None


@pytest.mark.parametrize("question, place", [("センターの休館日はいつですか。", "センター"), ("開館時間", "センター"),
                                             ("公民館の休館日はいつですか。", "公民館"), ("こうみんかん 何時まで", "公民館")])
def test_opening_hours_are_the_centres_unless_the_question_names_a_kominkan(kb, question, place):
    assert place in kb.search(question, k=1).hits[0].entry.title


@pytest.mark.parametrize("question, article", [("協働推進委員会を置くって決めてるのは条例の何条", "第15条"),
                                               ("協働提案は条例の何条？", "第10条")])
def test_asked_which_article_the_answer_names_it(kb, question, article):
    answer = kb.ask(question, today=AFTER_ROUND)
    assert not answer.declined and article in answer.text


def test_zu_typed_for_du_is_read_as_du(kb):
    assert kb.ask("区ずくり推進事業の上限額は？").entry_id == "faq-kuzukuri-jogen"


@pytest.mark.parametrize("question", ["センターはいつまで開いてますか", "センターで備品を貸してもらえますか",
                                      "協働推進計画はどこでダウンロードできますか"])
def test_a_word_of_a_route_in_another_sense_is_not_declined_as_that_route(kb, question):
    answer = kb.ask(question)
    assert answer.route is None or answer.route.topic not in {"募集や開催の日程", "申請書類や様式の入手",
                                                               "補助の対象になる経費（人件費・謝礼など）の細かな決まり"}


@pytest.mark.parametrize("question", ["NPOとボランティア団体の違いは？", "NPOとボランティア団体って何がちがうの？",
                                      "協働提案と市民協働推進事業のちがいは？"])  # an entry on one of them only
def test_a_difference_no_entry_explains_is_offered_not_asserted(kb, question):
    answer = kb.ask(question)
    assert answer.declined and answer.maybe
    assert not kb.ask("協働ってボランティアと何がちがうの？").declined  # the entry defining 協働 says what it is
    assert "行政提案型" in kb.ask("NPO提案型と行政提案型の違いは？").body  # an entry comparing them


@pytest.mark.parametrize("question", ["しやくしょの まどぐち どこ", "相談窓口ってどこ？"])
def test_where_the_consultation_desk_is_is_answered_with_the_place(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "本庁舎2階" in answer.body


@pytest.mark.parametrize("question", ["補助金っていくらもらえるの？", "市民活動の補助金っていくらくらいもらえるの？",
                                      "補助金はいくらまで出ますか", "補助金いくら？", "補助金の上限は？",
                                      "補助金の上限額を教えて", "補助金なんぼもらえるん"])
def test_how_much_a_subsidy_gives_naming_no_program_is_answered_for_both_programs(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "区づくり推進事業" in answer.body and "市民協働推進事業" in answer.body
    assert "250万円" in answer.body and "200万円" in answer.body


def test_a_difference_asked_as_what_is_answered_by_the_entry_comparing_not_by_one_definition(kb):
    answer = kb.ask("区づくり推進事業と市民協働推進事業って何が違うん？どっちに出したらええんじゃろ")
    assert not answer.declined and "区づくり推進事業" in answer.body and "市民協働推進事業" in answer.body
    assert answer.title != "市民協働推進事業とは"


def test_a_question_with_a_part_outside_the_desk_is_answered_on_the_rest_with_a_note(kb):
    answer = kb.ask("センターはどこですか。駐車場はありますか。")
    assert not answer.declined and "本庁舎2階" in answer.body
    assert "駐車場については、この窓口ではお答えできません" in answer.body


@pytest.mark.parametrize("question", ["ゴミの分別がわからない。どこに聞けばいい？", "引っ越しました。住民票はどこで？"])
def test_a_question_all_outside_the_desk_stays_declined_whatever_else_it_asks(kb, question):
    assert kb.ask(question).declined


LONG_WHY = ("今年から町内会長を務めております。前任者から協働という言葉を覚えておくように言われましたが、これまでの町内会の"
            "活動と何が違うのかよく分かりません。市が協働を進めている理由を教えていただけませんでしょうか。")


def test_a_long_question_whose_background_misleads_is_answered_from_its_asking_sentence(kb):
    assert kb.search(LONG_WHY).hits[0].entry.id != "faq-naze-kyodo"  # the background leads the whole search astray
    answer = kb.ask(LONG_WHY)
    assert not answer.declined and answer.entry_id == "faq-naze-kyodo"


def test_the_evaluation_judges_the_entry_the_desk_answered_with(kb):
    from knowledge.evaluate import evaluate
    (case,) = evaluate(kb, [{"id": "x", "q": LONG_WHY, "expect": [["担い手不足"]]}], AFTER_ROUND).cases
    assert case.top1 and not case.abstained


def test_no_route_turns_away_a_question_an_entry_was_written_for(kb):
    turned_away = [(entry.id, phrasing) for entry in kb.entries for phrasing in entry.questions
                   if (assessed := kb.assess(phrasing)).route is not None and assessed.outside]
    assert turned_away == []


@pytest.mark.parametrize("question, expect", [
    ("区づくり推進事業で交通費の補助は出ますか", "区づくり推進事業"), ("まちづくり賞の投票はオンラインでできますか", "投票"),
    ("受付番号はいつもらえる？", "受付番号"), ("相談の返事はいつ来ますか", "受付番号"),
    ("まちづくり賞は毎年応募できますか", "まちづくり賞"),
    ("公民館の部屋は夜何時まで使える？", "21"),
    ("図書館で読み聞かせをしているグループです。市民協働推進事業に応募できますか", "市民協働推進事業"),
    ("体育館で開く防災イベントに協働ブースを出したい", "ブース"), ("隣人祭りを町内会で開きたい。使える補助金は？", "補助"),
    ("町内会の役員が足りなくて猫の手も借りたい。仲間を募る方法は？", "仲間"),
    ("町内会で苦情対応に困っています。地域の課題として話し合う場は？", "協議の場"),
    ("公民館のイベントに出展したい", "ブース"), ("自分の学区を調べたいのですが、学区の協働組織はありますか", "安全・安心ネットワーク"),
])
def test_a_route_word_in_a_question_the_sources_answer_does_not_turn_it_away(kb, question, expect):
    answer = kb.ask(question)
    assert not answer.declined and expect in answer.text


def test_the_unphrased_measure_drops_only_phrasings_close_to_a_fitted_question(tmp_path):
    import importlib.util

    import yaml

    from knowledge.base import load_knowledge

    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "bench" / "calibrate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    first, copied, kept = "協働ってそもそも何？", "「協働」の意味を簡単に教えてください", "きょうどうって共同とは違うの？"
    asked = tmp_path / "asked.jsonl"
    asked.write_text(json.dumps({"id": "x1", "q": copied + "！"}, ensure_ascii=False) + "\n"
                     + json.dumps({"id": "x2", "q": first}, ensure_ascii=False), encoding="utf-8")
    folder = bench.unphrased_copy([asked], 0.5, tmp_path)
    entry = next(e for e in yaml.safe_load((folder / "faq.yaml").read_text(encoding="utf-8")) if e["id"] == "faq-kyodo-toha")
    assert entry["questions"][0] == first and kept in entry["questions"] and copied not in entry["questions"]
    assert load_knowledge(folder).entry("faq-kyodo-toha").questions == tuple(entry["questions"])


@pytest.mark.parametrize("question", ["センターってぶっちゃけ何時まで開いてる？", "日曜日もセンターあいとる？", "センター 休館日",
                                      "せんたー って なんじまで あいてますか"])
def test_the_centres_hours_the_sources_do_not_give_are_declined_with_where_to_ask(kb, question):
    """The hours entry only says they are not confirmed: that is a decline (staff see the question),
    in the entry's words, with the centre's phone and other entries as buttons."""
    answer = kb.ask(question)
    assert answer.declined and answer.route is not None and answer.route.in_remit
    assert "086-803-1062" in answer.text and "確認できていません" in answer.text
    assert answer.maybe and "faq-center-jikan" not in [m.id for m in answer.maybe]



@pytest.mark.parametrize("question, cap", [("区づくりの上限は？", "250万円"), ("NPO提案型の上限は？", "200万円")])
def test_a_cap_asked_for_one_program_is_that_programs(kb, question, cap):
    answer = kb.ask(question)
    assert not answer.declined and cap in answer.body.split("。")[0] + answer.body


JOINING, FOUNDING = "町内会への加入の手続き", "NPO法人の設立や認定の手続き"


@pytest.mark.parametrize("question, topic", [
    ("町内会 入りたい", JOINING), ("ちょうないかい はいりかた", JOINING), ("町内会に入るにはどうすればいい？", JOINING),
    ("NPO 立ち上げ", FOUNDING), ("NPO立ち上げたいけど何から始めればいいかわからん", FOUNDING), ("NPOの設立相談はどこで？", FOUNDING),
])
def test_joining_an_association_or_founding_an_npo_is_declined_with_its_route(kb, question, topic):
    answer = kb.ask(question)
    assert answer.declined and answer.route is not None and answer.route.topic == topic


@pytest.mark.parametrize("question", [
    "としよりでも ぼらんてぃあ できますか？", "ボランティアしてみてぇんじゃけど、年寄りじゃおえんかのう？"])
def test_whether_anyone_may_volunteer_is_answered_with_what_the_ordinance_says(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "すべての人が協働の担い手" in answer.body and "つながる協働ひろば" in answer.body


@pytest.mark.parametrize("question", ["ボランティア 登録", "ボランテイアの登録てどうやるんですか", "volunteer登録したいです"])
def test_registering_as_a_volunteer_is_a_detail_the_sources_lack_with_how_to_start_as_a_button(kb, question):
    answer = kb.ask(question)
    assert answer.declined and answer.route is not None and answer.route.topic == "ボランティアとしての登録の方法"
    assert "gen-volunteer-start" in {m.id for m in answer.maybe}


def test_a_group_listing_itself_to_find_volunteers_is_not_a_volunteers_registration(kb):
    answer = kb.ask("団体でボランティアを募集したい。登録できる？")
    assert answer.route is None and not answer.declined


@pytest.mark.parametrize("question, topic", [
    ("住宅リフォームの補助金は？", "住まいや家庭の設備への補助（リフォーム・耐震・省エネ機器など）"),
    ("犬の避妊手術の助成金ある？", "ペットの手術や飼い方への助成"),
    ("定年になるのでNPOを立ち上げたい", FOUNDING), ("災害ボランティアに登録したい", "災害ボランティア"),
    ("役所の仕事は遅すぎる。税金泥棒。バカじゃないの", "市への意見や苦情"), ("うるせえ、ボケ", "市への意見や苦情"),
    ("先週センターに電話したのに全然折り返しがない。担当者の対応もひどかった。どうなってるんですか", "市への意見や苦情"),
])
def test_another_offices_topic_is_declined_with_its_route(kb, question, topic):
    answer = kb.ask(question)
    assert answer.declined and answer.route is not None and answer.route.topic == topic


@pytest.mark.parametrize("question", ["省エネの啓発活動をしているNPOです。市に協働提案できますか",
                                      "地域で耐震診断の講座を開きたい。協働でできる？"])
def test_a_groups_work_on_a_household_topic_is_not_sent_to_another_office(kb, question):
    assert kb.ask(question).route is None


def test_whether_a_subsidy_needs_membership_is_not_taken_for_joining(kb):
    answer = kb.ask("町内会入ってないと補助金もらえん？")
    assert answer.route is None or answer.route.topic != JOINING


@pytest.mark.parametrize("question", [
    "NPO立ち上げたばっかで会計がよくわからない…相談のってもらえる？",
    "NPOを立ち上げて三年目になりますが、会計や労務のことで困っています。運営の相談もセンターで受けてもらえますか？",
    "福祉系のNPOを立ち上げて2年になります。ボランティアが集まりません。人材募集の面でセンターに支援してもらえますか。",
])
def test_a_running_npos_question_is_not_taken_for_founding_one(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and answer.route is None


def test_support_after_founding_is_not_turned_away_as_founding(kb):
    answer = kb.ask("NPO法人設立後の運営について、どのような支援を受けられますか。")
    assert answer.route is None and "faq-npo-kiban" in {m.id for m in answer.maybe} | {answer.entry_id}


def test_an_article_named_with_the_ordinances_full_name_is_answered_from_that_article(kb):
    answer = kb.ask("協働のまちづくり条例の第10条ってなに")
    assert not answer.declined and answer.entry_id == "jorei-10"


def test_a_second_ask_ending_in_kana_is_a_part_the_desk_lacks_not_the_whole_question(kb):
    answer = kb.ask("センターはどこにあるん？駐車場もあるんかな")  # 「…かな」 asks, as 「…か？」 does
    assert not answer.declined and "本庁舎2階" in answer.body and "駐車場" in answer.text


def test_where_and_phone_asked_together_get_both(kb):
    answer = kb.ask("センターってどこにあるん？電話番号も教えて")
    assert not answer.declined and "本庁舎2階" in answer.body and "086-803-1062" in answer.body


@pytest.mark.parametrize("question", ["条例で市民の役割ってどう決まっとるん？", "条例って市民に何か義務あるの？"])
def test_what_the_articles_whose_text_is_missing_say_is_declined_in_the_entrys_words(kb, question):
    answer = kb.ask(question)
    assert answer.declined and answer.entry_id == "jorei-03-05" and "第3条から第5条" in answer.text


def test_which_articles_they_are_is_still_answered(kb):
    answer = kb.ask("市民の役割って条例の第何条？")
    assert not answer.declined and answer.entry_id == "jorei-03-05"


def test_an_unconfirmed_detail_offers_no_far_off_entries_as_buttons(kb):
    answer = kb.ask("土日もやっとる？")  # the centre's days are not confirmed; 区づくり's record is not near it
    assert answer.declined and answer.entry_id == "faq-center-jikan" and answer.maybe == ()
