"""助成金ナビ's replies: one question at a time with a button per option, then a card per program
that fits (rate, cap, eligibility and whether a round is open today), each with 詳しく見る and 相談する."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.messages import Card, Choice, Say
from bot.postbacks import Action, about_question, encode
from bot.replies import TO_MENU, TO_STAFF
from knowledge.grants import SEPARATOR, GrantGuide, Program, Step
from knowledge.sources import Source

MAX_PROGRAMS = 3  # with the lead and the closing line, a LINE reply holds at most 5 messages
START_OVER = Choice("条件を変える", encode(Action.GRANTS))
CONSULT = Choice("相談する", encode(Action.CONSULT))
NOT_AN_OPTION = ("申し訳ありません。お送りいただいた内容が、どの選択肢にあたるか分かりませんでした。"
                 "いちばん近いものをボタンからお選びください。")


def grant_step(step: Step, path: str, number: int, total: int, lead: str = "") -> Say:
    """The next question; each option's button carries the answers so far plus its own, and 戻る
    the answers before the last one."""
    prefix = f"{path}{SEPARATOR}" if path else ""
    choices = tuple(Choice(o.label, encode(Action.GRANTS, value=prefix + o.id)) for o in step.options)
    back = (Choice("戻る", encode(Action.GRANTS, value=path.rpartition(SEPARATOR)[0])),) if path else ()
    text = f"{lead}\n" if lead else ""
    return Say(f"{text}（{number}/{total}）{step.prompt}", choices + back + (TO_MENU,))


def grant_start_lead() -> str:
    return "使えそうな補助制度を、4つの質問でおさがしします。"


def grant_results(guide: GrantGuide, answers: dict[str, str], today: dt.date,
                  sources: Mapping[str, Source]) -> list[Say | Card]:
    programs = guide.matches(answers, today)
    if not programs:
        return [Say("この条件に合う補助制度は、こちらでは見つかりませんでした。"
                    "ほかの支援や市との協働のご相談は、職員がお受けします。", (CONSULT, START_OVER, TO_MENU))]
    conditions = "".join(f"「{guide.label(s.key, answers[s.key])}」" for s in guide.steps if s.key in answers)
    consult = _consult(guide, answers, conditions)
    lead = f"{conditions}の条件に合いそうな制度は{len(programs)}件です。"
    if guide.wants_now(answers) and not any(p.open_on(today) for p in programs):
        lead += "\nいま受付中と確認できる募集回はありません。次の募集時期は相談でお尋ねください。"
    shown = programs[:MAX_PROGRAMS]
    cards: list[Say | Card] = [Say(lead)]
    to_staff = Choice(TO_STAFF.label, consult.data)
    cards.extend(_program_card(p, today, sources, to_staff) for p in shown)
    cards.append(Say("応募できるかどうかは募集要項で決まります。詳しくは相談でお尋ねください。",
                     (consult, START_OVER, TO_MENU)))
    return cards


def _consult(guide: GrantGuide, answers: dict[str, str], conditions: str) -> Choice:
    """相談する after the finder: the consultation starts knowing the conditions chosen (staff see them
    as the chat's question) and who is asking, so neither is asked again."""
    first = guide.steps[0].key if guide.steps else ""
    who = guide.label(first, answers[first]) if first in answers else ""
    return Choice("相談する", about_question(Action.CONSULT, "", f"助成金ナビ: {conditions}", value=who))


def _program_card(program: Program, today: dt.date, sources: Mapping[str, Source], to_staff: Choice) -> Card:
    status = ("受付中　" if program.open_on(today) else "") + program.round_status(today)
    cited = "、".join(f"{sources[i].title}（{sources[i].date} 時点）" for i in program.cites if i in sources)
    return Card(title=program.name,
                fields=(("補助率", program.rate), ("上限", program.cap), ("対象", program.eligibility),
                        ("募集", status)), footer=f"出典: {cited}" if cited else "",
                buttons=(Choice("詳しく見る", encode(Action.SHOW, entry=program.entry)), to_staff),
                kind="answer")
