"""Shaping a search result into an answer for a chat bubble, or an honest decline."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.entries import Entry
from knowledge.index import SearchResult
from knowledge.profile import CityProfile

# Chosen with `kyodo-desk kb eval` (it prints the sweep) on the development set and on
# tests/data/holdout-questions.jsonl, written independently of the knowledge files.
ANSWER_THRESHOLD = 0.45
RELATED_LIMIT = 3
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
    confidence: float
    reason: str  # answered | out_of_scope | empty | not_japanese
    entry_id: str | None = None
    title: str = ""
    body: str = ""
    source: str = ""
    as_of: str = ""
    caution: str = ""
    related: tuple[Related, ...] = ()
    sources: tuple[dict, ...] = field(default_factory=tuple)

    def as_json(self, question_id: str | None, question: str) -> dict:
        return {
            "id": question_id, "q": question, "answer": self.text, "abstained": self.abstained,
            "confidence": round(self.confidence, 4), "sources": list(self.sources),
        }


def compose(result: SearchResult, lookup: Callable[[str], Entry | None], profile: CityProfile,
            threshold: float = ANSWER_THRESHOLD) -> Answer:
    sources = tuple({"id": h.entry.id, "title": h.entry.title, "score": round(h.score, 4)} for h in result.hits[:3])
    if not result.hits or result.confidence < threshold:
        return decline(profile, "out_of_scope", result.confidence, sources)
    top = result.hits[0].entry
    return answer_from_entry(top, profile, result.confidence, _related(result, lookup), sources)


def answer_from_entry(entry: Entry, profile: CityProfile, confidence: float = 1.0,
                      related: tuple[Related, ...] = (), sources: tuple[dict, ...] = ()) -> Answer:
    caution = centre_pointer(profile) if entry.check_with_centre else ""
    source_line = f"出典: {entry.source}（{entry.as_of} 時点）"
    body = _fit(entry.body, BUBBLE_CHARS)
    text = "\n\n".join(part for part in (f"【{entry.title}】\n{body}", caution, source_line) if part)
    return Answer(
        text=text, abstained=False, confidence=confidence, reason="answered", entry_id=entry.id,
        title=entry.title, body=body, source=entry.source, as_of=entry.as_of, caution=caution,
        related=related, sources=sources or ({"id": entry.id, "title": entry.title, "score": 0.0},),
    )


def centre_pointer(profile: CityProfile) -> str:
    phone = f"（電話 {profile.centre_phone}）" if profile.centre_phone else ""
    return f"金額・日程・連絡先などは変わることがあります。最新の情報は{profile.centre_name}{phone}でご確認ください。"


DECLINE_TEXT = {
    "out_of_scope": "申し訳ありません。このご質問には、この窓口ではお答えできません。{contact}でご確認いただくか、職員への相談をご利用ください。",
    "empty": "ご質問の内容を文字でお送りください。協働のまちづくり、補助制度、協働の提案・相談についてお答えします。",
    "not_japanese": "申し訳ありません。日本語でご質問ください。(Sorry, this desk answers questions in Japanese.) 職員への相談もご利用いただけます。",
}


def decline(profile: CityProfile, reason: str, confidence: float = 0.0, sources: tuple[dict, ...] = ()) -> Answer:
    text = DECLINE_TEXT[reason].format(contact=profile.general_contact or "市の担当窓口")
    return Answer(text=text, abstained=True, confidence=confidence, reason=reason, sources=sources)


def _related(result: SearchResult, lookup: Callable[[str], Entry | None]) -> tuple[Related, ...]:
    """The top entry's own links first, then other entries that scored close to it."""
    top = result.hits[0]
    close = [h.entry for h in result.hits[1:] if h.score >= 0.5 * top.score]
    picks: dict[str, Related] = {}
    for entry in [lookup(i) for i in top.entry.related] + close:
        if entry is not None and entry.id != top.entry.id:
            picks.setdefault(entry.id, Related(entry.id, entry.title, entry.label))
    return tuple(picks.values())[:RELATED_LIMIT]


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("。", 0, limit - 1)
    return text[: cut + 1 if cut > 0 else limit - 1] + "…"
