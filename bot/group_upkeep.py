"""Keeping the directory true (団体情報の確認): a group registered through the chat whose entry was
not confirmed for a year is asked on its applicant's channel to confirm or update it, at most once
every 30 days (the ledger makes each message go out once, whatever process runs the job); 60 days
after the first unanswered message the entry becomes 非公開 and the staff channel is told.
The group's answers (このままでよい / 変更する / 今後は案内不要) come back as taps (bot/engine.py)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.channels import Channel, deliver
from bot.messages import Choice, Say
from bot.postbacks import Action, Tap
from store import conversations, outbox
from store import groups as table
from store import indicators as ledger
from store.models import PartnerGroup

ASK_AFTER = timedelta(days=365)
ASK_EVERY_DAYS = 30
HIDE_AFTER = timedelta(days=60)
HIDDEN = "非公開"
KEEP, CHANGE, NO_MORE, WITHDRAW = "keep", "change", "no_more", "withdraw"
ENDED = "終了"
ACTOR = "kyodo-desk（年次確認）"


@dataclass
class UpkeepRun:
    asked: list[int] = field(default_factory=list)  # group ids
    hidden: list[int] = field(default_factory=list)


def confirmation_request(group: PartnerGroup) -> Say:
    """The message a group's applicant gets (polite, with the three answers as buttons)."""
    entry = str(group.id)
    return Say(f"「{group.name}」の団体情報について、掲載内容に変わりがないかご確認をお願いします。"
               "1年以上確認されていない登録は、しばらくすると非公開になります。",
               (Choice("このままでよい", Tap(Action.GROUP_UPKEEP, entry=entry, value=KEEP).encode()),
                Choice("変更する", Tap(Action.GROUP_UPKEEP, entry=entry, value=CHANGE).encode()),
                Choice("今後は案内不要", Tap(Action.GROUP_UPKEEP, entry=entry, value=NO_MORE).encode())))


def run(session: Session, channels: Mapping[str, Channel], now: datetime, tz: ZoneInfo) -> UpkeepRun:
    """Ask or hide whatever is due today, in the caller's transaction."""
    today = now.astimezone(tz).date()
    done = UpkeepRun()
    for group in table.unconfirmed_since(session, today - ASK_AFTER + timedelta(days=1)):
        assert group.id is not None
        if group.confirm_asked_on is not None and today >= group.confirm_asked_on + HIDE_AFTER:
            _hide(session, group, now)
            done.hidden.append(group.id)
        elif _ask(session, channels, group, today, now):
            done.asked.append(group.id)
    return done


def _ask(session: Session, channels: Mapping[str, Channel], group: PartnerGroup, today: date, now: datetime) -> bool:
    channel = channels.get(group.applicant_channel)
    if channel is None or not conversations.is_contact_active(session, group.applicant_channel, group.applicant_user):
        return False
    first = group.confirm_asked_on or today
    window = (today - first).days // ASK_EVERY_DAYS
    if not ledger.claim_post(session, f"group-confirm:{group.id}", f"{first.isoformat()}#{window}", now):
        return False
    group.confirm_asked_on = first
    session.add(group)
    deliver(session, channel, group.applicant_user, [confirmation_request(group)])
    return True


def _hide(session: Session, group: PartnerGroup, now: datetime) -> None:
    assert group.id is not None
    table.set_status(session, group.id, HIDDEN, ACTOR, now)
    text = (f"団体「{group.name}」（ID {group.id}）は、年次確認の案内から60日たっても確認がなかったため、"
            "非公開にしました。掲載を続ける場合は `/kyodo groups` で確認のうえ、状態を公開に戻してください。")
    outbox.enqueue(session, channel="slack", target="staff", kind="post", payload={"text": text, "sections": []},
                   dedupe_key=f"group-hidden:{group.id}:{group.confirm_asked_on}")
    group.confirm_asked_on = None  # put back to 公開 unconfirmed, the group is asked again from the next day
    session.add(group)


def answer(session: Session, group_id: int, channel: str, user_key: str, choice: str, today: date,
           now: datetime) -> bool:
    """The applicant's answer: このままでよい confirms today, 今後は案内不要 stops the messages,
    登録をやめる ends the entry (終了) and tells the staff channel.
    False when the group is not theirs (nothing changes)."""
    group = table.of_applicant(session, group_id, channel, user_key)
    if group is None:
        return False
    if choice == KEEP:
        group.confirmed_on, group.confirm_asked_on = today, None
    elif choice == NO_MORE:
        group.confirm_opt_out = True
    elif choice == WITHDRAW and group.status != ENDED:
        group.status = ENDED
        outbox.enqueue(session, channel="slack", target="staff", kind="post", payload={
            "text": f"団体「{group.name}」（ID {group.id}）は、登録した方の申し出により掲載を取りやめました（状態: 終了）。",
            "sections": []}, dedupe_key=f"group-ended:{group.id}:{now.isoformat()}")
    group.updated_by, group.updated_at = ACTOR, now
    session.add(group)
    return True
