"""The intake conversations, driven on the engine directly (no server, no database)."""
from datetime import datetime, timedelta

import pytest

from bot import validators
from bot.engine import CaseView
from bot.forms import SKIPPED
from bot.intents import Intent, detect
from bot.messages import Follow, Media, NoteQuestion, Postback, SetContactActive, SubmitCase, Unfollow
from tests.support.chat import JST, EngineChat, ListedCases

CONSULTATION_HAPPY = [
    ("say", "協働の相談がしたいです", "個人情報の取り扱い"),
    ("tap", "同意する", "どなたからのご相談"),
    ("tap", "町内会・自治会", "団体名"),
    ("say", "岡山東町内会", "ご相談の内容"),
    ("say", "子ども食堂を始めたいので、協力してくれるNPOを探しています。", "地域"),
    ("say", "中区 旭東学区", "連絡方法"),
    ("tap", "電話", "連絡先"),
    ("say", "０８６ー１２３ー４５６７", "連絡しやすい"),
    ("say", "平日の午前", "内容確認"),
]

PROPOSAL_HAPPY = [
    ("say", "市に提案したいことがあります", "個人情報の取り扱い"),
    ("say", "同意します", "どなたからのご提案"),
    ("say", "NPOです", "団体名"),
    ("say", "NPO法人ももたろう", "代表者"),
    ("say", "岡山太郎", "連絡担当者"),
    ("say", "同じ", "電話番号"),
    ("say", "090-1234-5678", "メールアドレス"),
    ("say", "info＠momotaro.example.jp", "提案の名前"),
    ("say", "空き家を使った多世代の居場所づくり", "地域の課題"),
    ("say", "高齢者の孤立と子どもの居場所不足", "提案の内容"),
    ("say", "空き家を改修し、週3回の交流の場を開く", "担うこと"),
    ("say", "運営とボランティア集め", "市に期待すること"),
    ("say", "空き家所有者との調整と広報", "期待される効果"),
    ("say", "孤立の予防と見守り", "部署"),
    ("say", "わからない", "実施したい時期"),
    ("say", "2027年4月から1年間", "予算"),
    ("say", "特になし", "内容確認"),
]


def run_script(chat: EngineChat, script) -> str:
    out = ""
    for action, value, expected in script:
        out = chat.say(value) if action == "say" else chat.tap(value)
        assert expected in out, f"after {action} {value!r}: {out}"
    return out


@pytest.mark.parametrize("typed, chosen", [("ちょうないかいです", "町内会・自治会"), ("こじん", "個人"),
                                           ("えぬぴーおー", "NPO・市民活動団体")])
def test_a_choice_typed_in_kana_is_taken_as_it_sounds(kb, typed, chosen):
    chat = EngineChat(kb)
    chat.say("相談したい")
    chat.say("同意します")
    out = chat.say(typed)
    assert "下のボタンから選んでください" not in out and chat.state.draft.answers["applicant_type"] == chosen


@pytest.mark.parametrize("start, consent", [("相談したい", "同意します"), ("提案したい", "同意します")])
def test_a_person_on_their_own_is_asked_their_name_not_a_groups(kb, start, consent):
    chat = EngineChat(kb)
    chat.say(start)
    chat.say(consent)
    out = chat.tap("個人")
    assert "お名前を教えてください。" in out and "団体名" not in out


def test_consultation_happy_path_submits_every_answer(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    out = chat.tap("送信する")
    assert "受付番号は {reference} です" in out
    [effect] = chat.effects
    assert isinstance(effect, SubmitCase) and effect.kind == "consultation"
    assert dict(effect.answers) == {
        "applicant_type": "町内会・自治会", "name": "岡山東町内会",
        "content": "子ども食堂を始めたいので、協力してくれるNPOを探しています。", "area": "中区 旭東学区",
        "contact_method": "電話", "contact": "086-123-4567", "preferred_time": "平日の午前",
    }
    assert chat.state.mode == "idle" and chat.state.draft is None


def test_proposal_happy_path_collects_all_fields_and_skips_optional_budget(kb):
    chat = EngineChat(kb)
    summary = run_script(chat, PROPOSAL_HAPPY)
    assert "メール: info@momotaro.example.jp" in summary and "役割分担" not in summary
    assert "受付番号" in chat.say("送信")
    answers = dict(chat.effects[0].answers)
    assert chat.effects[0].kind == "proposal"
    assert answers["email"] == "info@momotaro.example.jp"
    assert answers["department"] == "わからない" and answers["budget"] == "特になし"  # shown back as typed
    assert answers["contact_person"] == "岡山太郎（代表者と同じ）"  # staff see a name, not 「同じ」
    assert len(answers) == 15


def test_line_contact_needs_no_phone_or_email(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:6])
    out = chat.tap("LINE")
    assert "連絡しやすい" in out
    assert "contact" not in chat.state.draft.answers


@pytest.mark.parametrize("field_script, bad, reason, good, stored", [
    (CONSULTATION_HAPPY[:7], "電話です", "数字とハイフン", "086-803-1062", "086-803-1062"),
    (CONSULTATION_HAPPY[:7], "12345", "「0」から始まる", "０９０－１２３４－５６７８", "090-1234-5678"),
    (CONSULTATION_HAPPY[:7], "086-123-45", "10桁か11桁で入力してください（いま8桁", "086-123-4567", "086-123-4567"),
    (CONSULTATION_HAPPY[:7], "0901234", "いま7桁", "09012345678", "090-1234-5678"),  # a mobile, as it is read out
    (CONSULTATION_HAPPY[:7], "0801234", "いま7桁", "08001234567", "08001234567"),  # toll-free 0800: not a mobile
    (CONSULTATION_HAPPY[:7], "0901234", "いま7桁", "0868031062", "0868031062"),  # a land line's area code varies
    (CONSULTATION_HAPPY[:7], "電話は090-1111です", "数字とハイフン", "電話は０９０－１１１１－２２２２です", "090-1111-2222"),
    (CONSULTATION_HAPPY[:7], "abc-def-ghij", "数字とハイフン", "086 803 1062", "086-803-1062"),
    (CONSULTATION_HAPPY[:6] + [("tap", "メール", "連絡先")], "taro.example.jp", "「@」", "Taro＠Example.JP", "Taro@example.jp"),
    (CONSULTATION_HAPPY[:6] + [("tap", "メール", "メールアドレス")], "taro@", "@の後ろ（ドメイン）が入力されていません",
     " taro @ example.jp ", "taro@example.jp"),
    (CONSULTATION_HAPPY[:6] + [("tap", "メール", "メールアドレス")], "@example.jp", "@の前", "a@example.jp", "a@example.jp"),
    (CONSULTATION_HAPPY[:6] + [("tap", "メール", "メールアドレス")], "taro@example", "「.」", "taro@example.jp",
     "taro@example.jp"),
    (CONSULTATION_HAPPY[:6] + [("tap", "メール", "メールアドレス")], "たろう@example.jp", "使えない文字", "taro@example.jp",
     "taro@example.jp"),
    (CONSULTATION_HAPPY[:3], "", "入力してください", "お名前", "お名前"),
    (CONSULTATION_HAPPY[:3], "https://example.com/", "URL", "山田花子", "山田花子"),
    (CONSULTATION_HAPPY[:4], "あ" * 2001, "2000文字以内", "あ" * 2000, "あ" * 2000),
    (CONSULTATION_HAPPY[:2], "宇宙人", "ボタンから選んで", "学校です", "学校・大学"),
])
def test_validators_say_why_and_accept_what_people_type(kb, field_script, bad, reason, good, stored):
    chat = EngineChat(kb)
    run_script(chat, field_script)
    asking = chat.state.draft.asking
    assert reason in chat.say(bad)
    assert chat.state.draft.asking == asking and asking not in chat.state.draft.answers
    chat.say(good)
    assert chat.state.draft.answers[asking] == stored


def test_optional_fields_accept_none_words_and_the_skip_button(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:5])
    chat.say("特になし")
    assert chat.state.draft.answers["area"] == "特になし"
    chat.tap("LINE")
    chat.tap("スキップ")
    assert chat.state.draft.answers["preferred_time"] == SKIPPED
    assert chat.state.mode == "confirm"


def test_an_empty_message_while_choosing_a_field_to_edit_edits_nothing(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    chat.tap("修正する")
    assert "どの項目" in chat.say("   ") and chat.state.mode == "pick_edit"


def test_edit_one_field_from_the_summary_and_only_that_one(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    assert "どの項目" in chat.tap("修正する")
    out = chat.tap("お名前または団体名")
    assert "いまの回答: 岡山東町内会" in out
    out = chat.say("岡山西町内会")
    assert "内容確認" in out and "岡山西町内会" in out
    assert chat.state.draft.answers["content"].startswith("子ども食堂")


@pytest.mark.parametrize("back", [lambda chat: chat.tap("確認に戻る"), lambda chat: chat.say("戻る")])
def test_leaving_an_edit_keeps_the_answer_and_returns_to_the_summary(kb, back):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    chat.tap("修正する")
    out = chat.tap("相談内容")
    assert "いまの回答: 子ども食堂" in out and "確認に戻る" in chat.labels and "戻る" not in chat.labels
    before = dict(chat.state.draft.answers)
    out = back(chat)
    assert "内容確認" in out and chat.state.mode == "confirm"
    assert chat.state.draft.answers == before  # not the last question asked again, nothing dropped


def test_fields_beyond_the_buttons_are_named_and_can_be_typed(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY)
    out = chat.tap("修正する")
    assert "ボタンにない項目（" in out and "概算予算" in out and "概算予算" not in chat.labels
    assert "いまの回答" in chat.say("概算予算")


def test_editing_the_contact_method_asks_the_matching_contact_again(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    chat.tap("修正する")
    chat.tap("希望する連絡方法")
    out = chat.tap("メール")
    assert "「希望する連絡方法」が変わったので、「連絡先」ももう一度お聞きします。" in out
    assert "「@」" in chat.say("086-123-4567")
    assert "内容確認" in chat.say("kyodo@example.jp")
    assert chat.state.draft.answers["contact"] == "kyodo@example.jp"


def test_back_returns_to_the_previous_question_showing_its_answer(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    out = chat.say("戻る")
    assert "団体名" in out and "いまの回答: 岡山東町内会" in out
    assert "ご相談の内容" in chat.say("岡山南町内会")
    assert chat.state.draft.answers["name"] == "岡山南町内会"


def test_cancel_asks_once_then_discards_and_continuing_keeps_everything(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:5])
    assert "破棄して、やめますか" in chat.say("やめる")
    out = chat.tap("続ける")
    assert "地域" in out and chat.state.draft.answers["name"] == "岡山東町内会"
    chat.say("キャンセル")
    assert "破棄しました" in chat.tap("やめる")
    assert chat.state.draft is None and chat.effects == []


def test_a_long_answer_that_mentions_quitting_is_an_answer_not_a_cancel(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    chat.say("町内会をやめたい人が増えていて、役員のなり手もいなくて困っています")
    assert chat.state.draft.answers["content"].startswith("町内会をやめたい")


def test_a_question_mid_form_is_answered_and_the_question_asked_again(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:7])
    out = chat.say("区づくり推進事業の補助率は？")
    assert "2分の1" in out and "連絡先" in out
    assert chat.state.draft.failures == 0 and "contact" not in chat.state.draft.answers


def test_a_question_typed_where_a_name_is_asked_is_answered_and_can_still_become_the_name(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    out = chat.say("協働提案制度ってどんなもの？")
    assert "提案" in out and "お名前、または団体名" in out and "name" not in chat.state.draft.answers
    chat.tap("今の文を回答にする")
    assert chat.state.draft.answers["name"] == "協働提案制度ってどんなもの？"


@pytest.mark.parametrize("content", [
    "協働提案制度ってどんなもの？",
    "今年の秋に町内会で防災訓練をやりたいんじゃけど、区づくり推進事業の補助が使えるか、来年度の募集がいつごろか教えてほしいです。",
])
def test_a_consultation_put_as_a_question_is_the_consultation_not_a_question_to_the_desk(kb, content):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    assert "地域" in chat.say(content) and chat.state.draft.answers["content"] == content


def test_a_question_the_desk_cannot_answer_is_not_taken_as_a_name_unless_the_person_says_so(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    out = chat.say("団体名がまだないけど？")
    assert "お名前、または団体名" in out and "name" not in chat.state.draft.answers
    assert "今の文を回答にする" in chat.labels
    assert "ご相談の内容" in chat.say("岡山東町内会（準備中）")
    assert chat.state.draft.answers["name"] == "岡山東町内会（準備中）"


@pytest.mark.parametrize("name", ["田中いつき", "何 志明", "誰でも食堂の会"])
def test_a_name_with_a_question_word_in_it_is_taken_as_the_name(kb, name):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    assert "ご相談の内容" in chat.say(name) and chat.state.draft.answers["name"] == name


def test_only_names_hold_a_question_aside_and_the_same_text_typed_again_is_the_name(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:8])
    chat.say("平日ならいつでも大丈夫ですか？")  # 連絡しやすい日時 is not a name: taken as typed
    assert chat.state.draft.answers["preferred_time"] == "平日ならいつでも大丈夫ですか？"
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    chat.say("団体名がまだないけど？")
    assert "ご相談の内容" in chat.say("団体名がまだないけど？")
    assert chat.state.draft.answers["name"] == "団体名がまだないけど？"


def test_going_back_leaves_a_question_held_at_the_later_field_behind(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:5])
    chat.say("連絡担当者って誰のことですか？")
    assert "今の文を回答にする" in chat.labels
    assert "代表者" in chat.tap("戻る") and "今の文を回答にする" not in chat.labels


def test_a_question_whose_topic_has_a_route_keeps_the_routes_answer_in_a_form(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:5])
    out = chat.say("協働提案はいつまでに出せばいいですか？")
    assert "この窓口の資料では確認できません" in out and "連絡担当者" in out
    assert "お答えできる情報は見つかりませんでした" not in out and "今の文を回答にする" in chat.labels


def test_a_question_kept_aside_becomes_the_name_when_the_person_taps_for_it(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    chat.say("まちづくり研究会どうですか？")
    out = chat.tap("今の文を回答にする")
    assert "ご相談の内容" in out and "「まちづくり研究会どうですか？」を「お名前または団体名」として受け付けました" in out
    assert chat.state.draft.answers["name"] == "まちづくり研究会どうですか？"


def test_three_failed_tries_offer_skip_or_a_person(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:7])
    chat.say("わかんない")
    chat.say("電話はちょっと")
    out = chat.say("ない")
    assert "うまく受け付けられませんでした" in out
    assert {"飛ばす", "職員と話したい"} <= set(chat.labels)
    chat.tap("飛ばす")
    assert chat.state.draft.answers["contact"] == SKIPPED


def test_declining_consent_collects_nothing_and_still_answers_questions(kb):
    chat = EngineChat(kb)
    chat.say("相談したい")
    assert "個人情報はお預かりしていません" in chat.tap("同意しない")
    assert chat.state.draft is None and chat.state.mode == "idle"
    assert "2分の1" in chat.say("区づくり推進事業の補助率は？")


@pytest.mark.parametrize("typed, asked", [("yes I agree", "（1/7）"), ("I don't agree", "個人情報はお預かりしていません")])
def test_consent_may_be_given_or_refused_in_english(kb, typed, asked):
    chat = EngineChat(kb)
    chat.say("相談したい")
    assert asked in chat.say(typed)


def test_words_at_the_consent_that_are_neither_yes_nor_no_get_its_buttons_not_the_whole_notice_again(kb):
    chat = EngineChat(kb)
    chat.say("相談したい")
    out = chat.say("personal")
    assert "「同意する」か「同意しない」を押してください" in out and "I agree" in out
    assert "保存期間" not in out and chat.labels == ["同意する", "同意しない"]
    assert "I agree" not in chat.say("うーん")  # the English line only for English
    assert "（1/7）" in chat.tap("同意する")


def test_draft_idle_too_long_expires_with_a_notice(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    chat.now += timedelta(days=7, minutes=1)
    out = chat.say("子ども食堂の相談です")
    assert "7日間操作がなかったため破棄しました" in out
    assert chat.state.draft is None


def test_draft_a_few_days_old_is_still_there(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    chat.now += timedelta(days=6)
    chat.say("子ども食堂の相談です")
    assert chat.state.draft.answers["content"] == "子ども食堂の相談です"


@pytest.mark.parametrize("odd", [
    Media("sticker"), Media("image"), Postback("a=choose&t=oldtoken&f=applicant_type&i=0"),
    Postback("garbage"), Postback(""),
])
def test_odd_events_mid_form_leave_the_draft_intact(kb, odd):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:4])
    before = dict(chat.state.draft.answers)
    out = chat.send(odd)
    assert "ご相談の内容" in out
    assert chat.state.draft.answers == before and chat.state.draft.asking == "content"


@pytest.mark.parametrize("odd, reason", [("", "入力してください"), ("   ", "入力してください"),
                                         ("https://example.com/a?b=c", "URL だけでは")])
def test_odd_text_mid_form_gets_a_reason_and_keeps_the_draft(kb, odd, reason):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    before = dict(chat.state.draft.answers)
    out = chat.say(odd)
    assert reason in out and "団体名" in out
    assert chat.state.draft.answers == before and chat.state.draft.asking == "name"


def test_emoji_is_a_name_like_any_other_text_and_a_superscript_index_is_a_stale_button(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:3])
    chat.say("😀😀😀")
    assert chat.state.draft.answers["name"] == "😀😀😀"
    chat.say("戻る")
    chat.say("戻る")  # back at the applicant type, which has buttons
    out = chat.send(Postback(chat.choice("個人").data.replace("i=0", "i=²")))
    assert "以前のやり取り" in out and chat.state.draft.asking == "applicant_type"


def test_a_button_of_a_finished_form_does_nothing_to_a_new_one(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY)
    old_submit = chat.choice("送信する")
    chat.tap("送信する")
    run_script(chat, CONSULTATION_HAPPY[:3])
    out = chat.send(Postback(old_submit.data))
    assert "以前のやり取り" in out and chat.effects == []
    assert chat.state.draft.asking == "name"


def test_status_lists_only_the_persons_own_cases_and_asks_a_code_for_any_other(kb):
    mine = [CaseView("S-2026-0003", "consultation", "対応中", datetime(2026, 11, 20, tzinfo=JST))]
    other = CaseView("S-2026-0001", "consultation", "協議中", datetime(2026, 11, 21, tzinfo=JST))
    chat = EngineChat(kb, cases=ListedCases(mine, {("S-2026-0001", "K7P2QX"): other}))
    out = chat.say("状況を教えて")
    assert "S-2026-0003" in out and "対応中" in out
    assert "対応中" in chat.say("S-2026-0003 はどうなってますか")
    asked_other = chat.say("S-2026-0001 はどうなってますか")
    asked_missing = chat.say("S-2026-9999 はどうなってますか")
    assert asked_other.replace("0001", "X") == asked_missing.replace("9999", "X")
    assert "確認コード" in asked_other and "協議中" not in asked_other


def test_another_devices_case_is_shown_only_with_its_check_code(kb):
    other = CaseView("S-2026-0001", "consultation", "協議中", datetime(2026, 11, 21, tzinfo=JST))
    chat = EngineChat(kb, cases=ListedCases([], {("S-2026-0001", "K7P2QX"): other}), channel="web")
    assert "確認コード" in chat.say("S-2026-0001")
    wrong = chat.say("AAAAAA")
    assert "確認できませんでした" in wrong and "協議中" not in wrong and "あと2回" in wrong
    shown = chat.say("k7p2qx")  # typed in lower case
    assert "S-2026-0001" in shown and "協議中" in shown
    assert not any("取り下げ" in label for label in chat.labels)  # a code shows the status, nothing more
    assert chat.state.mode == "idle"


def test_three_wrong_check_codes_end_the_check(kb):
    chat = EngineChat(kb, cases=ListedCases([]), channel="web")
    chat.say("P-2026-0002")
    chat.say("AAAAAA")
    chat.say("BBBBBB")
    assert "もう一度お試しください" in chat.say("CCCCCC")
    assert chat.state.mode == "idle" and chat.state.checking is None
    assert "2分の1" in chat.say("区づくり推進事業の補助率は？")


def test_a_question_or_a_button_instead_of_a_code_leaves_the_check(kb):
    chat = EngineChat(kb, cases=ListedCases([]), channel="web")
    chat.say("S-2026-0005")
    assert "2分の1" in chat.say("区づくり推進事業の補助率は？") and chat.state.mode == "idle"
    chat.say("S-2026-0005")
    assert "個人情報の取り扱い" in chat.tap("メニュー") + chat.tap("相談する")


def test_follow_greets_with_the_menu_and_unfollow_marks_the_contact(kb):
    chat = EngineChat(kb)
    out = chat.send(Follow())
    assert "友だち追加ありがとうございます" in out
    assert {"質問する", "相談する", "提案する", "状況確認"} <= set(chat.labels)
    assert chat.effects == [SetContactActive(True)]
    chat.send(Unfollow())
    assert chat.replies == [] and chat.effects == [SetContactActive(False)]


@pytest.mark.parametrize("text, expected", [
    ("メニュー", "ご用件をお選びください"),
    ("何ができるの？", "この窓口でできること"), ("このbotってなにができるん？", "この窓口でできること"),
    ("なにを きいたら いいのか わからないのですが、なにが できますか", "この窓口でできること"),
    ("どの補助金が合うか分からないのですが、チャットで何ができますか", "この窓口でできること"),
    ("ここって何ができるんですか？", "この窓口でできること"), ("何が聞けますか", "この窓口でできること"),
    ("Hi, what kind of questions can you help me with?", "この窓口でできること"),
    ("What can you do?", "この窓口でできること"),
    ("What kind of help can I get at this desk? I'm new to Okayama.", "この窓口でできること"),
    ("このchatbotって何を聞けるの？", "この窓口でできること"),
    ("人と話したい", "086-803-1062"),
    ("しょくいん の かた と はなしを したい", "086-803-1062"), ("でんわ で はなしたい", "086-803-1062"),
    ("そうだん したい", "個人情報の取り扱い"), ("ていあん したいです", "個人情報の取り扱い"),
    ("やめる", "いま入力中のものはありません"),
])
def test_global_intents_outside_a_form(kb, text, expected):
    assert expected in EngineChat(kb).say(text)


@pytest.mark.parametrize("text", ["What kind of things can I do as a volunteer?", "What can I do with this grant?",
                                  "What can you do about empty houses in my neighborhood?",
                                  "What support can I get from the city for my NPO?",
                                  "What support can we get from the centre for our NPO?"])
def test_an_english_question_beginning_like_a_request_for_help_is_not_taken_for_one(text):
    assert detect(text) is not Intent.HELP


@pytest.mark.parametrize("text, expected, button", [
    ("こんばんは", "ご利用ありがとうございます。岡山市 協働のまちづくり窓口です。", "質問する"),
    ("はじめまして！", "協働のまちづくり、補助制度", "質問する"),
    ("ありがとうございました", "どういたしまして", "質問する"), ("助かりました！", "どういたしまして", "質問する"),
    ("ありがとね", "どういたしまして", "質問する"), ("たすかったわ", "どういたしまして", "質問する"),
    ("わかりました", "承知しました", "質問する"), ("いつ？", "どのようなことについてのご質問", "メニュー"),
    ("ありがとう、たすかったわ", "どういたしまして", "質問する"),
    ("助かりました！ありがとうございます", "どういたしまして", "質問する"),
    ("こんにちは、はじめまして", "協働のまちづくり、補助制度", "質問する"), ("Thank you very much!", "どういたしまして", "質問する"),
])
def test_a_greeting_thanks_or_bare_when_is_answered_in_kind_not_declined_nor_kept_for_staff(kb, text, expected, button):
    chat = EngineChat(kb)
    out = chat.say(text)
    assert expected in out and "お答えできません" not in out and button in chat.labels
    assert not [e for e in chat.effects if isinstance(e, NoteQuestion)]


def test_asking_about_proposals_answers_and_offers_to_start_one(kb):
    chat = EngineChat(kb)
    out = chat.say("協働の提案ってどこに出すの")
    assert "ESD・市民協働推進センター" in out
    assert "提案する" in chat.labels
    assert "個人情報の取り扱い" in chat.tap("提案する")



@pytest.mark.parametrize("text, intent", [
    ("I want to make a proposal to the city", Intent.PROPOSE), ("I'd like to propose a project", Intent.PROPOSE),
    ("teian shitai", Intent.PROPOSE), ("I'd like to consult about starting an NPO", Intent.CONSULT),
    ("soudan shitai desu", Intent.CONSULT), ("What is a proposal?", None), ("proposal deadline", None),
])
def test_a_wish_to_propose_or_consult_in_english_or_romaji_starts_it(text, intent):
    assert detect(text) == intent


def test_asking_staff_after_a_decline_carries_the_question_to_the_case(kb):
    chat = EngineChat(kb)
    question = "町内会の夏祭りで使うテントを市から借りられますか？"
    chat.say(question)
    assert "職員に相談する" in chat.labels
    chat.tap("職員に相談する")
    assert "（1/7）" in chat.tap("同意する")  # the question is not one of the questions
    summary = run_script(chat, CONSULTATION_HAPPY[2:])
    assert f"チャットでの質問: {question}" in summary
    chat.tap("修正する")
    assert "チャットでの質問" not in chat.labels
    chat.tap("確認に戻る")
    chat.tap("送信する")
    [effect] = chat.effects
    assert dict(effect.answers)["asked"] == question


def test_asking_staff_from_the_menu_carries_no_question(kb):
    chat = EngineChat(kb)
    chat.say("町内会の夏祭りで使うテントを市から借りられますか？")
    chat.tap("メニュー")
    chat.tap("相談する")
    chat.tap("同意する")
    assert "チャットでの質問" not in run_script(chat, CONSULTATION_HAPPY[2:])


@pytest.mark.parametrize("none", ["スキップ", "メールはありません", "持っていません"])
def test_a_proposer_without_email_can_still_propose(kb, none):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:7])
    assert "スキップ" in chat.labels
    out = chat.tap(none) if none == "スキップ" else chat.say(none)
    assert "提案の名前" in out and chat.state.draft.answers["email"] in (SKIPPED, none)


def test_a_proposal_from_a_person_asks_their_name_once(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:2])
    chat.tap("個人")
    out = chat.say("岡山花子")
    assert "電話番号" in out and "代表者" not in out
    assert "代表者" not in "".join(chat.labels) and "（3/13）" in out


def test_a_contact_person_given_as_the_same_follows_the_representative(kb):
    chat = EngineChat(kb)
    summary = run_script(chat, PROPOSAL_HAPPY)
    assert "連絡担当者: 岡山太郎（代表者と同じ）" in summary
    chat.tap("修正する")
    chat.tap("代表者名")
    out = chat.say("山田一郎")  # asked again: 「同じ」 meant the earlier representative, and it says why
    assert "「代表者名」が変わったので、「連絡担当者」ももう一度お聞きします。" in out and "連絡担当者のお名前" in out
    assert "戻る" not in chat.labels and "修正の途中です" in chat.say("戻る")  # nothing undone
    assert chat.state.draft.answers["period"] and chat.state.draft.answers["representative"] == "山田一郎"
    assert "連絡担当者: 山田一郎（代表者と同じ）" in chat.say("同じ")


def test_a_contact_person_typed_by_name_stays_when_the_representative_is_corrected(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:5])
    chat.say("佐藤花子")
    run_script(chat, [(kind, text, "") for kind, text, _ in PROPOSAL_HAPPY[6:]])
    chat.tap("修正する")
    chat.tap("代表者名")
    out = chat.say("岡山次郎")
    assert "内容確認" in out and "連絡担当者: 佐藤花子" in out  # not asked again: it named someone else


def test_a_question_typed_at_the_contact_person_is_answered_not_stored_as_a_name(kb):
    chat = EngineChat(kb)
    run_script(chat, PROPOSAL_HAPPY[:5])
    out = chat.say("協働提案制度ってどんなもの？")
    assert "ご質問にお答えしました" in out and "連絡担当者" in out
    assert "contact_person" not in chat.state.draft.answers
    assert "電話番号" in chat.say("同じ")
    assert chat.state.draft.answers["contact_person"] == "岡山太郎（代表者と同じ）"


@pytest.mark.parametrize("same", ["同じです！", "代表と同じ", "同じ人です", "上に同じ", "同じで", "同上"])
def test_the_same_person_is_read_in_the_ways_people_say_it(same):
    assert validators.same_as("岡山太郎", 60)(same) == validators.Valid("岡山太郎（代表者と同じ）")
    assert validators.same_as("岡山太郎", 60)("同じ部署の佐藤") == validators.Valid("同じ部署の佐藤")
