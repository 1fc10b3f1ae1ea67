"""助成金ナビ on the engine alone, with a controllable clock: who, what, how wide, when → the programs
that fit (rate, cap, eligibility, whether a round is open that day), each with its entry and 相談する."""
from datetime import datetime
from pathlib import Path

import pytest

from bot.intents import Intent, detect
from bot.messages import Postback
from bot.postbacks import Action, encode
from bot.state import Mode
from knowledge.base import DEFAULT_FOLDER
from knowledge.entries import load_entries
from knowledge.grants import GRANTS_FILE
from tests.support.chat import JST, EngineChat, reply_text

BEFORE_DEADLINE = datetime(2026, 6, 10, 10, 0, tzinfo=JST)
AFTER_DEADLINE = datetime(2026, 7, 1, 10, 0, tzinfo=JST)


def navi(kb, now: datetime, *answers: str) -> EngineChat:
    chat = EngineChat(kb, now=now)
    chat.say("どの補助金が使える？")
    for label in answers:
        chat.tap(label)
    return chat


def program_cards(chat: EngineChat) -> dict[str, dict[str, str]]:
    return {r.title: dict(r.fields) for r in chat.replies if getattr(r, "fields", ())}


def test_a_chonaikai_planning_a_disaster_drill_gets_kuzukuri_open_before_the_deadline(kb):
    chat = navi(kb, BEFORE_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "すぐ")
    cards = program_cards(chat)
    assert list(cards) == ["区づくり推進事業「地域活動部門」"]
    assert reply_text(chat.replies).startswith("「町内会・自治会」「防災訓練など地域の課題への取組」「地域・学区」")
    card = cards["区づくり推進事業「地域活動部門」"]
    assert "2分の1" in card["補助率"] and "250万円" in card["上限"] and "町内会" in card["対象"]
    assert card["募集"].startswith("受付中") and "2026年6月30日までです" in card["募集"]
    assert {"詳しく見る", "職員に相談する", "相談する"} <= set(chat.labels)
    assert chat.state.mode is Mode.IDLE
    [footer] = [r.footer for r in chat.replies if getattr(r, "fields", ())]
    assert footer.startswith("出典: 区づくり推進事業「地域活動部門」の市の案内") and "時点" in footer


@pytest.mark.parametrize("button", ["相談する", "職員に相談する"])
def test_consulting_after_the_finder_keeps_who_is_asking_and_the_conditions(kb, button):
    chat = navi(kb, BEFORE_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "すぐ")
    out = chat.tap(button)
    assert "個人情報の取り扱い" in out
    out = chat.tap("同意する")
    assert "どなたからのご相談" not in out and "お名前、または団体名" in out  # 町内会・自治会 was said already
    answers = chat.state.draft.answers
    assert answers["applicant_type"] == "町内会・自治会" and answers["asked"].startswith("助成金ナビ: 「町内会・自治会」")


def test_the_same_round_is_closed_the_day_after_its_deadline(kb):
    chat = navi(kb, AFTER_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "すぐ")
    card = program_cards(chat)["区づくり推進事業「地域活動部門」"]
    assert "受付中" not in card["募集"] and "2026年6月30日で終了しました" in card["募集"]
    assert "いま受付中と確認できる募集回はありません" in reply_text(chat.replies)
    this_year = navi(kb, AFTER_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "今年度中")
    assert "次の募集時期は相談でお尋ねください" in reply_text(this_year.replies)
    next_year = navi(kb, AFTER_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組", "地域・学区", "来年度")
    assert "いま受付中" not in reply_text(next_year.replies)


def test_an_npo_wanting_to_work_with_a_city_department_gets_shimin_kyodo(kb):
    chat = navi(kb, BEFORE_DEADLINE, "NPO・市民活動団体", "市の課と一緒に取り組む（協働提案）", "市全体", "来年度")
    cards = program_cards(chat)
    assert set(cards) == {"市民協働推進事業（NPO提案型）", "市民協働推進事業（行政提案型）"}
    npo = cards["市民協働推進事業（NPO提案型）"]
    assert "5分の4" in npo["補助率"] and "200万円" in npo["上限"] and "担当課" in npo["対象"]
    assert "受付中" not in npo["募集"] and "確認できていません" in npo["募集"]  # no dated round in the sources
    chat.tap("詳しく見る")
    assert "NPO提案型" in reply_text(chat.replies)


def test_no_fitting_program_says_so_and_offers_a_person(kb):
    chat = navi(kb, BEFORE_DEADLINE, "個人・その他", "市の課と一緒に取り組む（協働提案）", "区", "今年度中")
    assert "見つかりませんでした" in reply_text(chat.replies)
    assert {"相談する", "条件を変える"} <= set(chat.labels)


def test_the_menu_button_starts_it_and_answers_may_be_typed(kb):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    chat.say("メニュー")
    assert "（1/4）どなたが申し込む予定ですか？" in chat.tap("補助金をさがす")
    assert "（2/4）" in chat.say("町内会かな")  # a musing answer, not a question leaving the navi
    assert "（3/4）" in chat.say("防災訓練")
    assert chat.state.mode is Mode.GRANTS
    chat.say("センターの場所はどこ？")  # not an option: an ordinary question, and the navi is left
    assert chat.state.mode is Mode.IDLE and "（4/4）" not in reply_text(chat.replies)


def test_back_goes_one_question_back_keeping_the_answers_before_it(kb):
    chat = navi(kb, BEFORE_DEADLINE, "町内会・自治会", "防災訓練など地域の課題への取組")
    assert "（3/4）" in reply_text(chat.replies) and "戻る" in chat.labels
    assert "（2/4）" in chat.tap("戻る")
    assert "（3/4）" in chat.tap("地域のニーズ調査・ワークショップ")  # 町内会・自治会 is still the answer
    assert chat.state.grant_path.startswith("chonaikai/")
    chat.tap("戻る")
    assert "（1/4）" in chat.tap("戻る") and "戻る" not in chat.labels  # nothing before the first question


def test_typed_words_no_option_names_ask_the_same_step_again(kb):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    chat.say("どの補助金が使える？")
    assert "（2/4）" in chat.say("町内会")
    assert "（3/4）" in chat.say("防災訓練をしたい")  # the words of an option's label, not all of it
    text = chat.say("うーん、まだ決めてない")
    assert "どの選択肢にあたるか分かりませんでした" in text and "（3/4）活動の範囲" in text
    assert chat.state.mode is Mode.GRANTS and "地域・学区" in chat.labels
    assert "（3/4）" in chat.say("お祭りをしたい")  # a statement, not a question: the step is asked again
    assert chat.state.mode is Mode.GRANTS
    assert "（3/4）" not in chat.say("協働提案とは何ですか？")  # a question the desk answers leaves the finder
    assert chat.state.mode is Mode.IDLE and "第10条" in reply_text(chat.replies)


@pytest.mark.parametrize("typed", ["補助金の締め切りを知りたいので090-8765-4321に折り返しください",
                                   "hojokin ni tsuite oshiete", "駐車場はありますか？"])
def test_a_question_even_one_the_desk_declines_leaves_the_finder(kb, typed):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    chat.say("どの補助金が使える？")
    out = chat.say(typed)
    assert "どの選択肢にあたるか" not in out and chat.state.mode is Mode.IDLE
    chat.say("どの補助金が使える？")
    assert "（2/4）" in chat.say("npo")  # an option's words typed alone, though they read as English


def test_typed_words_shared_by_two_options_pick_neither(kb):
    step = kb.grants.steps[1]
    assert step.option_in("ニーズ調査をしたい").id == "survey"  # a word of 地域のニーズ調査・ワークショップ
    assert step.option_in("地域の調査をしたい") is None  # 地域 is in two labels: asked again
    assert kb.grants.steps[0].option_in("自治会です").id == "chonaikai"  # 町内会・自治会 is two words


def test_an_option_typed_in_kana_is_read_as_it_sounds(kb):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    chat.say("メニュー")
    chat.tap("補助金をさがす")
    assert "（2/4）" in chat.say("ちょうないかい")
    assert "（3/4）" in chat.say("ぼうさいくんれん")
    assert chat.state.grant_path.startswith("chonaikai/")
    assert kb.grants.steps[1].option_in("ちいき") is None  # heard in two options: asked again


def test_a_subsidy_question_the_desk_cannot_answer_offers_the_finder(kb):
    chat = EngineChat(kb)
    out = chat.say("公園の花壇づくりに使える補助金ありますか？小さいグループです")
    assert "はっきりとはお答えできません" in out and "補助金をさがす" in chat.labels
    assert "（1/4）どなたが申し込む予定ですか？" in chat.tap("補助金をさがす")
    chat = EngineChat(kb)
    assert "区づくり推進事業" in chat.say("補助金")  # answered: the finder still one tap away
    assert "補助金をさがす" in chat.labels
    chat = EngineChat(kb)
    chat.say("公民館の休館日は？")
    assert "補助金をさがす" not in chat.labels  # only where subsidies are asked about
    chat = EngineChat(kb)
    assert "住まいや家庭の設備への補助" in chat.say("住宅リフォームの補助金はありますか")  # where it goes instead
    assert "補助金をさがす" not in chat.labels  # a subsidy outside the desk: the finder has none


@pytest.mark.parametrize("question", ["防犯カメラの補助金ある？", "空き家を地域の居場所にしたい。補助金ありますか"])
def test_a_subsidy_question_with_nothing_near_still_has_the_finder_as_a_way_on(kb, question):
    chat = EngineChat(kb)
    chat.say(question)
    assert "補助金をさがす" in chat.labels and "職員に相談する" in chat.labels


def test_a_damaged_button_starts_the_questions_again(kb):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    text = chat.send(Postback(encode(Action.GRANTS, value="chonaikai/unknown")))
    assert "以前のやり取り" in text and "（1/4）" in text


def test_navi_in_the_middle_of_a_form_leaves_the_form_where_it_was(kb):
    chat = EngineChat(kb, now=BEFORE_DEADLINE)
    chat.say("相談したい")
    chat.tap("同意する")
    question = reply_text(chat.replies).splitlines()[-1]
    assert "（1/4）" in chat.send(Postback(encode(Action.GRANTS))) and chat.state.mode is Mode.FORM
    text = chat.tap("町内会・自治会")
    assert "（2/4）" in text and question in text


def test_the_phrase_is_an_intent_but_questions_about_the_site_are_not():
    assert detect("どの補助金が使える？") is Intent.GRANTS
    assert detect("補助金をさがす") is Intent.GRANTS
    assert detect("助成金ナビってある？") is not Intent.GRANTS  # the site's 助成金ナビ is a knowledge entry
    for wish in ("うちらみたいな小さいグループに合う補助金、どれがええか選んでもらえるん？",
                 "それなら、どの補助金が合うか一緒に調べてもらえますか？", "補助金がいろいろあるけど、どれがいいの？",
                 "Which grant fits a small exchange group? Can you help me choose?",
                 "Is there a tool that shows which subsidy fits my group??", "What grants can we apply for?",
                 "どの ほじょきんが あうか しらべて もらえますか", "ほじょきん さがしたい"):
        assert detect(wish) is Intent.GRANTS, wish
    for question in ("補助金の上限はいくら？", "区づくりの補助金は何に使える？", "補助金の申請書はどこ？", "How much is the grant?",
                     "使える補助金を調べたら区づくり推進事業が出てきたけど、締切はいつ？", "補助金はどれがいいか、締め切りはいつまで？",
                     "あった補助金の選考基準", "What grant deadline is next?", "What funding does the centre get from the city?"):
        assert detect(question) is not Intent.GRANTS, question


def test_lint_names_unknown_options_entries_and_sources(tmp_path: Path):
    for source in Path(DEFAULT_FOLDER).glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    grants = (tmp_path / GRANTS_FILE).read_text(encoding="utf-8")
    broken = (grants.replace("who: [chonaikai, npo]", "who: [chonaikai, club]", 1)
              .replace("entry: prog-kuzukuri\n", "entry: prog-nowhere\n", 1)
              .replace("cites: [kuzukuri, kuzukuri-rounds]", "cites: [kuzukuri, leaflet]", 1))
    (tmp_path / GRANTS_FILE).write_text(broken, encoding="utf-8")
    problems = [p.message for p in load_entries(tmp_path).problems]
    assert any("'club' is not an option" in p for p in problems)
    assert any("entry prog-nowhere does not exist" in p for p in problems)
    assert any("unknown source id leaflet" in p for p in problems)
