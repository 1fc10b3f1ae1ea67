"""English questions (a resident who does not write Japanese) read through the city's glossary
(synonyms.yaml `english`): the English words the desk knows become the Japanese words of its
knowledge, and the question is searched as that Japanese. The answer stays in Japanese, with a
line in English saying so; a question with no known word is declined as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ENGLISH_NOTE = "(This desk answers in Japanese.)"
# Words that carry no topic; any other word the glossary lacks stays in the question, so that
# 「When is garbage collected?」 keeps "garbage" and is not answered from its other words alone.
_GRAMMAR = frozenset({
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "i", "i'm", "im",
    "we", "our", "us", "my", "me", "you", "your", "it", "its", "this", "that", "these", "those", "there",
    "here", "what", "which", "who", "whom", "how", "can", "could", "would", "should", "will", "shall", "may",
    "might", "must", "to", "of", "in", "on", "at", "for", "from", "with", "about", "by", "as", "and", "or",
    "but", "if", "so", "not", "no", "yes", "any", "some", "there's", "what's", "how's", "please", "tell",
    "know", "want", "like", "get", "have", "has", "had", "just", "also", "very", "much", "many", "more",
    "actually", "really", "simply", "exactly", "even", "though", "although", "still", "only", "hi", "hello",
    "thanks", "thank", "ok", "okay", "anyone", "someone", "something", "anything", "else", "kind", "sort", "bit",
    "little", "lot", "lots", "etc", "well",
})
_WORD = re.compile(r"[a-z][a-z'\-]*")
JAPANESE_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
LATIN_LETTER = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")
_JAPANESE_WORDS = re.compile(JAPANESE_CHARACTER.pattern + "+")  # kept as written
ENGLISH_SHARE = 3  # Latin letters per Japanese character above which a question is read as English
# An English sentence or word inside a Japanese question: 「Where is the center? 英語で…」「kyodoって何？」
# (possessive, so that a long run of letters is scanned once)
_ENGLISH_SENTENCE = re.compile(r"(?<![A-Za-z'\-])[A-Za-z][A-Za-z'\-]*+(?:[ ,]+[A-Za-z][A-Za-z'\-]*+)*[.?!]?")
_CURLY_APOSTROPHE = str.maketrans({"\u2019": "'", "\u2018": "'"})  # phones type I’m


_ACRONYM = r"(?=(?:[^A-ZＡ-Ｚ]*[A-ZＡ-Ｚ]){2})[A-Za-zＡ-Ｚａ-ｚ]{2,6}"  # two capitals at least: NPO, SDGs
_ACRONYMS_ONLY = re.compile(rf"{_ACRONYM}(?:[\s・、,]+{_ACRONYM})*[?？!！。]*")


def in_english(text: str) -> bool:
    """Written in English or romaji, perhaps with a Japanese word in it (「What is chonaikai (町内会)?」);
    not acronyms alone (「NPO」「SDGs？」), which Japanese is written with too."""
    if _ACRONYMS_ONLY.fullmatch(text.strip()):
        return False
    return len(LATIN_LETTER.findall(text)) > ENGLISH_SHARE * len(JAPANESE_CHARACTER.findall(text))


@dataclass(frozen=True)
class Glossary:
    phrases: tuple[tuple[re.Pattern[str], str], ...] = ()  # longest first

    @classmethod
    def of(cls, pairs: tuple[tuple[str, str], ...]) -> Glossary:
        ordered = sorted(pairs, key=lambda pair: -len(pair[0]))
        return cls(tuple((re.compile(rf"\b{re.escape(english.lower())}(?:s|es)?\b"), japanese) for english, japanese in ordered))

    def translate(self, text: str) -> str | None:
        """The question with the glossary's phrases in Japanese, in the order they appear, and its
        other words kept (grammar words dropped); None when it holds none of the phrases and no
        Japanese word (empty when all it holds are phrases that drop out, as "I'm new here")."""
        remaining, found = text.lower().translate(_CURLY_APOSTROPHE), []
        for pattern, japanese in self.phrases:
            for match in pattern.finditer(remaining):
                found.append((match.start(), japanese))
            remaining = pattern.sub(lambda m: " " * len(m.group(0)), remaining)
        found += [(m.start(), m.group(0)) for m in _JAPANESE_WORDS.finditer(remaining)]
        if not found:
            return None
        found += [(m.start(), m.group(0)) for m in _WORD.finditer(remaining) if m.group(0) not in _GRAMMAR]
        return " ".join(word for _, word in sorted(found) if word)

    def translate_sentences(self, text: str) -> str:
        """A Japanese question with its English sentences in Japanese, where the glossary knows a word
        of them (NPO法人 or 「SDGs」 alone are left as they are)."""
        def translated(match: re.Match[str]) -> str:
            if _ACRONYMS_ONLY.fullmatch(match.group(0)):
                return match.group(0)
            japanese = self.translate(match.group(0))
            return match.group(0) if japanese is None else f" {japanese} "
        return _ENGLISH_SENTENCE.sub(translated, text.translate(_CURLY_APOSTROPHE))

