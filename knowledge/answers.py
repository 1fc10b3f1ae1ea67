"""Shaping a search result into an answer for a chat bubble, or an honest decline.

An answer leads with what has ended by the day of the question (a closed round, an ended plan
period), then with the sentence that answers the kind of question asked; it cites its source
and date, and points to the centre where a figure may change, the source is secondary, or the
entry is past its review date. A decline says where to go instead when the routing table knows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from knowledge import calibration
from knowledge.analysis import bigrams, jaccard
from knowledge.entries import Entry
from knowledge.facts import japanese_date
from knowledge.index import SearchResult
from knowledge.kinds import lead_with
from knowledge.profile import CityProfile
from knowledge.routing import Route
from knowledge.sources import Source

ANSWER_THRESHOLD = calibration.THRESHOLD
MAYBE_FLOOR = 0.2  # a decline above this confidence offers its best entries (bench: see the README)
UNSURE_MARGIN = 0.1  # an answer given with a confidence this close to the threshold is kept for staff
RELATED_LIMIT = 3
NEARBY_LIMIT = 2  # entries offered beside a decline on a detail the sources do not give
NEARBY_SHARE = 0.3  # of the unconfirmed entry's score: others far below it (土日もやっとる？ → 実績) are not near
BUBBLE_CHARS = 400


@dataclass(frozen=True)
class Related:
    id: str
    title: str
    label: str  # for a button: the entry's short title (whole words) or its title


@dataclass(frozen=True)
class Answer:
    text: str
    abstained: bool
    confidence: float  # calibrated: the probability that this answer is right
    reason: str  # answered | out_of_scope | empty | vague | not_japanese
    entry_id: str | None = None
    title: str = ""
    body: str = ""  # what ended first, then the part asked for, then the rest
    source: str = ""
    as_of: str = ""
    caution: str = ""
    related: tuple[Related, ...] = ()
    sources: tuple[dict, ...] = field(default_factory=tuple)
    kind: str | None = None  # the kind of question (where, when, how_much, who, how, what, can)
    notes: tuple[str, ...] = ()  # dated facts compared with the day of the question
    route: Route | None = None  # with a decline: where to go instead
    route_text: str = ""  # the route as one sentence for the reply
    maybe: tuple[Related, ...] = ()  # with a decline: entries that may hold the answer, offered as buttons
    gaps: tuple[Route, ...] = ()  # with an answer: parts of the question it does not answer, and where to ask

    @property
    def declined(self) -> bool:
        return self.abstained

    @property
    def partial(self) -> bool:
        """Given, saying some parts of the question are not answered here."""
        return not self.abstained and bool(self.gaps)

    @property
    def unsure(self) -> bool:
        """Given, but with a confidence just above the decline threshold."""
        return not self.abstained and self.confidence < ANSWER_THRESHOLD + UNSURE_MARGIN

    def as_json(self, question_id: str | None, question: str) -> dict:
        return {
            "id": question_id, "q": question, "answer": self.text, "abstained": self.abstained,
            "confidence": round(self.confidence, 4), "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Context:
    """What an answer needs besides its entry: the city, its sources and the day of the question."""
    profile: CityProfile
    today: dt.date
    registry: Mapping[str, Source] = field(default_factory=dict)


def compose(result: SearchResult, lookup: Callable[[str], Entry | None], context: Context,
            confidence: float, threshold: float = ANSWER_THRESHOLD) -> Answer:
    sources = tuple({"id": h.entry.id, "title": h.entry.title, "score": round(h.score, 4)} for h in result.hits[:3])
    if not result.hits or confidence < threshold:
        return maybe(decline(context.profile, "out_of_scope", confidence, sources), result)
    top = result.hits[0].entry
    return answer_from_entry(top, context, confidence, _related(result, lookup), sources, result.kind)


def answer_from_entry(entry: Entry, context: Context, confidence: float = 1.0,
                      related: tuple[Related, ...] = (), sources: tuple[dict, ...] = (),
                      kind: str | None = None) -> Answer:
    notes = entry.facts.notes(context.today)
    body = _fit("".join(notes) + lead_with(entry.body, kind), BUBBLE_CHARS)
    caution = _caution(entry, context)
    return Answer(
        text=_answer_text(entry.title, body, caution, entry.source, entry.as_of), abstained=False,
        confidence=confidence, reason="answered", entry_id=entry.id,
        title=entry.title, body=body, source=entry.source, as_of=entry.as_of, caution=caution,
        related=related, sources=sources or ({"id": entry.id, "title": entry.title, "score": 0.0},),
        kind=kind, notes=notes,
    )


def _answer_text(title: str, body: str, caution: str, source: str, as_of: str) -> str:
    return "\n\n".join(part for part in (f"【{title}】\n{body}", caution, f"出典: {source}（{as_of} 時点）") if part)


def with_gaps(answer: Answer, profile: CityProfile, routes: tuple[Route, ...]) -> Answer:
    """An answer to the rest of a question some of whose parts the sources do not give (「研修はありますか。
    参加費は？」) or the desk does not answer (「センターはどこ？駐車場は？」): the body ends saying so,
    and where to ask, after what it can answer."""
    general = profile.general_contact or "市の担当窓口"
    by_place: dict[tuple[bool, str], list[str]] = {}
    for route in routes:
        topics = by_place.setdefault((route.in_remit, route.where(general)), [])
        if route.topic not in topics:
            topics.append(route.topic)
    notes = [(f"{'、'.join(topics)}は、この窓口の資料では確認できません。" if in_remit
              else f"{'、'.join(topics)}については、この窓口ではお答えできません。") + f"{where}でご確認ください。"
             for (in_remit, where), topics in by_place.items()]
    body = f"{answer.body}\n\nなお、{''.join(notes)}"
    return replace(answer, body=body, gaps=routes,
                   text=_answer_text(answer.title, body, answer.caution, answer.source, answer.as_of))


def _caution(entry: Entry, context: Context) -> str:
    secondary = any(not source.primary for c in entry.facts.cites if (source := context.registry.get(c)))
    stale = ""
    if entry.facts.overdue(context.today) and entry.facts.review_by:
        stale = (f"この情報は{entry.as_of}時点のもので、見直しの時期（{japanese_date(entry.facts.review_by)}）"
                 "を過ぎています。")
    if stale or ((secondary or entry.check_with_centre) and _MAY_CHANGE not in entry.body):  # said once, not twice
        return stale + centre_pointer(context.profile)
    return ""


_MAY_CHANGE = "変わることがあります"


def centre_pointer(profile: CityProfile) -> str:
    return f"金額・日程・連絡先などは{_MAY_CHANGE}。最新の情報は{_centre(profile)}でご確認ください。"


def _centre(profile: CityProfile) -> str:
    return profile.centre_name + (f"（電話 {profile.centre_phone}）" if profile.centre_phone else "")


DECLINE_TEXT = {
    # no route says where it belongs: it may be the desk's own topic, asked in words the desk did not follow
    "out_of_scope": ("申し訳ありません。このご質問にお答えできる情報が、この窓口の資料では見つかりませんでした。"
                     "言葉を変えてもう一度お送りいただくか、職員への相談をご利用ください。"
                     "市のほかの手続きは{contact}でご確認ください。"),
    "routed": ("申し訳ありません。{topic}については、この窓口ではお答えできません。{contact}でご確認ください。"
               "協働のことなら、職員への相談もご利用いただけます。"),
    "gap": ("申し訳ありません。{topic}は、この窓口の資料では確認できません。{contact}でご確認ください。"
            "職員への相談もご利用いただけます。"),
    "vague": ("どのようなことについてのご質問でしょうか。「補助金の締め切りはいつ？」のように、何について知りたいかを"
              "添えて、もう一度お送りください。メニューからも選べます。"),
    "empty": "ご質問の内容を文字でお送りください。協働のまちづくり、補助制度、協働の提案・相談についてお答えします。",
    "not_japanese": ("申し訳ありません。日本語でご質問ください。(Sorry, this desk answers questions in Japanese.) "
                     "職員への相談もご利用いただけます。"),
}


def decline(profile: CityProfile, reason: str, confidence: float = 0.0, sources: tuple[dict, ...] = (),
            route: Route | None = None) -> Answer:
    general = profile.general_contact or "市の担当窓口"
    if route is None:
        text = DECLINE_TEXT[reason].format(contact=general)
        return Answer(text=text, abstained=True, confidence=confidence, reason=reason, sources=sources)
    where = route.where(general)
    text = DECLINE_TEXT["gap" if route.in_remit else "routed"].format(topic=route.topic, contact=where)
    return Answer(text=text, abstained=True, confidence=confidence, reason=reason, sources=sources,
                  route=route, route_text=f"{route.topic}: {where}")


ENGLISH_MAYBE_TEXT = ("申し訳ありません。日本語でご質問ください。(Sorry, this desk answers questions in Japanese.) "
                      "近いと思われる情報を下に表示します。(Possibly related answers, in Japanese, are below.)")
MAYBE_TEXT = ("はっきりとはお答えできませんが、次の中にお探しの情報があるかもしれません。"
              "当てはまらなければ、職員への相談をご利用ください。")


def maybe(declined: Answer, result: SearchResult) -> Answer:
    """A decline whose best entries came close: offered as buttons (「もしかして」), never asserted."""
    if declined.confidence < MAYBE_FLOOR or not result.hits:
        return declined
    return replace(declined, text=MAYBE_TEXT, maybe=_buttons(result, RELATED_LIMIT))


def unconfirmed(profile: CityProfile, entry: Entry, result: SearchResult, confidence: float,
                sources: tuple[dict, ...]) -> Answer:
    """A question landing on an entry that only says the sources do not give what it asks (the
    centre's hours): declined in the entry's words, as a detail the desk's material does not confirm,
    with the centre to ask and the nearest other entries as buttons; the entry is named, so that staff
    see which one lacks the fact."""
    ask = Route(entry.unconfirmed, (), _centre(profile), source=next(iter(entry.facts.cites), ""), in_remit=True)
    declined = decline(profile, "out_of_scope", confidence, sources, ask)
    best = result.hits[0].score if result.hits else 0.0
    others = replace(result, hits=[h for h in result.hits if h.entry.id != entry.id and h.score >= NEARBY_SHARE * best])
    return with_nearby(replace(declined, text=_fit(entry.body, BUBBLE_CHARS), entry_id=entry.id), others)


def with_nearby(declined: Answer, result: SearchResult) -> Answer:
    """A decline on a detail the sources do not give (人件費は対象？), with the entries nearest the
    question as buttons: what the desk does know about it."""
    return replace(declined, maybe=_buttons(result, NEARBY_LIMIT))


def _buttons(result: SearchResult, limit: int) -> tuple[Related, ...]:
    """The best entries, one per label, best first."""
    by_label = {h.entry.label: Related(h.entry.id, h.entry.title, h.entry.label) for h in reversed(result.hits[:limit])}
    return tuple(reversed(by_label.values()))


SAME_TITLE = 0.8  # share of character bigrams two titles have in common for them to name the same thing


def _related(result: SearchResult, lookup: Callable[[str], Entry | None]) -> tuple[Related, ...]:
    """The top entry's own links first, then other entries that scored close to it; one per label (of two
    entries titled alike, 「市民協働推進事業とは」, the first)."""
    top = result.hits[0]
    close = [h.entry for h in result.hits[1:] if h.score >= 0.5 * top.score]
    picks: dict[str, Related] = {}
    for entry in [lookup(i) for i in top.entry.related] + close:
        if entry is not None and entry.id != top.entry.id and not _same_title(entry.title, top.entry.title):
            picks.setdefault(entry.label, Related(entry.id, entry.title, entry.label))
    return tuple(picks.values())[:RELATED_LIMIT]


def _same_title(one: str, other: str) -> bool:
    """Titles that name the same thing (「公民館の開館時間・休館日」, 「公民館の開館時間と休館日」): a
    suggestion that would only repeat the answer just given."""
    return jaccard(_title_grams(one), _title_grams(other)) >= SAME_TITLE


@lru_cache(maxsize=4096)
def _title_grams(title: str) -> frozenset[str]:
    return frozenset(bigrams(title))


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("。", 0, limit - 1)
    return text[: cut + 1 if cut > 0 else limit - 1] + "…"
