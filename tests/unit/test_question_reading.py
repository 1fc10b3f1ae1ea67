"""How the desk reads what citizens type before searching: hiragana as the knowledge's words,
English through the city's glossary, a lone word as a request for its definition."""
import pytest

from knowledge.english import Glossary
from knowledge.facts import KINDS
from knowledge.kana import KanaReader
from knowledge.kinds import ENTRY_PATTERNS, QUESTION_PATTERNS, asked_term, asking_part, question_kind
from knowledge.rewording import Rewording

READER = KanaReader.of([("シヤクショ", "市役所"), ("マドグチ", "窓口"), ("アイテ", "相手"), ("キョウドウ", "協働"),
                        ("キョウドウ", "協働"), ("キョウドウ", "共同"), ("ボランティア", "ボランティア"), ("ソウダン", "相談"),
                        ("ショウ", "章"), ("キタイ", "期待"), ("ホジョキン", "補助金"), ("セツリツ", "設立"), ("キカン", "機関"),
                        ("テイギ", "定義"), ("シンセイ", "申請")])


@pytest.mark.parametrize("typed, read", [
    ("しやくしょの まどぐち どこ", "市役所の 窓口 どこ"),
    ("きょうどうってなに", "協働ってなに"),  # the reading the knowledge uses most
    ("ぼらんてぃあしたい", "ボランティアしたい"),
    ("ぼらんていあしたい", "ボランティアしたい"),  # small kana typed large
    ("そうだんまどぐち", "相談窓口"),  # a noun followed by another noun
    ("あいてますか", "あいてますか"),  # not 相手ますか: the reading runs into a verb
    ("まど", "まど"),  # too short to read
    ("窓口はどこ", "窓口はどこ"),
    ("でしょうか", "でしょうか"),  # a one-kanji noun (章) is too ambiguous to read from kana
    ("相談したい 働きたい", "相談したい 働きたい"),  # kana after a kanji is its ending (not 働期待)
    ("受けつけきかん", "受けつけきかん"),  # however long
])
def test_hiragana_is_read_as_the_knowledge_words(typed, read):
    assert READER.read(typed) == read


def unknown_or_misspelt(unknown: set[str], misspelt: set[str]):
    return lambda surface: surface in unknown | misspelt, lambda surface: surface in misspelt


@pytest.mark.parametrize("typed, respelled", [
    ([("保助", "ホジョ"), ("金", "キン"), ("の", "ノ"), ("相談", "ソウダン")], "補助金の相談"),  # a word split off
    ([("設", "セツ"), ("率", "リツ")], "設立"),  # a lone kanji
    ([("定", "テイ"), ("議", "ギ"), ("を", "ヲ")], "定義を"),  # split into lone kanji: three kana are enough
    ([("補助金", "ホジョキン")], "補助金"),  # already the knowledge's word
    ([("ほじょきん", "ホジョキン")], "ほじょきん"),  # kana is read elsewhere, not respelled
])
def test_kanji_an_input_method_chose_wrongly_are_respelled_by_reading(typed, respelled):
    assert READER.respell(typed, *unknown_or_misspelt({"保助", "ほじょきん"}, {"設", "定"})) == respelled


def test_a_real_word_the_knowledge_does_not_use_is_never_respelled():
    reader = KanaReader.of([("キギョウ", "企業"), ("センター", "センター")])
    assert reader.respell([("起業", "キギョウ")], *unknown_or_misspelt({"起業"}, set())) == "起業"
    assert reader.respell([("センサー", "センサー")], *unknown_or_misspelt({"センサー"}, set())) == "センサー"


@pytest.mark.parametrize("typed, respelled", [
    ("ボラティア", "ボランティア"), ("ボランティアア", "ボランティア"), ("ボランテイア", "ボランティア"),
    ("ボランチ", "ボランチ"),  # too far from any word the knowledge uses
])
def test_a_katakana_string_one_letter_off_is_respelled(typed, respelled):
    assert READER.respell([(typed, typed)], *unknown_or_misspelt(set(), {typed})) == respelled


def test_a_dialect_wording_is_made_plain_the_longest_first():
    plain = Rewording.of((("どがぁ", "どう"), ("どがぁな", "どんな"), ("なして", "なぜ")))
    assert plain.rewrite("なしてどがぁな補助金がええん？どがぁしたら") == "なぜどんな補助金がええん？どうしたら"
    assert Rewording().rewrite("どがぁな") == "どがぁな"


def test_the_city_dialect_is_made_plain_before_the_question_is_read(kb):
    assert [t for t in kb.search("センターはどけぇあるん？").query_terms] == ["センター"]  # not 退ける, a verb


def test_a_mistyped_kanji_is_respelled_as_the_homophone_sharing_a_kanji_with_it():
    reader = KanaReader.of([("キカン", "機関"), ("キカン", "機関"), ("キカン", "期間")])
    assert reader.respell([("期", "キ"), ("感", "カン")], *unknown_or_misspelt(set(), {"期", "感"})) == "期間"
    assert reader.word("キカン") == "機関"  # read from kana, the word the knowledge uses most


def test_a_katakana_typo_near_two_words_is_left_as_typed():
    reader = KanaReader.of([("センター", "センター"), ("センサー", "センサー")])
    assert reader.respell([("センナー", "センナー")], *unknown_or_misspelt(set(), {"センナー"})) == "センナー"


def test_a_word_the_knowledge_knows_is_never_respelled():
    assert READER.respell([("設", "セツ"), ("率", "リツ")], *unknown_or_misspelt(set(), set())) == "設率"


@pytest.mark.parametrize("typed, searched", [("起業したい", "起業したい"), ("オフライン開催", "オフライン開催"),
                                             ("受けつけきかんは", "受けつけきかんは")])
def test_real_words_and_kana_endings_are_searched_as_typed(kb, typed, searched):
    assert kb._searched(typed, 3)[0] == searched


def test_a_lone_kanji_read_as_a_name_is_heard_with_its_other_readings():
    typed = [("申", "シン"), ("精", "タダシ"), ("は", "ハ")]  # the tokenizer reads 精 as a name
    readings = {"申": ("サル", "シン"), "精": ("セイ", "タダシ")}
    assert READER.respell(typed, *unknown_or_misspelt(set(), {"精"})) == "申精は"
    assert READER.respell(typed, *unknown_or_misspelt(set(), {"精"}), lambda k: readings.get(k, ())) == "申請は"


def test_a_reading_the_tokenizer_did_not_choose_leads_only_to_a_noun_sharing_a_kanji():
    reader = KanaReader.of([("カダイ", "課題"), ("シンセイ", "申請")])
    readings = {"何": ("カ", "ナン"), "台": ("ダイ",), "申": ("シン",), "精": ("セイ", "タダシ")}.get
    misspelt = unknown_or_misspelt(set(), {"何", "台", "精"})
    assert reader.respell([("何", "ナン"), ("台", "ダイ")], *misspelt, lambda k: readings(k, ())) == "何台"
    assert reader.respell([("申", "シン"), ("精", "タダシ")], *misspelt, lambda k: readings(k, ())) == "申請"


@pytest.mark.parametrize("typed, expect", [
    ("教導のまちづくり条例について教えて", "協働のまちづくり条例"),
    ("町内会の保助金について知りたい", "区づくり推進事業"),
    ("補助金の申精はいつまで？", "区づくり推進事業"),
    ("企業の写会貢献で協力できることある？", "社会貢献"),  # 写 is read as a prefix, not a noun
])
def test_questions_with_ime_typos_are_answered_as_if_spelled_right(kb, typed, expect):
    answer = kb.ask(typed)
    assert not answer.declined and expect in answer.text


def test_questions_in_hiragana_find_the_entry_written_in_kanji(kb):
    answer = kb.ask("こうみんかんの やすみは いつ")
    assert not answer.declined and "水曜" in answer.text
    assert "対象" in kb.ask("くづくりすいしんじぎょうって どんなかつどうが たいしょうですか").text


def test_a_name_ending_in_a_short_katakana_word_is_read_from_hiragana_whole(kb):
    answer = kb.ask("じょせいきんなび ってなに")  # 助成金ナビ, not 助成金 and a stray び
    assert not answer.declined and "助成金ナビ" in answer.title


GLOSSARY = Glossary.of((("subsidy", "補助金"), ("neighborhood association", "町内会"), ("how much", "いくら")))


def test_english_is_read_through_the_glossary_keeping_unknown_words():
    assert GLOSSARY.translate("How much is the subsidy for neighborhood associations?") == "いくら 補助金 町内会"
    assert GLOSSARY.translate("Is there a subsidy for solar panels?") == "補助金 solar panels"
    assert GLOSSARY.translate("What's the weather like today?") is None
    assert GLOSSARY.translate("Is there a subsidy for our 町内会 (jichikai)?") == "補助金 町内会 jichikai"
    assert GLOSSARY.translate("Tell me about 協働") == "協働"  # a Japanese word is a word it knows


def test_an_english_sentence_in_a_japanese_question_is_read_through_the_glossary():
    read = GLOSSARY.translate_sentences("How much is the subsidy? 町内会でも申し込めますか")
    assert "いくら 補助金" in read and "How" not in read and read.endswith("町内会でも申し込めますか")
    assert GLOSSARY.translate_sentences("NPO法人の補助金は？SDGsについても") == "NPO法人の補助金は？SDGsについても"
    assert GLOSSARY.translate_sentences("solar panels のことです") == "solar panels のことです"  # no word it knows
    dropped = Glossary.of((("i'm new here", ""), ("subsidy", "補助金"))).translate_sentences("I’m new here. 補助金は？")
    assert "new" not in dropped and dropped.strip() == "補助金は？"  # phrases that drop out go, curly apostrophe too
    assert GLOSSARY.translate_sentences("subsidyってなに？").strip() == "補助金 ってなに？"  # a romaji or English word alone
    assert Glossary.of((("csr", "社会貢献"),)).translate_sentences("CSRの相談") == "CSRの相談"  # an acronym is kept



@pytest.mark.parametrize("question, term", [
    ("協働", "協働"), ("多様な主体？", "多様な主体"), ("協働ってなに", "協働"), ("公民館の休館日", None),
    ("補助金 いくら", None),
    ("協働のまちづくりって、具体的にはどういうことですか？", "協働のまちづくり"),  # 具体的に asks the same
    ("協働って、簡単に言うと何？", "協働"), ("協働ってよく聞くけど結局なに？", "協働"),  # hedges before the asking word
    ("協働って具体的に何をするの？", "協働"), ("補助金って具体的に何に使えるの？", None),  # what it pays for, not what it is
])
def test_a_lone_word_asks_for_its_definition(question, term):
    assert asked_term(question) == term


def test_a_phone_question_is_answered_by_an_entry_with_a_number(kb):
    assert question_kind("センターの電話番号は？") == "phone"
    answer = kb.ask("センターの連絡先おしえて")
    assert not answer.declined and "086-803-1062" in answer.body


def test_a_compound_term_falls_back_to_the_defined_word(kb):
    top = kb.search("市民協働ってなに").hits[0].entry
    assert "協働" in top.title and "推進事業" not in top.title


@pytest.mark.parametrize("word, expect", [("補助金", "市民協働推進事業"), ("ほじょきん", "区づくり推進事業"),
                                          ("条例", "協働のまちづくり条例"), ("センター", "ESD・市民協働推進センター"),
                                          ("区づくり推進事業", "地域の課題解決に取り組む活動"),
                                          ("区作り推進事業", "地域の課題解決に取り組む活動"), ("公民館", "地域の協働の拠点"),
                                          ("協働推進委員会", "附属機関")])
def test_a_word_asked_alone_gets_the_entry_that_introduces_it(kb, word, expect):
    answer = kb.ask(word)
    assert not answer.declined and expect in answer.text
    assert kb.entry(answer.entry_id).defines


def test_a_word_an_entry_introduces_does_not_capture_longer_names_ending_in_it(kb):
    top = kb.search("ゆうあいセンターは何を運営しているの").hits[0].entry
    assert "センター" not in top.defines


@pytest.mark.parametrize("question, kind", [("協働のまちづくり条例の条例番号って何号？", "article"),
                                            ("計画の基本施策っていくつあるん？", "count"), ("センターの電話番号", "phone"),
                                            ("センターは何時まで？", "when"), ("ほじょきんの しんせいのしかた", "how"),
                                            ("市はなんで協働を進めるの", "why"), ("協働ってよく聞くけど、結局なにするの", "what"),
                                            ("なんでも相談できますか", "can"), ("講座の日程", "when"),
                                            ("受講料はかかりますか", "how_much"), ("しかたないので相談したい", None),
                                            ("団体運営の講座とかやってる？", None), ("センターは誰が運営しているの", "who"),
                                            ("きょうどうていあん だれでも だせる？", "can"), ("提案は誰でもできますか", "can"),
                                            ("区づくりってだれが申し込めるの？", "can"), ("せんたーはなんじまで", "when"),
                                            ("じょうれいはなんねんにできたの", "when"), ("今どれくらいなんじゃ", None),
                                            ("区づくりの補助金ゆうのは、なんぼまで出るんなら？", "how_much"),
                                            ("表彰されたら何かもらえるの？", "how_much"),
                                            ("運営のご相談をさせていただくことは可能でしょうか", None),
                                            ("提案ってどうやるん？", "how")])  # こと|は, not とは
def test_the_kind_of_question_is_read_from_its_wording(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("question, expect", [("協働推進委員会を置くって決めてるのは条例の何条", "第15条"),
                                              ("町内会はいくつある？", "1,715")])
def test_which_article_and_how_many_questions_find_the_entry_with_the_figure(kb, question, expect):
    result = kb.search(question)
    assert result.kind_match and expect in result.hits[0].entry.body


@pytest.mark.parametrize("question", ["センターって何時まで開いてる？", "ESD・市民協働推進センターは何時まで開いていますか"])
def test_a_when_question_about_a_defined_thing_is_not_read_as_what_is_it(kb, question):
    assert asked_term(question) is None
    assert kb.search(question).kind == "when"


def test_a_when_question_about_the_centre_gets_its_hours_entry(kb):
    assert kb.search("センターって何時まで開いてる？").hits[0].entry.id == "faq-center-jikan"


def test_the_plans_indicator_entries_answer_figures_not_citizens_wanting_the_service(kb):
    assert not kb.search("団体どうしのマッチングってしてくれますか").hits[0].entry.title.startswith("成果指標")
    assert kb.search("協働のマッチングって現状何件くらい？").hits[0].entry.title.startswith("成果指標")


def test_a_typo_of_the_award_still_names_the_award_program(kb):
    assert "まちづくり賞" in kb.search("表証の締め切り").hits[0].entry.title


def test_a_what_is_question_typed_in_kana_finds_the_office_word(kb):
    answer = kb.ask("えぬぴーおーって なに")
    assert kb.search("えぬぴーおーって なに").defines and not answer.declined and "NPO" in answer.title


def test_a_what_is_question_about_a_term_no_entry_defines_is_not_a_kind_match(kb):
    result = kb.search("ESDってなに")
    assert result.kind == "what" and not result.kind_match and not result.defines


@pytest.mark.parametrize("question, kind", [("個人でも補助金もらえますか", "can"), ("休日に相談できますか", "when"),
                                            ("土日もやってる？", "when")])
def test_polite_and_weekend_wordings_say_their_kind(question, kind):
    assert question_kind(question) == kind


def test_asking_what_kind_of_proposal_passes_is_not_asking_what_a_proposal_is():
    assert asked_term("協働提案ってどんなのが採択されるの") is None
    assert asked_term("協働提案ってどんなもの？") == "協働提案"
    assert question_kind("補助金の申請はどのように行えばよいですか") == "how"


@pytest.mark.parametrize("kind, body, first", [
    ("count", "市内には多くの町内会があります。町内会は1715あり、加入率は77.6%です。", "町内会は1715あり"),
    ("article", "委員会は市の附属機関です。条例第15条で置かれています。", "条例第15条"),
])
def test_a_how_many_or_which_article_answer_leads_with_the_figure(kind, body, first):
    from knowledge.kinds import lead_with

    assert lead_with(body, kind).startswith(first)


@pytest.mark.parametrize("question, asking", [
    ("子ども会の世話役です。夏にお祭りをやりたいです。補助率を教えてください。", "補助率を教えてください。"),
    ("会計をしています。費用が足りません。補助はありますか？対象か知りたいです。", "補助はありますか?対象か知りたいです。"),
    ("補助はありますか。", None),  # nothing but the question
    ("引っ越してきました。よろしくお願いします。", None),  # nothing asked
])
def test_the_asking_sentences_of_a_long_question_are_told_from_its_background(question, asking):
    assert asking_part(question.replace("？", "?")) == asking


@pytest.mark.parametrize("question", ["協働提案ゆうのはなんなら?", "協働いうんはどんなもんなら"])
def test_dialect_what_is_questions_ask_for_a_definition(question):
    assert question_kind(question) == "what"


def test_a_long_question_is_answered_when_its_asking_sentence_finds_the_entry_surely(kb):
    question = ("PTAの役員をしています。学校行事で地域の方に協力してもらうことが多いです。"
                "協働のまちづくり条例とはどういうものですか。")
    answer = kb.ask(question)
    assert not answer.declined and "条例" in answer.text


def test_a_background_naming_a_topic_outside_the_desk_is_not_dropped(kb):
    assert kb.ask("隣の家の猫が庭を荒らして困っています。どこに相談すればいいですか。").declined


@pytest.mark.parametrize("question, term", [("協働ってよく聞くけど、結局なにするの？", "協働"), ("協働ゆうてなんなら？", "協働"),
                                            ("協働ゆうてもようわからんのじゃけど", "協働")])
def test_casual_what_is_questions_name_their_term(question, term):
    assert asked_term(question) == term


def test_a_word_granted_with_iutemo_is_not_asked_for_its_meaning(kb):
    question = "ボランティアいうても、交通費やらは自分で出さんとおえんのん？"  # "volunteering or not, do I pay my own fares?"
    assert asked_term(question) is None
    assert kb.ask(question).declined


@pytest.mark.parametrize("question, term", [("協動のいみ", "協動"), ("NPOっていみわからん", "npo"),
                                            ("協働提案制度について教えてください。", "協働提案制度")])
def test_asking_the_meaning_or_about_a_thing_asks_for_its_definition(question, term):
    assert question_kind(question) == "what" and asked_term(question) == term


@pytest.mark.parametrize("question, term", [("協働ってなんですか", "協働"), ("協働ってなんで進めるの", None),
                                            ("協働ってなんでしょう", "協働")])
def test_asking_why_something_is_done_is_not_asking_what_it_is(question, term):
    assert asked_term(question) == term


@pytest.mark.parametrize("question", ["なんで市は協働を進めているの？", "どうして協働が大事なんですか",
                                      "協働ってなんで市がわざわざ進めとるん？"])
def test_a_why_question_finds_the_entry_giving_the_reason(kb, question):
    assert kb.search(question).hits[0].entry.id == "faq-naze-kyodo"


@pytest.mark.parametrize("question, kind", [("市民協働推進事業と区づくりの違いは？", "difference"),
                                            ("行政提案型と市民提案型ってどうちがうの", "difference"),
                                            ("区づくりと市民協働推進事業、どっちが合う？", "difference"),
                                            ("申請書の書き方を間違うたらどうすれば", "how"),
                                            ("NPOと任意団体て、何がちゃうん？", "difference"),
                                            ("申請書に間違いがあったらどうすれば", "how"), ("団体の運営はどうすればいい？", "how")])
def test_asking_how_two_things_differ_is_its_own_kind(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("question, expect", [("市民協働推進事業って区づくり推進事業とどう違うん？", "faq-hojo-erabikata"),
                                              ("行政提案型と市民提案型ってなにが違うの", "faq-shimin-kyodo-gaiyo")])
def test_a_question_comparing_two_programs_gets_the_entry_comparing_them(kb, question, expect):
    assert kb.search(question).hits[0].entry.id == expect


def test_one_word_typed_two_ways_is_nothing_to_compare(kb):
    top = kb.search("協働と協同って何が違うん？").hits[0].entry
    assert "difference" not in top.facts.kinds


def test_every_kind_a_question_can_ask_is_one_an_entry_may_declare():
    asked = {kind for kind, _ in QUESTION_PATTERNS}
    assert asked == set(KINDS) and set(ENTRY_PATTERNS) <= set(KINDS)


@pytest.mark.parametrize("question", ["協働の担当課", "協働の担当課はどこですか"])
def test_the_section_in_charge_of_collaboration_is_named_by_its_common_descriptions(kb, question):
    assert kb.search(question).hits[0].entry.id == "place-kikaku-somuka"


def test_two_nouns_written_together_are_a_word_a_question_may_mean(kb):
    assert ("ホジョリツ", "補助率") in kb.analyzer.written_nouns("補助率は2分の1です")
    for typed in ("ほじょりつはなんわりですか", "補助律は二分のいちですか"):
        assert kb.search(typed).hits[0].entry.id in {"prog-kuzukuri-rate", "faq-kuzukuri-ritsu"}


def test_a_term_typed_with_a_synonym_finds_the_entry_defining_it(kb):
    assert kb.search("強度のまちづくりってなんですか").hits[0].entry.id == "gen-kyodo-imi"


def test_a_why_question_naming_a_term_is_not_answered_with_its_definition(kb):
    top = kb.search("協働いうてもようわからんのじゃけど、なんで市がそがいに力入れとるん？").hits[0].entry
    assert top.id not in {"gen-kyodo-imi", "faq-kyodo-toha", "jorei-02-kyodo"}


def test_letters_spelt_out_in_hiragana_are_read_as_the_acronym(kb):
    assert kb.ask("えぬぴーおーってなんですか").entry_id == "gen-npo-toha"


@pytest.mark.parametrize("question", ["協働ってぶっちゃけなに？", "市民協働ってざっくり言うと何？", "協働って一言で言うと何？",
                                      "市民共同ってなに？", "協働というのはどんなことなん？", "協働ゆうのはどがなことなん？"])
def test_a_casual_or_mistyped_what_is_question_gets_the_meaning_of_kyodo(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "協働" in answer.title and "意味" in answer.title


def test_english_filler_words_do_not_weigh_against_the_answer(kb):
    answer = kb.ask('What does "kyodo" actually mean?')
    assert not answer.declined and "意味" in answer.title


@pytest.mark.parametrize("question", ["センターどこ？", "センター　どこ", "センターどこ"])
def test_a_name_followed_by_where_asks_where_it_is_not_what_it_is(kb, question):
    answer = kb.ask(question)
    assert not answer.declined and "本庁舎2階" in answer.body
