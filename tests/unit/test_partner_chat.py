"""仲間をさがす and 団体登録 in the conversation, on the engine alone: the directory is a fake service
(a real in-memory index over fixed cards), so these tests need no database or server."""
from datetime import date

import pytest

from bot.engine import search_id
from bot.intents import Intent, detect
from bot.messages import Card, Postback, SubmitCase
from bot.partner_search import GroupCard, GroupIndex
from bot.partners import validate_row
from bot.postbacks import Action, encode
from knowledge.analysis import Analyzer
from knowledge.base import DEFAULT_FOLDER
from knowledge.partner_vocabulary import load_partner_vocabulary
from knowledge.profile import load_vocabulary
from tests.support.chat import EngineChat

# (name, kind, fields, areas, offers, status, contact public?)
GROUPS = [
    ("北区防災の会", "町内会・自治会", ("防災", "防犯"), ("北区",), "炊き出し訓練と避難所運営の手伝い", "公開", True),
    ("市民防災ネット", "NPO・市民活動団体", ("防災", "子ども"), ("市内全域",), "防災講座の講師派遣", "公開", False),
    ("南区防災クラブ", "NPO・市民活動団体", ("防災",), ("南区",), "防災マップづくり", "公開", True),
    ("北区見守り隊", "町内会・自治会", ("防犯",), ("北区",), "登下校の見守り", "公開", True),
    ("北区非公開防災", "NPO・市民活動団体", ("防災",), ("北区",), "避難訓練", "非公開", True),
    ("申請中の防災団", "NPO・市民活動団体", ("防災",), ("北区",), "避難訓練", "申請中", True),
    *[(f"北区防災サークル{i}", "NPO・市民活動団体", ("防災",), ("北区", "伊島学区"), "防災訓練の企画", "公開", False)
      for i in range(1, 6)],
    ("中区こども食堂", "NPO・市民活動団体", ("子ども", "食"), ("中区",), "子ども食堂の運営と学習支援", "公開", False),
]


def _card(i: int, row) -> GroupCard:
    name, kind, fields, areas, offers, status, public = row
    return GroupCard(id=i, name=name, kind=kind, fields=fields, areas=areas, offers=offers, seeks="",
                     contact=f"086-000-{i:04d}", contact_public=public, url="", confirmed_on=date(2026, 10, 28 - i),
                     status=status)


class FakeDirectory:
    """The engine's GroupFinder over fixed cards (what bot/runtime.py gives it from the database)."""

    def __init__(self):
        vocabulary = load_partner_vocabulary(DEFAULT_FOLDER)
        self.cards = [_card(i, row) for i, row in enumerate(GROUPS, 1)]
        self.index = GroupIndex(self.cards, vocabulary, Analyzer(load_vocabulary(DEFAULT_FOLDER)))
        self.vocabulary = vocabulary

    def search(self, query, cursor=None):
        return self.index.search(query, cursor)

    def public_group(self, group_id):
        return next((c for c in self.cards if c.id == group_id and c.status == "公開"), None)

    def field_names(self):
        return tuple(self.vocabulary.fields)


@pytest.fixture(scope="module")
def directory():
    return FakeDirectory()


def group_cards(chat: EngineChat) -> list[Card]:
    return [r for r in chat.replies if isinstance(r, Card) and r.kind == "group"]


def card_field(card: Card, label: str) -> str:
    return dict(card.fields).get(label, "")


def test_free_text_search_shows_public_groups_of_the_field_and_area_best_first(kb, directory):
    chat = EngineChat(kb, groups=directory)
    out = chat.say("北区で防災をやっている団体を探したい")
    cards = group_cards(chat)
    assert "「北区・防災」の団体が7件見つかりました（1〜5件目" in out
    assert len(cards) == 5
    for card in cards:
        assert "防災" in card_field(card, "分野")
        assert "北区" in card_field(card, "地域") or "市内全域" in card_field(card, "地域")
    names = [c.title for c in cards]
    assert "北区非公開防災" not in names and "申請中の防災団" not in names and "南区防災クラブ" not in names
    assert all("北区" in card_field(c, "地域") for c in cards)  # the ward itself before the citywide group
    assert {"もっと見る", "この団体とつながりたい", "職員に相談する", "メニュー"} <= set(chat.labels)


@pytest.mark.parametrize("typed", ["北区で防災やっとる団体おらん？", "北区の防災の団体はありませんか", "北区で防災の団体を教えて",
                                   "北区で防災をしている団体", "北区で防災やっとるグループ",
                                   "北区で防災やってる団体とつながりたい！紹介してもらえる？",
                                   "北区で防災をしている団体の一覧が見たい", "北区の防災の団体とつながるにはどうしたらええ？",
                                   "きたくで ぼうさいの だんたい ありませんか",  # older people type in hiragana
                                   "きたくで ぼうさいを している だんたいを しりたいです",
                                   "北区で防災しとる団体、このへんにおらん？",
                                   "防災の団体 北区", "ぼうさいの だんたい きたく", "北区のグループで防災やってるとこ",
                                   "北区で防災しとる団体、このへんにおらんかな？", "北区で防災の団体、近くにありますか？"])
def test_dialect_and_polite_wordings_search_the_directory_too(kb, directory, typed):
    chat = EngineChat(kb, groups=directory)
    out = chat.say(typed)
    assert "「北区・防災」の団体が7件見つかりました" in out and len(group_cards(chat)) == 5


def test_an_english_question_for_a_group_searches_the_directory_through_the_glossary(kb, directory):
    chat = EngineChat(kb, groups=directory)
    out = chat.say("Hello, I just moved to Okayama. Is there any volunteer group for foreigners I can join?")
    assert "「国際」" in out and "条件を変えてさがす" in chat.labels  # foreigners → 外国人 → the 国際 field
    for question in ("Is there a grant for groups?", "Is there a deadline for group registration?",
                     "Where can I find the application form for a group?", "Is there any support for starting an NPO?",
                     "Is there an NPO support center in Okayama?", "I am looking for NPO support."):
        assert detect(question) is not Intent.FIND_GROUPS
    assert detect("Are there any groups in Okayama that support foreign families? I'd like to join one.") \
        is Intent.FIND_GROUPS


@pytest.mark.parametrize("typed", ["団体 検索", "仲間をさがす", "だんたいを さがす", "仲間を探したい", "仲間探し", "団体を検索したいです",
                                   "団体の検索"])
def test_a_bare_wish_to_search_asks_what_for_without_saying_it_was_not_understood(kb, directory, typed):
    chat = EngineChat(kb, groups=directory)
    out = chat.say(typed)
    assert out.startswith("どんな団体をおさがしですか") and "防災" in chat.labels


def test_a_question_about_something_said_before_after_a_search_is_not_taken_for_search_words(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("団体 検索")  # asked what to search for: the next words are search words, unless a question
    out = chat.say("それって個人でも申し込めますか？")
    assert "「それ」が何を指すか" in out and group_cards(chat) == []


def test_a_group_named_by_its_work_alone_is_searched_with_its_kind(kb, directory):
    chat = EngineChat(kb, groups=directory)
    assert "「北区・防災・町内会・自治会」の団体が1件見つかりました" in chat.say("北区で防災やってる町内会")
    for program_terms in ("市民協働推進事業に応募できる団体", "補助の対象になる団体", "町内会", "町内会、その会費いる？",
                          "町内会、この頃若い人がおらん", "NPO、この条例に関係ある？"):
        assert detect(program_terms) is not Intent.FIND_GROUPS


@pytest.mark.parametrize("typed", ["ESD・市民協働推進センターを運営している団体は？", "補助金を審査している団体は？",
                                   "補助金もらうのに団体がいるん？", "区づくり推進事業は団体がいるかな", "うちの地区の町内会を教えて",
                                   "この団体とつながりたい", "町内会とつながりたいけど加入するにはどうする？",
                                   "過去に採択された団体の一覧はありますか", "いままでに ひょうしょう された だんたいを しりたいです"])
def test_who_runs_something_or_whether_a_group_is_needed_is_not_a_directory_search(kb, directory, typed):
    chat = EngineChat(kb, groups=directory)
    chat.say(typed)
    assert group_cards(chat) == [] and "どんな団体をおさがしですか" not in chat.say(typed)


def test_more_pages_through_the_rest_and_then_ends(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("北区で防災をやっている団体を探したい")
    first = {c.title for c in group_cards(chat)}
    out = chat.tap("もっと見る")
    second = [c.title for c in group_cards(chat)]
    assert "（6〜7件目" in out and "これですべてです" in out
    assert len(second) == 2 and not first & set(second) and second[-1] == "市民防災ネット"
    assert "もっと見る" not in chat.labels


def test_an_older_searchs_more_button_is_stale(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("北区で防災をやっている団体を探したい")
    old_more = chat.choice("もっと見る")
    chat.say("子ども食堂を手伝ってくれる団体ある？")
    assert {c.title for c in group_cards(chat)} == {"中区こども食堂", "市民防災ネット"}  # 子ども食堂 → 子ども
    out = chat.send(Postback(old_more.data))
    assert "以前のやり取り" in out and not group_cards(chat)
    forged = encode(Action.MORE_GROUPS, index="x1", value=search_id("子ども食堂を手伝ってくれる団体ある？"))
    assert "以前のやり取り" in chat.send(Postback(forged))


def test_groups_whose_own_words_say_what_was_asked_come_first_among_equals(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("子ども食堂をしている団体を探したい")
    assert group_cards(chat)[0].title == "中区こども食堂"  # 「子ども食堂の運営」, though confirmed earlier


def test_contact_is_shown_only_when_the_group_made_it_public(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("北区で防災と防犯をやっている団体を探したい")
    by_name = {c.title: c for c in group_cards(chat)}
    assert card_field(by_name["北区防災の会"], "連絡先") == "086-000-0001"
    assert card_field(by_name["北区防災サークル1"], "連絡先") == ""


def test_no_match_offers_a_wider_area_and_staff(kb, directory):
    chat = EngineChat(kb, groups=directory)
    out = chat.say("東区で国際交流をしている団体を探したい")
    assert "見つかりませんでした" in out and not group_cards(chat)
    assert {"地域を広げてさがす", "職員に相談する", "条件を変えてさがす"} <= set(chat.labels)
    chat.tap("地域を広げてさがす")
    assert "「国際」の団体は" in reply_out(chat)


def test_words_typed_after_nothing_was_found_search_again_and_a_question_is_still_answered(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("東区で国際交流をしている団体を探したい")
    chat.say("北区で防災")  # a second try, without 団体 or 探したい
    assert group_cards(chat)
    assert "の団体が1件見つかりました。" in chat.say("中区で食の団体を探したい")  # not 「1〜1件目」
    chat = EngineChat(kb, groups=directory)
    chat.say("東区で国際交流をしている団体を探したい")
    assert "本庁舎2階" in chat.say("センターはどこにありますか？")


def reply_out(chat: EngineChat) -> str:
    from tests.support.chat import reply_text

    return reply_text(chat.replies)


def test_menu_button_asks_what_to_look_for_then_searches_the_words(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("メニュー")
    out = chat.tap("仲間をさがす")
    assert "どんな団体をおさがしですか" in out and "防災" in chat.labels
    chat.say("北区で防災")  # no word for 団体: still a search, since the desk asked for one
    assert len(group_cards(chat)) == 5
    chat.tap("条件を変えてさがす")
    chat.tap("子ども")
    assert {c.title for c in group_cards(chat)} >= {"中区こども食堂", "市民防災ネット"}


def test_connect_starts_a_consultation_naming_the_group(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("北区で防災と防犯をやっている団体を探したい")
    first = group_cards(chat)[0]
    out = chat.send(Postback(first.buttons[0].data))
    assert "「北区防災の会」とのおつなぎは、センターが間に入って" in out and "086-000-0001" in out
    assert "個人情報の取り扱い" in out
    chat.tap("同意する")
    assert "（1/7）" in reply_out(chat)  # the group is not one of the questions
    for step in ("町内会・自治会",):
        chat.tap(step)
    chat.say("岡山東町内会")
    chat.say("防災訓練を一緒に開きたいです。")
    chat.tap("スキップ")
    chat.tap("電話")
    chat.say("086-123-4567")
    summary = chat.say("なし")
    assert "つながりたい団体: 北区防災の会（団体ID 1）" in summary
    chat.tap("修正する")
    assert "つながりたい団体" not in chat.labels
    chat.tap("確認に戻る")
    chat.tap("送信する")
    [effect] = chat.effects
    assert isinstance(effect, SubmitCase) and effect.kind == "consultation"
    assert dict(effect.answers)["group"] == "北区防災の会（団体ID 1）"


def test_connect_to_a_group_no_longer_public_says_so(kb, directory):
    chat = EngineChat(kb, groups=directory)
    out = chat.send(Postback(encode(Action.CONNECT, entry="5")))  # 非公開
    assert "掲載されていません" in out and chat.state.mode == "idle"
    assert "掲載されていません" in chat.send(Postback(encode(Action.CONNECT, entry="x")))


def test_starting_over_keeps_the_group(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.send(Postback(encode(Action.CONNECT, entry="1")))
    chat.tap("同意する")
    chat.tap("個人")
    chat.say("最初から")
    assert chat.state.draft.answers == {"group": "北区防災の会（団体ID 1）"}


REGISTRATION = [
    ("say", "団体登録したい", "承認後は、団体名・種類・分野・地域・できること"),  # the consent says what is published
    ("tap", "同意する", "団体の名前"),
    ("say", "伊島まちづくり防災会", "団体の種類"),
    ("tap", "町内会・自治会", "活動している分野"),
    ("say", "料理", "活動分野を読み取れませんでした"),
    ("say", "防災と子ども食堂、見守り", "活動している地域"),
    ("say", "北区の伊島学区", "できること"),
    ("say", "防災訓練の企画と炊き出し", "さがしている協力"),
    ("say", "なし", "連絡先"),
    ("say", "０８６－２５１－００００", "連絡先を載せてもよいですか"),
    ("tap", "はい", "ウェブサイト"),
    ("say", "ウェブサイトはありません", "内容確認"),  # none, said as a sentence
]


def test_registration_collects_the_directory_fields_and_submits_a_group_case(kb):
    chat = EngineChat(kb)
    out = ""
    for action, value, expected in REGISTRATION:
        out = chat.say(value) if action == "say" else chat.tap(value)
        assert expected in out, f"after {action} {value!r}: {out}"
    assert "活動分野: 防災、子ども、防犯" in out and "ウェブサイト: （なし）" in out
    assert "申請中" in chat.tap("送信する")
    [effect] = chat.effects
    assert isinstance(effect, SubmitCase) and effect.kind == "group"
    answers = dict(effect.answers)
    assert answers == {"name": "伊島まちづくり防災会", "kind": "町内会・自治会", "fields": "防災、子ども、防犯",
                       "areas": "北区、伊島学区", "offers": "防災訓練の企画と炊き出し", "seeks": "",
                       "contact": "086-251-0000", "contact_public": "はい", "url": ""}
    # what staff approve goes into the directory as it is (the CSV import's own row check)
    cells = {key: answers[key] for key in ("name", "kind", "fields", "areas", "offers", "seeks", "contact", "url")}
    row, problems = validate_row({**cells, "public": "true"}, load_partner_vocabulary(DEFAULT_FOLDER))
    assert problems == [] and row["activity_fields"] == ["防災", "子ども", "防犯"]


def test_registration_buttons_fit_line_and_a_tapped_field_is_taken_as_is(kb):
    chat = EngineChat(kb)
    chat.say("メニュー")
    chat.tap("団体を登録する")
    chat.tap("同意する")
    chat.say("東区の環境サークル")
    chat.tap("NPO・市民活動団体")
    assert len(chat.labels) <= 13 and "防災" in chat.labels and "その他" not in chat.labels
    assert "「防災、子ども」" in reply_out(chat) and "人権・平和" in reply_out(chat)  # the rest can be typed
    assert "ひとつ以上選んでください" in chat.send(Postback(encode(Action.PICKED, token=chat.state.token, field="fields")))
    chat.tap("環境")
    assert "選択中: 環境" in chat.tap("防災") and "選択中: 環境、防災" in reply_out(chat)
    assert chat.labels[0] == "決定" and "✓防災" in chat.labels and len(chat.labels) <= 13
    chat.tap("✓防災")  # tapped again: left out
    chat.say("国際交流も")  # typed names add to the tapped ones
    assert chat.state.draft.answers["fields"] == "環境、国際"
    chat.tap("北区")
    chat.tap("市内全域")
    assert "できること" in chat.tap("決定")
    assert chat.state.draft.answers["areas"] == "北区、市内全域"


def test_menu_and_help_offer_the_directory(kb):
    chat = EngineChat(kb)
    help_text = chat.say("ヘルプ")
    assert "仲間をさがす" in help_text and "団体を登録する" in help_text
    assert {"仲間をさがす", "団体を登録する"} <= set(chat.labels)


def test_a_search_in_the_middle_of_a_form_keeps_the_form(kb, directory):
    chat = EngineChat(kb, groups=directory)
    chat.say("相談したい")
    chat.tap("同意する")
    chat.tap("個人")
    out = chat.send(Postback(encode(Action.FIND_GROUPS, value="北区 防災")))
    assert len(group_cards(chat)) == 5 and out.rstrip().endswith("（2/7）お名前を教えてください。")
    assert chat.state.mode == "form" and chat.state.draft.answers == {"applicant_type": "個人"}
    chat.say("北区で防災をやっている団体を探したい")  # typed in a form: the answer to its question
    assert chat.state.draft.answers["name"] == "北区で防災をやっている団体を探したい"


OTHER_CITY_VOCABULARY = """\
fields:
  - name: 防災
  - name: 漁業
    synonyms: [漁協]
areas:
  citywide: {name: 市内全域}
  wards: [{name: 山手区}, {name: 海辺区}]
kinds: [{name: 町内会}, {name: その他}]
"""


def test_registration_asks_for_another_citys_own_kinds_fields_and_areas(tmp_path):
    from app.settings import Settings
    from bot.forms import GROUP
    from bot.runtime import Desk
    from knowledge.base import load_knowledge
    from tests.unit.test_city_and_forms import tiny_city

    folder = tiny_city(tmp_path)
    kb = load_knowledge(folder, tmp_path / "cache")
    assert Desk(None, kb, Settings().desk).forms["group"] is GROUP  # no partner-fields.yaml: the default lists
    (folder / "partner-fields.yaml").write_text(OTHER_CITY_VOCABULARY, encoding="utf-8")
    chat = EngineChat(kb, forms=Desk(None, kb, Settings().desk).forms)
    chat.say("団体登録")
    chat.tap("同意する")
    chat.say("海辺の会")
    assert chat.labels[:2] == ["町内会", "その他"]
    chat.tap("その他")
    chat.say("漁協の手伝い")
    assert chat.labels[:3] == ["山手区", "海辺区", "市内全域"]
    chat.tap("海辺区")
    chat.tap("決定")
    assert chat.state.draft.answers["fields"] == "漁業" and chat.state.draft.answers["areas"] == "海辺区"


def test_a_long_request_naming_no_kind_of_group_is_asked_what_to_look_for_not_told_nothing_matched(kb, directory):
    chat = EngineChat(kb, groups=directory)
    out = chat.say("春に退職して時間ができました。毎日家にいても退屈です。地域の団体を探す方法を教えてください。")
    assert "分野や地域がわかりませんでした" in out and "どんな団体をおさがしですか" in out
    assert "見つけられませんでした" not in out and "防災" in chat.labels
