"""The kind of a question (where / when / how much / who / how / why / what is / can I / how do A and B
differ) and the kinds
an entry answers, so that ranking prefers an entry that answers what was asked, and the answer
puts the sentence that answers it first.

Recognised from the wording of normalized text (NFKC, lower case): a question says its kind in
a few stock phrases (いつ, いくら, どこ, 誰, どうやって, とは, できる). An entry shows it in its
text (an amount in 円, a date, an address, a phone number) or says it with `kinds:`.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from knowledge.analysis import normalize
from knowledge.entries import Entry

# 「協働ってざっくり言うと何？」「協働ってよく聞くけど結局なに？」: hedges before the asking word (not 「ぶっちゃけ何時まで」)
_HEDGE = ("(?:(?:ざっくり|ぶっちゃけ|一言で|ひとことで|簡単に|かんたんに|要するに)(?:言うと|いうと|ゆうと|言えば|いえば)?"
          "|結局|けっきょく|よく(?:聞|き)く(?:けど|けれど|んだけど|んですけど))")
_IN_SHORT = f"(?:、?{_HEDGE}、?){{1,2}}"
# 「…って、具体的にはどういうこと？」 asks what it is; 「補助金って具体的に何に使えるの？」 asks what it pays for
_CONCRETELY = ("、?具体的に(?:は)?、?(?:(?:何|なに|なん)(?:です|でしょう|なの|だろう)?か?[?？。!！]*$|どういう"
               "|(?:何|なに)を?する(?:の|もん)?(?:です)?か?[?？。!！]*$)")
_MAY = "(申し?込|応募|申請|使え|もらえ|参加|利用|対象|でき)"  # 誰が申し込める asks whether one can, not who
# 「教えてもらえますか」 asks politely, not whether one may: 「補助金もらえる？」 asks that
_NOT_A_REQUEST = "".join(f"(?<!{verb})" for verb in ("教えて", "おしえて", "調べて", "しらべて", "説明して", "紹介して",
                                                      "見せて", "送って"))
# In order of precedence: 「いつまでにいくら」 asks for an amount first, 「補助率の違い」 for a comparison.
QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("difference", r"(?<!間)違い|(?<!ま)ちがい|(?<!間)違う(の|ん|か)|(?<!ま)ちがう(の|ん|か)|(何|なに)がちゃう|異なる|"
                   r"どっちが|どちらが|どっちに|どちらに応募"),
    ("how_much", r"(何|なに|なん)(か|が)もらえ|"
                 r"いくら|なんぼ|何円|何万|金額|上限|補助率|何割|費用|お金|賞金|補助額|負担|自己負担|料金|受講料|参加費|利用料|有料|無料"),
    ("article", r"何号|何条|第何|条例番号|どの条"),
    ("count", r"いくつ|何個|何件|何人|何団体|何館|何か所|何カ所|何箇所|どれくらいある|どのくらいある"),
    ("when", r"いつ|何日|何月|何年|なんにち|なんがつ|なんねん(?!かん)|なんじ(?!かん|ゃ|ゅう)|"
             r"締め?切|〆切|期限|期間|時期|何時|開館時間|休館|休み|曜日|説明会|休日|土日|週末|祝日|夜間|"
             r"日程|スケジュール"),
    ("phone", r"電話|連絡先|問い?合わせ先|tel"),
    ("who", rf"(誰|だれ)(?!でも|が{_MAY})|どなた|どこの課|どの課|担当|審査するの|決めるの|運営して|運営者|運営元|が運営"),
    ("where", r"どこ|(?<!居)場所|住所|所在地|何階|アクセス|行き方|窓口"),  # 居場所づくり names an activity
    ("how", r"どうやって|どうすれば|どうしたら|どうすりゃ|どのように|どうやれば|どうやったら|どうやる|"
            r"方法|手続|やり方|仕方|流れ|進め方|申し?込み?方|書き方|始めたい|始め方|探し方|"
            r"しかた(?!な|が)|やりかた|すすめかた|かきかた|はじめかた|さがしかた|申し?込み?かた"),
    ("can", rf"(誰|だれ)(でも|が{_MAY})|できる|できます|でき(ない|ません)|対象|条件|資格|使え|{_NOT_A_REQUEST}もらえ|受けられ|大丈夫|"
            r"参加でき|いいの|いいですか"),
    ("why", r"なぜ|なんで(?!す|も|しょ)|どうして|理由(?!書)"),
    ("what", rf"(?<!こ)とは|って({_IN_SHORT})?(何|なに|なん)|って{_CONCRETELY}|ってどんな|意味|(の|って)いみ|どういう|"
             r"どんな(もの|制度|こと)|目的|何のため|"
             r"(ゆう|いう)(のは|んは)|について(教えて|知りたい)(ください|下さい)?[。!?]*$|どんなもん|(何|なん)なら\??$|(何|なに)を?する(の|もん)|わからん|よくわからない"),
))

# What an entry's text shows it can answer.
ENTRY_PATTERNS: dict[str, re.Pattern[str]] = {kind: re.compile(pattern) for kind, pattern in {
    "how_much": r"\d+万円|\d+円|\d分の\d|\d/\d|補助率|上限",
    "article": r"第\d+(条|号)|\d+号",
    "count": r"\d+(つ|件|人|団体|館|か所|カ所|箇所|法人|町内会)|\d{2,}(あり|を超え)",
    "when": r"\d+月\d+日|\d+時|締切|期間|曜日|休館|から施行|年度から|年度まで",
    "phone": r"\d{2,4}-\d{2,4}-\d{4}",
    "who": r"\d{2,4}-\d{2,4}-\d{4}|担当|審査します|委員会が|運営",
    "where": r"\d+階|所在地|大供|区役所|本庁舎|中学校区に",
    "how": r"まず|手続|流れ|進め方|ご相談ください|申し込|応募する",
    "can": r"対象|条件|できます|なり得|応募できる|満たす",
    "why": r"なぜ|理由|背景",
}.items()}
# An entry defines a term when its title says so: 「協働とは」「「協働」の意味（第2条 定義）」.
_DEFINES = re.compile(r"^[「『\"]?(.+?)[」』\"]?(?:とは|の意味)")
_NOT_WHAT = "時|日|曜|人|円|回|件|歳|年|月|分|個|割|階|番"  # は何時 / って何時 ask when, not what
_ASKS_DEFINITION = re.compile(
    rf"^(.+?)(?:って{_CONCRETELY}|って(?:{_IN_SHORT})?(?:何(?!{_NOT_WHAT})|なに|なん(?!じ|で(?!す|しょ))|どういう|よく聞く|結局|いみ)|(?:ゆう|いう)て(?!も)|(?:ゆう|いう)ても(?=.*わから)|(?<!こ)とは|の意味|のいみ|"
    rf"ってどんな(?:もの|こと|制度)|(?:とい|ゆ|い)うのは(?:何(?!{_NOT_WHAT})|なに|なん(?!じ)|どんな(?:もの|こと)|どういう|$)|は何(?!{_NOT_WHAT})|について(?:教えて|知りたい)(?:ください|下さい)?[。!?]*$)")
SHORT_TERM = 8  # characters: a question this short with no particle may be a term on its own
_SPACE_OR_PARTICLE = re.compile(r"\s|[のをがはにでともへ]")
_ASKING_TAIL = re.compile(r"(?:どこ|どけぇ|いつ|いくら|なんぼ|何時|何円|だれ|誰)$")  # 「センターどこ」 asks where, not what
_BRACKETS = re.compile(r"[「」『』\"（）()]")
_JAPANESE_SPACING = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")
LEADS = ("how_much", "count", "article", "when", "phone", "who", "where")  # kinds whose answering sentence moves to the front
_SENTENCE = re.compile(r"[^。]*。|[^。]+$")
_TOLD_OR_ASKED = re.compile(r"[^。!?！？\n]+[。!?！？\n]*")
_ASKS = re.compile(r"か[。?？]*$|[?？]|教えて|ください|知りたい|ますか|でしょうか")
# …and, as one of several asks in a message, a musing (「駐車場もあるんかな」); alone, 「町内会かな」 answers a question
_ASKS_BESIDE = re.compile(_ASKS.pattern + r"|(かな|かね|かのう|じゃろ)[。!！]*$")
_TWO_ASKS = re.compile(r"(?<=のか)、")  # 「対象になるのか、また何年続けて…のか」 asks twice
_ALTERNATIVE = re.compile(r"^(それとも|または|もしくは)")
_PUNCTUATION = re.compile(r"[。!?！？\s]")
SHORT_ALTERNATIVE = 6  # characters: a sentence this short (「後払い？」) completes the one before it,
_ASKS_OF_ITS_OWN = re.compile(r"(は|って|も)$|ある|いる|あり|でき")  # unless it asks of its own (「参加費は？」「駐車場ある？」)
_CONTINUATION = re.compile(r"^(この|その|これ|それ|ただし|また|なお|さらに|そのため)")


def asks(text: str) -> bool:
    """Whether a text is put as a question (「…ですか」「…？」「教えて」), not a statement (「お祭りをしたい」)."""
    return bool(_ASKS.search(text))


def question_kind(text: str, comparing: bool = True) -> str | None:
    """The kind a question asks, first in precedence; `comparing=False` when it names only one thing,
    so it asks no difference (「協働と協同の違い」 is a 'what is')."""
    folded = _JAPANESE_SPACING.sub("", normalize(text))  # 「まちづくりって なんのこと」, spaced as in hiragana
    return next((kind for kind, pattern in QUESTION_PATTERNS
                 if (comparing or kind != "difference") and pattern.search(folded)), None)


def entry_kinds(entry: Entry) -> frozenset[str]:
    folded = normalize(f"{entry.title}\n{entry.body}")
    shown = {kind for kind, pattern in ENTRY_PATTERNS.items() if pattern.search(folded)}
    if defined_term(entry) or entry.defines:
        shown.add("what")
    return frozenset(shown | set(entry.facts.kinds))


def defined_term(entry: Entry) -> str | None:
    """The term an entry defines, by its title (「協働とは」 → 協働), or None."""
    match = _DEFINES.match(normalize(entry.title))
    return _BRACKETS.sub("", match.group(1)) if match else None


def asked_term(question: str) -> str | None:
    """The term a 'what is' question asks about (「協働ってなに？」 → 協働), or the whole question
    when it is one short word (「協働」「多様な主体」), or None."""
    folded = normalize(question).strip().rstrip("?？!！。")
    match = _ASKS_DEFINITION.match(re.sub(r"\s+", "", folded))
    if match:
        return _BRACKETS.sub("", match.group(1)).strip()
    if len(folded) > SHORT_TERM or _SPACE_OR_PARTICLE.search(folded) or _ASKING_TAIL.search(folded):
        return None
    return folded


def lead_with(body: str, kind: str | None) -> str:
    """The body with the first sentence that answers `kind` moved to the front, when that
    sentence stands on its own (does not start with この, ただし …)."""
    if kind not in LEADS:
        return body
    sentences = [s for s in _SENTENCE.findall(body) if s]
    pattern = ENTRY_PATTERNS[kind]
    for i, sentence in enumerate(sentences):
        if pattern.search(normalize(sentence)):
            if i == 0 or _CONTINUATION.match(sentence):
                return body
            return "".join([sentence, *sentences[:i], *sentences[i + 1:]])
    return body


def asking_part(question: str) -> str | None:
    """The sentences of a question that ask, when others only tell its background (「町内会の会計を
    しています。…補助はありますか。」), or None."""
    sentences = _question_sentences(question)
    asking = [s for s in sentences if _ASKS.search(s)]
    return "".join(asking) if asking and len(asking) < len(sentences) else None


class OtherAsks(NamedTuple):
    rest: str  # the sentences not naming the word
    naming: str  # those naming it
    rest_leads: bool  # the rest comes first: it cannot lean on the sentences naming the word


def other_asks(question: str, word: str) -> OtherAsks | None:
    """The question without the asking sentences naming `word` (normalized), when another sentence
    still asks something (「研修はありますか。参加費は？」 without 参加費), and those sentences; or
    None. An alternative (「先にもらえるの？それとも後払い？」「…の？後払い？」) is one question with
    the sentence before it."""
    sentences: list[str] = []
    for sentence in (c for s in _question_sentences(question) for c in _TWO_ASKS.split(s)):
        if sentences and (_ALTERNATIVE.match(sentence) or _completes(sentence)):
            sentences[-1] += sentence
        else:
            sentences.append(sentence)
    naming = [s for s in sentences if word.replace(" ", "") in re.sub(r"\s+", "", normalize(s))]
    rest = [s for s in sentences if s not in naming]
    asks = all(_ASKS_BESIDE.search(s) for s in naming) and any(_ASKS.search(s) for s in rest)
    if not (naming and asks):
        return None
    return OtherAsks("".join(rest), "".join(naming), rest_leads=sentences.index(rest[0]) < sentences.index(naming[0]))


def _question_sentences(question: str) -> list[str]:
    """A question's sentences: split after 。？！ and at line ends (an entry's body splits at 。 only)."""
    return [s.strip() for s in _TOLD_OR_ASKED.findall(question) if s.strip()]


def _completes(sentence: str) -> bool:
    """A bare alternative (「後払い？」) completing the question before it, not a question of its own."""
    bare = _PUNCTUATION.sub("", sentence)
    return len(bare) <= SHORT_ALTERNATIVE and question_kind(bare) is None and not _ASKS_OF_ITS_OWN.search(bare)
