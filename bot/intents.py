"""Recognizing the desk's global intents in natural phrasing.

Commands (cancel, back, menu …) are recognized only in short messages, so a long answer such as
「町内会をやめたい人が増えている」 is never mistaken for 「やめる」. Starting a consultation or a
proposal needs a wish (〜したい, お願い), not a question about it: 「相談はどこでできる？」 is a
knowledge question.
"""
from __future__ import annotations

import re
from enum import StrEnum

from knowledge.analysis import fold


class Intent(StrEnum):
    MENU = "menu"
    CONSULT = "consult"
    PROPOSE = "propose"
    STATUS = "status"
    CANCEL = "cancel"
    BACK = "back"
    RESTART = "restart"
    HELP = "help"
    HUMAN = "human"
    FIND_GROUPS = "find_groups"  # 仲間をさがす: a search of the group directory
    REGISTER_GROUP = "register_group"  # 団体登録
    UPDATE_GROUP = "update_group"  # 団体情報の変更 (the person's own registered group)
    LEAVE_GROUP = "leave_group"  # 団体の登録をやめる
    GRANTS = "grants"  # 助成金ナビ: 「どの補助金が使える？」
    GREET = "greet"  # こんにちは: answered with what the desk does, not as a question it cannot answer
    THANK = "thank"  # ありがとう
    ACK = "ack"  # わかりました


COMMAND_MAX_CHARS = 20
REFERENCE = re.compile(r"(?<![A-Z0-9])([SPG])-?(\d{4})-?(\d{1,5})(?![0-9])", re.I)
_QUESTION = re.compile(r"(どこ|どう(やって|すれば|したら)|いつ|誰|だれ|何|なに|どんな|方法|とは|って\?|ですか|ますか|の\?|教えて)")
_WISH = (r"(したい|しよう|します|させて|お願い|おねがい|申し込み|申込|を始め|をはじめ|に乗って|があります|がある"
         r"|あるんだ|あるのです|したくて|を出したい|を受けたい)")
# A group (団体, 仲間 …) looked for: 「北区で防災をやっている団体を探したい」「子ども食堂を手伝ってくれる団体ある？」
_GROUP_WORD = r"(団体|だんたい|グループ|仲間|なかま|サークル|npo|町内会|自治会|協力者|パートナー|企業)"
# (おる, おらん: Okayama dialect for いる, いない)
_FIND_GROUPS = re.compile(_GROUP_WORD + r"(さん)?(を|は|が|って)?(探|さが|見つけ|みつけ|紹介して|知りたい|しりたい"
                          r"|(あ|い|お)る(\?|かな|ん\?)|(あり|い|おり)ま(す|せん)か|あれば|いれば|おれば|ない(\?|ですか|かな)"
                          r"|いない|おらん)|" + _GROUP_WORD + r"(さん)?(と|に)(つなが|繋が|出会|であ)(りたい|れ|える|る(には|方法))"
                          r"|(団体|だんたい|グループ|サークル|npo)(を)?教えて|(団体|だんたい|npo)の(一覧|いちらん|リスト)"
                          r"|" + _GROUP_WORD + r"(って)?[、,]?((この|その)(へん|辺|あたり|辺り)|近く|ちかく|近所|きんじょ|周り|まわり|地元)"
                          r"(に|で)?(は|も)?(おらん|おる|いない|いる|ない|ある|あります|います|ありません|いません)"
                          r"(か|かな|かね|ん|の)?[?]?$"
                          r"|(して|しと|しょう|やって|やっと|やりょう)(い)?る(団体|グループ|サークル)(は|って)?[?]?$")
# …or a group named by what it does, alone: 「国際交流の団体」「環境のNPO 東区」「南区で防災やってる町内会」
# 「南区の町内会で防災やってるとこ」; not one named by a program's terms (「応募できる団体」)
_WARD = r"(北区|中区|東区|南区|きたく|なかく|ひがしく|みなみく)"
_GROUP_NAMED = re.compile(r"^.{2,24}(の|る|な|た|で)(団体|だんたい|グループ|サークル|npo|町内会|自治会)(さん)?" + _WARD + r"?[?]?$"
                          r"|" + _GROUP_WORD + r".*(して|しと|しょう|やって|やっと|やりょう)(い)?る(とこ|ところ)[?]?$")
_NOT_A_NAMED_GROUP = re.compile(r"応募|申請|申し?込|対象|補助|助成|登録|資格|条件|認定|設立|作る|つくる|作りたい")
# The search asked for with nothing to search on: 「仲間をさがす」「団体 検索」
_BARE_SEARCH = re.compile(r"^(団体|だんたい|グループ|仲間|なかま)(を|の)?(検索|けんさく|さがす|探す|さがし|探し)"
                          r"(したい|たい|する)?(です)?[。!]*$")
# …in English: "Is there any volunteer group for foreigners I can join?" (the group right after the asking
# words; not a grant, a fee or a form for groups)
_FIND_GROUPS_ELSEWISE = re.compile(r"\b(is there|are there|looking for|find|introduce|recommend)\s+((any|some|a|an)\s+)?"
                                   r"([a-z]+\s+){0,2}(groups?|organi[sz]ations?|npos?|clubs?|circles?)\b")
_NOT_A_SEARCH_ELSEWISE = re.compile(r"grant|subsid|fund|regist|fee|deadline|form|application|start|parking"
                                    r"|(?<!that )(?<!who )(?<!which )support")
# Not a search: 「センターを運営している団体は？」 asks who runs it; 「補助金もらうのに団体がいるん？」 whether one is
# needed; 「この団体とつながりたい」 means a group already found; 「町内会とつながりたいけど加入するには？」 how to join;
# 「採択された団体の一覧」 asks about past programs and awards
_NOT_A_SEARCH = re.compile(r"^(この|その|あの)(団体|グループ)(と|に)|採択|受賞|表彰|さいたく|じゅしょう|ひょうしょう"
                           r"|(運営|審査|管理|主催|担当|委託|実施)(して|しと|しょう|やって|やっと)"
                           r"|(のに|には|ために|申請|応募|事業|補助|助成).*(が|は)(いる|要る)|加入|入会")
_REGISTER_GROUP = re.compile(r"^(団体|グループ)(を|の)?(登録|掲載)(する|します|したい|をしたい|を?お願い(します)?"
                             r"|を?申し込(む|みたい))?[。!]*$|(団体|グループ)(を|の)?(登録|掲載)(を)?(したい|お願い|申し込)")
# The same wishes in English or romaji (folded: no spaces): 「I'd like to make a proposal」「soudan shitai」.
_PROPOSE_ELSEWISE = re.compile(r"(want|like|wish|hope)to(make|submit|send|bring)?(a)?proposal|(want|like)topropose"
                               r"|^teian(o)?(shi|onegai)")
_CONSULT_ELSEWISE = re.compile(r"(want|like|wish|need)to(consult|getadvice|talktoa(staff|person))|^soudan(o)?(shi|onegai)")
# 助成金ナビ: 「どの補助金が使える？」「うちに合う補助金、どれがええか選んでもらえる？」「Which grant fits our group?」
_GRANT = r"(補助|助成|ほじょ|じょせい)(金|制度|きん|せいど)"
_GRANTS = re.compile(rf"どの{_GRANT}|^(補助金|助成金|ほじょきん|じょせいきん)(を)?(さがす|探す|さがしたい|探したい)[。!]*$"
                     rf"|(合う|あう|合った|あった|向いて(い)?る|使える|つかえる){_GRANT}.*(どれ|選(ん|べ|び|ぶ)|えら|調べ|しらべ|探し|さがし)"
                     rf"|{_GRANT}.*(どれ|どっち)(が|を)?(いい|ええ|合う|あう|使え|向いて)"
                     r"|which(kindof)?(grant|subsid|funding)|what(kindsof|kindof)?(grant|subsid|funding)\w*?(can|could|should)(we|i)"
                     r"|(grant|subsid|funding)\w*(that)?(fits|suits)")
# …unless it asks a detail of one: 「補助金はどれがいいか、締め切りはいつまで？」「What grant deadline is next?」
_GRANT_DETAIL = re.compile(r"締め?切|しめきり|いつ|いくら|なんぼ|金額|上限|補助率|選考|審査|基準|deadline|when|howmuch|amount")
# What the desk itself can do, asked in a sentence: 「このbotってなにができるん？」「何を聞いたらいいかわからない」
# 「ここって何ができるんですか？」「何が聞けますか」 "What kind of questions can you help me with?"
_ABOUT_DESK = re.compile(r"(bot|ボット|ぼっと|チャット|ちゃっと|この窓口|あなた|^ここ|^こちら)(って|は|で|では|に)?"
                         r"(何|なに|なん)(が|を|に)?(でき|出来|聞|き(け|い)|答|こたえ)|(何|なに)を(聞|き)(いたら|いたらいい|けば|けばいい).*(わから|分から)"
                         r"|^(何|なに|なん)(が|を)(聞け|きけ)"
                         r"|^(hi|hello)?[!.]?(whatcanyou(do|helpmewith|answer)|what(kind|sort)s?ofquestions(can|do|should)(you|i)"
                         r"\w*|whatcaniask(you|here)?|howdoiuse(this|you))[?.!]*$"
                         r"|^(hi|hello)?[!.]?what((kind|sort)s?of)?(help|support|services?)(can|do)(i|we)(get|find|ask)((at|from)(this|your)(desk|chat)|here)")
_UPDATE_GROUP = re.compile(r"(団体|グループ)(の)?(情報|登録|掲載)(内容)?(の|を)?(変更|修正|更新)")
_LEAVE_GROUP = re.compile(r"(団体|グループ)(の)?(登録|掲載)(を|の)?(やめ|止め|取りやめ|取り止め|取り消|取消|削除|解除)")

def _said_once_or_more(words: str) -> re.Pattern:
    """A message of these words only, one or more (「ありがとう、たすかったわ」「こんにちは、はじめまして」; folded,
    so without spaces or commas)."""
    return re.compile(rf"^((?:{words})[!。.ー~〜wｗ]*)+$")


_COMMANDS: list[tuple[Intent, re.Pattern]] = [
    (Intent.CANCEL, re.compile(r"^(やめ(る|ます|たい|て)?|止め(る|ます)|キャンセル|中止|取り消し|取消|cancel|もういい(です)?)[。!]*$")),
    (Intent.BACK, re.compile(r"^(戻る|もどる|戻って|戻りたい|前の質問|一つ前|ひとつ前|前に戻る|back)[。!]*$")),
    (Intent.RESTART, re.compile(r"^(最初から(やり直(す|し)(たい)?)?|はじめから|やり直(す|し|したい)|リセット|restart)[。!]*$")),
    (Intent.MENU, re.compile(r"^(メニュー|めにゅー|menu|トップ|ホーム|最初の画面)(を(表示|見せて))?[。!]*$")),
    (Intent.HELP, re.compile(r"^(ヘルプ|help|使い方|つかいかた|何ができる(の)?|なにができる(の)?|できること)[?。!]*$")),
    (Intent.STATUS, re.compile(r"(状況|進捗|ステータス|状態)(確認|を?(教えて|知りたい|見たい|は|どう))|^状況確認$"
                               r"|申し込んだ(件|相談|提案)(は|どう)|(相談|提案|申し?込み?)した(件|もの|の)?(は|って)?(どう|どこまで)"
                               r"|^(私|わたし)の(相談|提案|案件)")),
    (Intent.GREET, _said_once_or_more(r"こんにち(は|わ)|こんばん(は|わ)|おはよう(ございます)?|はじめまして|初めまして|hello|hi|hey"
                                      r"|よろしく(お願いします|おねがいします)?")),
    (Intent.THANK, _said_once_or_more(r"ありがと(う|うございます|うございました)?(ね|な|ねえ|ねぇ|の|さん)?|どうも(ありがとう)?"
                                      r"|(助か|たすか)(りました|った(わ|よ|です)?|る(わ)?|ります)"
                                      r"|おおきに|サンキュー|さんきゅ|thanks(alot)?|thankyou(verymuch|somuch)?|thx")),
    (Intent.ACK, re.compile(r"^(了解(です|しました)?|りょうかい|わかりました|分かりました|承知しました)[!。ー~〜]*$")),
    (Intent.HUMAN, re.compile(r"(人|ひと|職員|しょくいん|担当者?|たんとう(しゃ)?|スタッフ|オペレーター)(の(方|かた))?(と|に)"
                              r"(話|はな|相談|そうだん|つない|繋い|代わ|かわ)|有人|(電話|でんわ)で(話|はな)")),
]


def detect(text: str) -> Intent | None:
    folded = fold(text)
    if not folded:
        return None
    if len(folded) <= COMMAND_MAX_CHARS:
        for intent, pattern in _COMMANDS:
            if pattern.search(folded):
                return intent
    if _LEAVE_GROUP.search(folded):
        return Intent.LEAVE_GROUP
    if _UPDATE_GROUP.search(folded):
        return Intent.UPDATE_GROUP
    if _REGISTER_GROUP.search(folded):
        return Intent.REGISTER_GROUP
    if asks_only_to_search(text) or (len(folded) <= 60 and _FIND_GROUPS.search(folded)
                                     and not _NOT_A_SEARCH.search(folded)):
        return Intent.FIND_GROUPS
    if len(folded) <= 30 and _GROUP_NAMED.search(folded) and not (_NOT_A_SEARCH.search(folded)
                                                                    or _NOT_A_NAMED_GROUP.search(folded)):
        return Intent.FIND_GROUPS
    spaced = text.lower()
    if len(folded) <= 160 and _FIND_GROUPS_ELSEWISE.search(spaced) and not _NOT_A_SEARCH_ELSEWISE.search(spaced):
        return Intent.FIND_GROUPS
    if len(folded) <= 60 and _ABOUT_DESK.search(folded):
        return Intent.HELP
    if len(folded) <= 60 and _GRANTS.search(folded) and not _GRANT_DETAIL.search(folded):
        return Intent.GRANTS
    if len(folded) > 60 or _QUESTION.search(folded):
        return None
    if re.search(r"(提案|ていあん)(が|を)?" + _WISH, folded) or _PROPOSE_ELSEWISE.search(folded):
        return Intent.PROPOSE
    if re.search(r"(相談|そうだん)(が|を)?" + _WISH, folded) or _CONSULT_ELSEWISE.search(folded):
        return Intent.CONSULT
    return None


def asks_only_to_search(text: str) -> bool:
    """A wish to search the group directory that names nothing to search for."""
    return bool(_BARE_SEARCH.search(fold(text)))


def find_reference(text: str) -> str | None:
    match = REFERENCE.search(fold(text).upper())
    if not match:
        return None
    kind, year, number = match.groups()
    return f"{kind.upper()}-{year}-{int(number):04d}"


def looks_like_question(text: str) -> bool:
    folded = fold(text)
    return folded.endswith("?") or bool(_QUESTION.search(folded))
