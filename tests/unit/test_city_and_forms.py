"""City texts come from the city's folder; forms fit a phone and count their steps honestly."""
import shutil

import pytest
import yaml

from bot.messages import Card, Follow
from bot.replies import answer_replies
from knowledge.answers import Answer
from knowledge.base import DEFAULT_FOLDER, load_knowledge
from knowledge.profile import CityFileError, load_city
from tests.support.chat import EngineChat
from tests.unit.test_intake_engine import CONSULTATION_HAPPY, run_script

TINY_ENTRIES = """\
- id: t-1
  title: 協働の窓口
  category: faq
  source: テスト市資料
  as_of: 2026-04-01
  body: 協働の窓口は市役所1階です。
  questions: [窓口はどこ]
"""


def tiny_city(tmp_path, **changes):
    folder = tmp_path / "tiny"
    folder.mkdir()
    raw = yaml.safe_load((DEFAULT_FOLDER / "city.yaml").read_text(encoding="utf-8"))
    raw.update(city="テスト市", desk_name="テスト市 協働デスク")
    raw["centre"] = {"name": "テスト協働センター", "phone": "0120-000-111"}
    raw["texts"]["forms"]["consultation"]["intro"] = "テスト市の相談受付です。"
    for key, value in changes.items():
        raw[key] = value
    (folder / "city.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copy(DEFAULT_FOLDER / "synonyms.yaml", folder / "synonyms.yaml")
    (folder / "entries.yaml").write_text(TINY_ENTRIES, encoding="utf-8")
    return folder


def test_another_citys_folder_names_its_own_desk_centre_and_phone(tmp_path):
    kb = load_knowledge(tiny_city(tmp_path), tmp_path / "cache")
    chat = EngineChat(kb)
    greeting = chat.send(Follow())
    assert "テスト市 協働デスク" in greeting and "岡山" not in greeting
    human = chat.say("人と話したい")
    assert "テスト協働センター" in human and "0120-000-111" in human and "086-803-1062" not in human
    assert "テスト市の相談受付です。" in chat.tap("相談する") + chat.tap("同意する")


def test_a_missing_key_names_the_file_and_the_key(tmp_path):
    folder = tiny_city(tmp_path, centre={"name": "テスト協働センター"})
    with pytest.raises(CityFileError, match=r"tiny/city\.yaml: missing key `centre\.phone`"):
        load_city(folder)


def test_the_footer_leaves_out_a_phone_number_the_answer_already_gives():
    answer = Answer(text="", abstained=False, confidence=1.0, reason="answered", entry_id="x", title="センター",
                    body="センターの電話は 086-803-1062 です。", source="市HP", as_of="2026-04-01",
                    caution="最新の情報はESD・市民協働推進センター（電話 086-803-1062）でご確認ください。")
    [card] = answer_replies(answer)
    assert isinstance(card, Card) and "086-803-1062" not in card.footer and "出典: 市HP" in card.footer


def test_an_answer_that_already_says_it_may_change_does_not_say_it_again_below(kb):
    chat = EngineChat(kb)
    chat.say("センターの電話番号は？")
    [card] = [r for r in chat.replies if isinstance(r, Card)]
    assert "086-803-1062" in card.body and (card.body + card.footer).count("変わることがあります") == 1


def test_one_footer_per_turn_and_one_button_per_destination(kb):
    chat = EngineChat(kb)
    chat.say("区づくり推進事業の補助率は？")
    cards = [r for r in chat.replies if isinstance(r, Card) and r.footer]
    assert len(cards) <= 1
    datas = [c.data for c in chat.replies[0].choices]
    assert len(datas) == len(set(datas))


def test_the_step_counter_does_not_jump_when_the_contact_is_asked(kb):
    chat = EngineChat(kb)
    out = run_script(chat, CONSULTATION_HAPPY[:6])
    assert "（5/7）" in out
    assert "（6/7）" in chat.tap("電話") and "（7/7）" in chat.say("086-123-4567")
    line_chat = EngineChat(kb)
    run_script(line_chat, CONSULTATION_HAPPY[:6])
    assert "（6/6）" in line_chat.tap("LINE")


def test_changing_the_contact_method_later_says_a_question_was_added(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:6])
    chat.tap("LINE")
    chat.say("なし")
    chat.tap("修正する")
    chat.tap("希望する連絡方法")
    out = chat.tap("メール")
    assert "「連絡先」もお聞きします" in out and "メールアドレス" in out


def test_none_is_shown_back_as_typed(kb):
    chat = EngineChat(kb)
    run_script(chat, CONSULTATION_HAPPY[:5])
    chat.say("なし")
    chat.tap("LINE")
    summary = chat.say("なし")
    assert "地域: なし" in summary and "連絡しやすい日時: なし" in summary and "未回答" not in summary


def test_on_the_web_the_contact_choices_are_phone_and_mail_and_the_value_is_asked(kb):
    chat = EngineChat(kb, channel="web")
    run_script(chat, CONSULTATION_HAPPY[:5])
    chat.say("なし")
    assert {"電話", "メール"} <= set(chat.labels) and "LINE" not in chat.labels
    assert "ボタンから選んで" in chat.say("LINE")
    assert "メールアドレス" in chat.tap("メール")
    chat.say("kyodo@example.jp")
    assert chat.state.draft.answers["contact"] == "kyodo@example.jp"


def test_a_malformed_gate_or_glossary_in_synonyms_does_not_stop_the_desk(tmp_path):
    folder = tiny_city(tmp_path)
    with (folder / "synonyms.yaml").open("a", encoding="utf-8") as fh:
        fh.write("gated:\n  - {words: [指標]}\n  - just a line\nenglish: [subsidy, grant]\n")
    kb = load_knowledge(folder, tmp_path / "cache")
    assert kb.scoring.gates.gates == () and kb.glossary.phrases == ()
