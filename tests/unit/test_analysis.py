import pytest

from knowledge.analysis import SUDACHI_MAX_BYTES, Analyzer, bigrams, chunks, normalize
from knowledge.profile import Vocabulary


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(Vocabulary(
        synonyms=(("補助金", "助成金", "支援金"), ("町内会", "自治会"), ("若者", "若い人")),
        question_words=frozenset({"教える", "何"}),
    ))


def test_particles_auxiliaries_and_symbols_are_dropped(analyzer):
    assert analyzer.terms("町内会の活動に使える補助金ってある？") == ["町内会", "活動", "使う", "補助金"]


def test_office_synonyms_fold_to_one_word_including_multi_word_phrases(analyzer):
    assert analyzer.terms("自治会で助成金") == ["町内会", "補助金"]
    assert analyzer.terms("支援金") == ["補助金"]
    assert analyzer.terms("若い人向け") == ["若者", "向け"]


def test_spelling_variants_share_a_normalized_form(analyzer):
    assert analyzer.terms("申込み") == analyzer.terms("申し込み") == analyzer.terms("申込")
    assert analyzer.terms("問合せ") == analyzer.terms("問い合わせ")


def test_compounds_also_yield_their_mode_a_parts(analyzer):
    assert analyzer.terms("ＮＰＯ法人") == ["npo法人", "npo", "法人"]
    assert analyzer.analyze("ＮＰＯ法人").forms == ["npo法人"]


def test_question_words_carry_no_topic(analyzer):
    assert analyzer.terms("何を教えて") == []


def test_width_and_thousands_separators_are_normalized():
    assert normalize("ＡＢＣ　２，０００，０００円 ｶﾅ") == "abc 2000000円 カナ"


def test_a_dash_typed_for_the_long_vowel_after_katakana_is_read_as_one(analyzer):
    assert normalize("センタ-の場所") == normalize("センタ－の場所") == "センターの場所"
    assert normalize("086-803-1062") == "086-803-1062" and normalize("NPO-法人") == "npo-法人"
    assert "センター" in {u.form for u in analyzer.analyze("協働推進センタ-はどこ").units}


def test_bigrams_ignore_punctuation_and_keep_single_characters():
    assert bigrams("シェア・ウェブ、市") == ["シェ", "ェア", "ウェ", "ェブ", "市"]


def test_text_over_the_sudachi_input_limit_is_analyzed_in_chunks(analyzer):
    text = "協働のまちづくり。" * 6000  # 162,000 bytes
    assert len(text.encode()) > SUDACHI_MAX_BYTES
    assert all(len(piece.encode()) <= SUDACHI_MAX_BYTES for piece in chunks(text))
    assert "".join(chunks(text)) == text
    assert analyzer.terms(text).count("協働") == 6000
