"""The intake forms, as data: fields, prompts, validators, choices, optional fields, conditions.

A form is walked by bot/engine.py; nothing here knows about conversations or channels.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot import validators as v
from knowledge.base import DEFAULT_FOLDER
from knowledge.partner_vocabulary import PartnerVocabulary, load_partner_vocabulary

APPLICANT_TYPES = ("個人", "町内会・自治会", "NPO・市民活動団体", "事業者", "学校・大学", "その他")
CONTACT_METHODS = ("LINE", "電話", "メール")
LINE_ONLY = frozenset({"LINE"})  # offered only to citizens who are talking on LINE
SKIPPED = "（未回答）"  # the skip button; an answer typed as 「なし」 is kept as typed


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    prompt: str
    choices: tuple[str, ...] = ()
    optional: bool = False
    max_chars: int = 200
    # A validator that depends on earlier answers (the contact field checks a phone or an e-mail).
    validator: Callable[[Mapping[str, str]], v.Validator] | None = None
    asked_if: Callable[[Mapping[str, str]], bool] | None = None
    hint: str = ""
    depends_on: tuple[str, ...] = ()  # answers that, when changed, make this one to be asked again
    prompt_by_answer: Mapping[str, str] | None = None  # the prompt for the answer `depends_on[0]` was given
    given: bool = False  # filled in by the conversation (the group to meet), never asked nor edited
    open_choices: bool = False  # the buttons are suggestions: typed text goes to the validator
    multiple: bool = False  # several choices, tapped one by one and then 決定 (or several names typed)
    skipped_value: str | None = None  # stored for スキップ or 「なし」 (None: the skip mark / the word as typed)
    a_name: bool = False  # a person's or a group's: a question typed here is held until the person says it is the name
    # When an answer it depends on changes, it is asked again only if its value passes this (None: always)
    asked_again_if: Callable[[str], bool] | None = None

    def offered(self, channel: str) -> tuple[str, ...]:
        """The choices on a channel: LINE as a contact method only for people on LINE."""
        return tuple(c for c in self.choices if channel == "line" or c not in LINE_ONLY)

    def prompt_for(self, answers: Mapping[str, str]) -> str:
        if self.prompt_by_answer and self.depends_on:
            return self.prompt_by_answer.get(answers.get(self.depends_on[0], ""), self.prompt)
        return self.prompt

    def check(self, text: str, answers: Mapping[str, str], channel: str = "line") -> v.Result:
        if self.optional and v.is_none_word(text):
            return v.Valid(v.clean(text) if self.skipped_value is None else self.skipped_value)
        if self.choices and not self.open_choices:
            choice = v.match_choice(text, self.offered(channel))
            if choice:
                return v.Valid(choice)
            return v.Invalid("下のボタンから選んでください。")
        if self.validator:
            return self.validator(answers)(text)
        return v.free_text(self.max_chars)(text)

    @property
    def skip_answer(self) -> str:
        return SKIPPED if self.skipped_value is None else self.skipped_value

    def applies(self, answers: Mapping[str, str]) -> bool:
        return self.asked_if is None or self.asked_if(answers)


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    prefix: str  # of the reference number: S-2026-0001
    fields: tuple[Field, ...]
    published: bool = False  # once staff approve, the answers are shown to anyone (the group directory)
    # Shown to staff; what citizens read (title, intro, next steps) is the city's (city.yaml).

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    def applicable(self, answers: Mapping[str, str]) -> list[Field]:
        return [f for f in self.fields if f.applies(answers)]

    def expected(self, answers: Mapping[str, str]) -> list[Field]:
        """The fields that will be asked: those that apply and those not ruled out yet (a stable count):
        an answer they depend on is still to come (a 連絡先 before the 連絡方法 is chosen, not a 連絡担当者
        when no 代表者 will be asked)."""
        return [f for f in self.fields if (f.applies(answers) or self._waits_on(f, answers)) and not f.given]

    def _waits_on(self, field: Field, answers: Mapping[str, str]) -> bool:
        return any(key not in answers and self.field(key).applies(answers) for key in field.depends_on)

    def invalidated(self, key: str, answers: Mapping[str, str]) -> list[str]:
        """The answers to ask again once the answer to `key` changes."""
        return [f.key for f in self.fields
                if key in f.depends_on and (f.asked_again_if is None or f.asked_again_if(answers.get(f.key, "")))]

    def next_field(self, answers: Mapping[str, str], after: str | None = None) -> Field | None:
        """The first applicable field after `after` that has no answer yet."""
        keys = [f.key for f in self.fields]
        start = keys.index(after) + 1 if after in keys else 0
        for candidate in self.fields[start:]:
            if candidate.applies(answers) and candidate.key not in answers:
                return candidate
        for candidate in self.fields[:start]:
            if candidate.applies(answers) and candidate.key not in answers:
                return candidate
        return None

    def shown(self, answers: Mapping[str, str]) -> list[tuple[Field, str]]:
        return [(f, answers[f.key]) for f in self.fields if f.applies(answers) and f.key in answers]

    def editable(self, answers: Mapping[str, str]) -> list[tuple[Field, str]]:
        return [(f, value) for f, value in self.shown(answers) if not f.given]

    def given(self, answers: Mapping[str, str]) -> dict[str, str]:
        """The answers the conversation filled in (kept when the person starts over)."""
        return {f.key: answers[f.key] for f in self.fields if f.given and f.key in answers}


def _fixed(validator: v.Validator) -> Callable[[Mapping[str, str]], v.Validator]:
    return lambda answers: validator


def _names_a_group(answers: Mapping[str, str]) -> bool:
    return bool(answers.get("group"))


def _follows_a_question(answers: Mapping[str, str]) -> bool:
    return bool(answers.get("asked"))


def _changes_a_group(answers: Mapping[str, str]) -> bool:
    return bool(answers.get("changes"))


def _for_a_group(answers: Mapping[str, str]) -> bool:
    """A proposal from a group has a representative and a contact person; a person's own has neither."""
    return answers.get("applicant_type") != "個人"


def _needs_contact(answers: Mapping[str, str]) -> bool:
    return answers.get("contact_method") in ("電話", "メール")


# A person on their own (個人) is asked for their name, not a group's; a name given is kept if they change that
_NAME_BY_APPLICANT: dict = {"depends_on": ("applicant_type",), "prompt_by_answer": {"個人": "お名前を教えてください。"},
                            "asked_again_if": lambda name: False}

CONSULTATION = Form(
    name="consultation",
    title="協働の相談",
    prefix="S",
    fields=(
        # この団体とつながりたい: the group found in 仲間をさがす, as "name（団体ID n）"
        Field("group", "つながりたい団体", "", given=True, asked_if=_names_a_group),
        # 職員に相談する under an answer or a decline: the question it was for, so that it need not be typed again
        Field("asked", "チャットでの質問", "", given=True, asked_if=_follows_a_question),
        Field("applicant_type", "相談者区分", "どなたからのご相談ですか？", choices=APPLICANT_TYPES),
        Field("name", "お名前または団体名", "お名前、または団体名を教えてください。", max_chars=100, a_name=True,
              **_NAME_BY_APPLICANT),
        Field("content", "相談内容", "ご相談の内容を教えてください。困っていること、やりたいことなど、自由にお書きください。",
              max_chars=2000),
        Field("area", "地域", "活動する地域（区や学区）を教えてください。決まっていなければ「なし」で大丈夫です。",
              optional=True, max_chars=100, hint="例: 北区 ○○学区"),
        Field("contact_method", "希望する連絡方法", "職員からの連絡方法はどれがよいですか？", choices=CONTACT_METHODS),
        Field("contact", "連絡先", "連絡先（電話番号またはメールアドレス）を教えてください。",
              validator=lambda a: v.contact_for_method(a.get("contact_method", "")), asked_if=_needs_contact,
              depends_on=("contact_method",),
              prompt_by_answer={"電話": "連絡先の電話番号を教えてください。", "メール": "連絡先のメールアドレスを教えてください。"}),
        Field("preferred_time", "連絡しやすい日時", "連絡しやすい曜日や時間帯があれば教えてください（なければ「なし」）。",
              optional=True, max_chars=100),
    ),
)

PROPOSAL = Form(
    name="proposal",
    title="協働提案",
    prefix="P",
    fields=(
        Field("applicant_type", "提案者区分", "どなたからのご提案ですか？", choices=APPLICANT_TYPES),
        Field("group_name", "お名前または団体名", "団体名を教えてください。", max_chars=100, a_name=True, **_NAME_BY_APPLICANT),
        Field("representative", "代表者名", "代表者のお名前を教えてください。", max_chars=60, a_name=True,
              asked_if=_for_a_group),
        Field("contact_person", "連絡担当者", "連絡担当者のお名前を教えてください（代表者と同じなら「同じ」）。", max_chars=60, a_name=True,
              validator=lambda answers: v.same_as(answers.get("representative", ""), 60), asked_if=_for_a_group,
              depends_on=("representative",), asked_again_if=v.is_same_as),
        Field("phone", "電話", "連絡先の電話番号を教えてください。", validator=_fixed(v.phone)),
        Field("email", "メール", "連絡先のメールアドレスを教えてください（なければスキップできます）。", validator=_fixed(v.email),
              optional=True),
        Field("title", "提案名", "提案の名前（事業名）を教えてください。", max_chars=100),
        Field("issue", "解決したい地域課題", "解決したい地域の課題は何ですか？なぜ取り組みたいのかも教えてください。", max_chars=1000),
        Field("content", "提案内容", "提案の内容（何を、どのように行うか）を教えてください。", max_chars=2000),
        Field("our_role", "自分たちが担うこと", "役割分担について、ご自身（団体）が担うことを教えてください。", max_chars=1000),
        Field("city_role", "市に期待すること", "市に期待すること（協力してほしいこと）を教えてください。", max_chars=1000),
        Field("effect", "期待される効果", "期待される効果を教えてください。", max_chars=1000),
        Field("department", "協働したい市の部署", "協働したい市の部署があれば教えてください（わからなければ「わからない」）。",
              optional=True, max_chars=100),
        Field("period", "実施時期", "実施したい時期を教えてください（例: 2027年4月から1年間）。", max_chars=100),
        Field("budget", "概算予算", "概算の予算があれば教えてください（なければ「なし」）。", optional=True, max_chars=100),
    ),
)

# 団体登録: the directory's fields (bot/partners.py), under the keys the staff's approval reads
# (bot/registrations.py); fields and areas as 「、」-joined names of the city's partner-fields.yaml.
FIELD_BUTTONS = 10  # of the activity fields; the others are typed (LINE: 13 quick replies in all)
YES_NO = ("はい", "いいえ")


def _vocabulary_fields(vocabulary: PartnerVocabulary) -> tuple[Field, ...]:
    """The questions whose answers come from the city's controlled list: kind, fields, areas."""
    activities = tuple(vocabulary.fields)
    areas = (*vocabulary.wards, vocabulary.citywide)
    ward = next(iter(vocabulary.wards), "")
    return (
        Field("kind", "団体の種類", "団体の種類を選んでください。", choices=tuple(vocabulary.kinds)),
        Field("fields", "活動分野", "活動している分野を選んで「決定」を押してください（いくつでも）。"
              "文字で「防災、子ども」のように書いても大丈夫です。",
              choices=activities[:FIELD_BUTTONS], open_choices=True, multiple=True, hint="分野: " + "、".join(activities),
              validator=_fixed(v.named_in(lambda text: vocabulary.mentions(text).fields, "活動分野", activities))),
        Field("areas", "活動地域", "活動している地域を選んで「決定」を押してください（いくつでも）。"
              f"学区は文字で「{ward}、〇〇学区」のように書けます。",
              choices=areas, open_choices=True, multiple=True,
              validator=_fixed(v.named_in(lambda text: vocabulary.mentions(text).areas, "活動地域", (*areas, "〇〇学区")))),
    )


def group_form(vocabulary: PartnerVocabulary) -> Form:
    """団体登録 with a city's own kinds, fields and areas."""
    return Form(
        name="group",
        title="団体登録",
        prefix="G",
        published=True,
        fields=(
            # 団体情報の変更: the entry the approval updates, as "name（団体ID n）"
            Field("changes", "変更する登録", "", given=True, asked_if=_changes_a_group),
            Field("name", "団体名", "登録する団体の名前を教えてください。", max_chars=100, a_name=True),
            *_vocabulary_fields(vocabulary),
            Field("offers", "できること", "団体として「できること」を教えてください（例: 防災訓練の講師、炊き出しの手伝い）。",
                  max_chars=1000),
            Field("seeks", "さがしていること", "さがしている協力や仲間があれば教えてください（なければ「なし」）。",
                  optional=True, skipped_value="", max_chars=1000),
            Field("contact", "連絡先", "団体の連絡先（電話番号またはメールアドレス）を教えてください。",
                  validator=_fixed(v.phone_or_email)),
            Field("contact_public", "連絡先の公開",
                  "検索結果に連絡先を載せてもよいですか？「いいえ」の場合は、センターを通じておつなぎします。", choices=YES_NO),
            Field("url", "ウェブサイト", "ウェブサイトや SNS のアドレスがあれば教えてください（なければ「スキップ」）。",
                  optional=True, skipped_value="", validator=_fixed(v.url)),
        ),
    )


GROUP = group_form(load_partner_vocabulary(DEFAULT_FOLDER))  # the default city's; a desk uses its own (forms_for)

FORMS = {form.name: form for form in (CONSULTATION, PROPOSAL, GROUP)}


def forms_for(vocabulary: PartnerVocabulary) -> dict[str, Form]:
    """The forms of a city: the same, with 団体登録 asking for its own kinds, fields and areas."""
    return {**FORMS, "group": group_form(vocabulary)}
