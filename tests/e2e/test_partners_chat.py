"""仲間をさがす end to end: the directory imported as staff would, then a citizen searching on the web
chat (/api/chat) and on LINE (signed webhooks, the mock LINE API checking LINE's limits), paging with
もっと見る and asking to meet a group, which becomes a consultation naming it."""
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.partners import GroupDirectory
from knowledge.base import DEFAULT_FOLDER
from store.models import Case
from tests.e2e.test_web_status_check import Browser
from tests.support.live import post_webhook, postback_event, text_event, wait_until

REPLY = "/v2/bot/message/reply"
CSV = "name,kind,fields,areas,offers,seeks,contact,url,public,status\n" + "\n".join([
    "北区防災の会,町内会,防災;防犯,北区,炊き出し訓練と避難所運営の手伝い,若い人の参加,086-000-0001,,true,公開",
    "市民防災ネット,NPO,防災;子ども,市内全域,防災講座の講師派遣,企業の協賛,info@example.jp,https://example.jp,false,公開",
    "南区防災クラブ,NPO,防災,南区,防災マップづくり,,086-000-0003,,true,公開",
    "北区見守り隊,町内会,防犯,北区,登下校の見守り,,086-000-0004,,true,公開",
    "北区の非公開防災,NPO,防災,北区,避難訓練,,086-000-0005,,true,非公開",
    "北区の申請中防災,NPO,防災,北区,避難訓練,,086-000-0006,,true,申請中",
    *[f"北区防災サークル{i},NPO,防災,北区、伊島学区,防災訓練の企画,,,,false,公開" for i in range(1, 6)],
]) + "\n"
QUALIFYING = {"北区防災の会", "市民防災ネット", *(f"北区防災サークル{i}" for i in range(1, 6))}


def fill_directory(db) -> None:
    directory = GroupDirectory.for_folder(db, Path(DEFAULT_FOLDER), ZoneInfo("Asia/Tokyo"))
    assert directory.import_csv(CSV.encode(), "tester", datetime(2026, 11, 1, tzinfo=UTC)) == (11, 0)


def group_cards(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["type"] == "card" and m["kind"] == "group"]


def field(card: dict, label: str) -> str:
    return dict(card["fields"]).get(label, "")


def test_web_chat_search_pages_and_connects(line_server):
    fill_directory(line_server.db)
    browser = Browser(line_server.url)
    out = browser.say("北区で防災をやっている団体を探したい")
    first = group_cards(browser.messages)
    assert "7件見つかりました" in out and len(first) == 5
    assert all("防災" in field(c, "分野") and "北区" in field(c, "地域") for c in first)  # the ward before citywide
    browser.tap("もっと見る")
    second = group_cards(browser.messages)
    names = [c["title"] for c in first + second]
    assert set(names) == QUALIFYING and len(names) == 7 and names[-1] == "市民防災ネット"
    assert "もっと見る" not in [c["label"] for m in browser.messages for c in m["choices"]]
    citywide = second[-1]
    assert field(citywide, "連絡先") == "" and field(citywide, "ウェブサイト") == "https://example.jp"

    assert "「市民防災ネット」とのおつなぎは" in browser.send({"postback": citywide["buttons"][0]["data"]})
    browser.tap("同意する")
    browser.tap("町内会・自治会")
    browser.say("岡山北町内会")
    browser.say("防災講座をお願いしたいです")
    browser.say("北区")
    browser.tap("メール")
    browser.say("kita@example.jp")
    summary = browser.say("なし")
    assert "つながりたい団体 市民防災ネット（団体ID" in summary
    assert "受付番号は S-" in browser.tap("送信する")
    with Session(line_server.db) as session:
        [case] = session.exec(select(Case)).all()
    assert case.kind == "consultation" and case.answers["group"].startswith("市民防災ネット（団体ID ")


def test_line_search_is_a_carousel_within_limits_and_connects(line_server):
    fill_directory(line_server.db)
    post_webhook(line_server.url, [text_event("北区で防災をやっている団体を探したい", user="Ugroups")])
    [call] = line_server.line.wait_for(REPLY)
    messages = call.body["messages"]
    assert [m["type"] for m in messages] == ["text", "flex", "text"]
    carousel = messages[1]["contents"]
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 5
    titles = [b["header"]["contents"][0]["text"] for b in carousel["contents"]]
    assert set(titles) <= QUALIFYING and "北区の非公開防災" not in titles and "南区防災クラブ" not in titles
    quick = {i["action"]["label"]: i["action"]["data"] for i in messages[2]["quickReply"]["items"]}
    assert "もっと見る" in quick

    post_webhook(line_server.url, [postback_event(quick["もっと見る"], user="Ugroups")])
    more = wait_until(lambda: line_server.line.calls(REPLY)[1:], what="the second page")[0]
    rest = [b["header"]["contents"][0]["text"] for b in more.body["messages"][1]["contents"]["contents"]]
    assert set(titles) | set(rest) == QUALIFYING

    connect = carousel["contents"][0]["footer"]["contents"][0]["action"]
    assert connect["label"] == "この団体とつながりたい"
    post_webhook(line_server.url, [postback_event(connect["data"], user="Ugroups")])
    reply = wait_until(lambda: line_server.line.calls(REPLY)[2:], what="the consent")[0]
    text = str(reply.body)
    assert f"「{titles[0]}」とのおつなぎは" in text and "個人情報の取り扱い" in text


class LineUser:
    """One LINE user: signed events in, each reply read from the mock (which checks LINE's limits)."""

    def __init__(self, server, user: str):
        self.server, self.user, self.messages = server, user, []

    def _send(self, event: dict) -> str:
        seen = len(self.server.line.calls(REPLY))
        assert post_webhook(self.server.url, [event]).status_code == 200
        call = wait_until(lambda: self.server.line.calls(REPLY)[seen:], what="the reply")[0]
        self.messages = call.body["messages"]
        return str(self.messages)

    def say(self, text: str) -> str:
        return self._send(text_event(text, user=self.user))

    def tap(self, label: str) -> str:
        items = [i["action"] for m in self.messages for i in m.get("quickReply", {}).get("items", [])]
        items += [b["action"] for m in self.messages if m["type"] == "flex"
                  for b in m["contents"].get("footer", {}).get("contents", [])]
        data = next((a["data"] for a in items if a["label"] == label), None)
        assert data, f"no button {label!r} in {self.messages}"
        return self._send(postback_event(data, user=self.user))


def test_registration_on_line_creates_a_group_case_for_staff(line_server):
    person = LineUser(line_server, "Uregister")
    assert "個人情報の取り扱い" in person.say("団体を登録したい")
    person.tap("同意する")
    person.say("岡山国際交流の会")
    person.tap("NPO・市民活動団体")
    person.say("外国人住民の日本語教室と国際交流")
    person.tap("市内全域")
    person.tap("決定")
    person.say("日本語教室の運営、通訳ボランティア")
    person.say("会場を貸してくれる企業")
    person.say("info@kokusai.example.jp")
    person.tap("いいえ")
    summary = person.say("https://kokusai.example.jp")
    assert "活動分野" in summary and "国際" in summary
    done = person.tap("送信する")
    assert "受付番号は G-" in done and "申請中" in done
    with Session(line_server.db) as session:
        [case] = session.exec(select(Case)).all()
    assert case.kind == "group" and case.reference.startswith("G-")
    assert case.answers == {"name": "岡山国際交流の会", "kind": "NPO・市民活動団体", "fields": "国際",
                            "areas": "市内全域", "offers": "日本語教室の運営、通訳ボランティア",
                            "seeks": "会場を貸してくれる企業", "contact": "info@kokusai.example.jp",
                            "contact_public": "いいえ", "url": "https://kokusai.example.jp"}
