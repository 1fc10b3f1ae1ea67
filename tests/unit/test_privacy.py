"""Personal data over time: erasure on request, and retention of closed cases."""
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.settings import Settings
from bot import casework
from bot.messages import Text
from bot.runtime import Desk
from handlers.line import LineChannel
from store import inbox, outbox, privacy
from store import indicators as figures
from store.case_status import CLOSED
from store.db import make_engine, migrate, session_scope
from store.models import (
    Case,
    CaseEvent,
    Contact,
    Conversation,
    DeskSecret,
    Inbox,
    Outbox,
    PartnerGroup,
    PrivacyAudit,
)

JST = ZoneInfo("Asia/Tokyo")
CONSULT = ["相談したい", "同意する", "個人", "山田花子", "空き家の活用を相談したい", "なし", "電話", "090-1111-2222", "なし", "送信"]


def consult(desk: Desk, user_key: str) -> None:
    for line in CONSULT:
        desk.handle("line", user_key, Text(line))


def test_erasing_one_person_removes_their_data_keeps_counts_and_leaves_an_audit(db, kb):
    desk = Desk(db, kb, Settings().desk)
    consult(desk, "user:Uerase")
    consult(desk, "user:Ukeep")
    with session_scope(db) as session:
        inbox.add(session, channel="line", event_id="E-erase", user_key="user:Uerase", payload={"text": "山田花子"})
        outbox.enqueue(session, channel="line", target="Uerase", kind="push", payload={"messages": ["山田花子さんへ"]})
        mine = session.exec(select(Case).where(Case.user_id == "user:Uerase")).one()
        line = LineChannel(Settings(line_channel_secret="s", line_channel_access_token="t").line)
        assert casework.reply_to_citizen(session, {"line": line}, mine, "USTAFF", "山田さん、来週お電話します",
                                         datetime.now(UTC))
    month = (date.today().replace(day=1), date.today().replace(day=1) + timedelta(days=32))
    with Session(db) as session:
        before = figures.derived_count(session, "received:consultation", month[0], month[1].replace(day=1), JST)

    with session_scope(db) as session:
        counts = privacy.erase_person(session, privacy.line_person("Uerase"), "市民協働企画総務課 田中",
                                      datetime.now(UTC), privacy.AuditKey())
    assert counts["cases"] == 1 and counts["conversations"] == 1

    with Session(db) as session:
        erased = session.get(Case, mine.id)
        assert erased.user_id == privacy.ERASED and erased.answers == {"applicant_type": "個人"}
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == mine.id).order_by(CaseEvent.id)).all()
        assert all(e.text == "" for e in events[:-1])  # what was said is gone; the last event says it was erased
        assert (events[-1].kind, events[-1].text) == ("erased", privacy.ERASED_NOTE)
        assert session.exec(select(Conversation).where(Conversation.user_id == "user:Uerase")).all() == []
        assert session.exec(select(Contact).where(Contact.user_id == "user:Uerase")).all() == []
        assert session.exec(select(Inbox).where(Inbox.user_key == "user:Uerase")).all() == []
        assert session.exec(select(Outbox).where(Outbox.channel == "line", Outbox.target == "Uerase")).all() == []
        erased_case = session.get(Case, mine.id)
    # Staff can still work the anonymised case; nothing is sent to anyone.
    with session_scope(db) as session:
        case = session.get(Case, mine.id)
        casework.change_status(session, {"line": line}, case, "USTAFF", "完了", "", datetime.now(UTC))
    with Session(db) as session:
        assert session.exec(select(Outbox).where(Outbox.channel == "line")).all() == []
        assert erased_case.status == "受付" and session.get(Case, mine.id).status == "完了"
        kept = session.exec(select(Case).where(Case.user_id == "user:Ukeep")).one()
        assert kept.answers["name"] == "山田花子"  # someone else's case is untouched
        [audit] = session.exec(select(PrivacyAudit)).all()
        assert audit.actor == "市民協働企画総務課 田中" and audit.action == "erase"
        assert "Uerase" not in audit.subject
        assert audit.subject == privacy.AuditKey().subject(session, "line", "user:Uerase")  # the key kept in the database
        assert audit.subject != privacy.AuditKey("another key").subject(session, "line", "user:Uerase")
        after = figures.derived_count(session, "received:consultation", month[0], month[1].replace(day=1), JST)
    assert after == before == 2  # the indicator counts survive


def test_retention_anonymises_closed_cases_past_the_period_only(db, kb):
    desk = Desk(db, kb, Settings().desk)
    for user in ("old-closed", "old-open", "new-closed"):
        consult(desk, f"user:{user}")
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=365 * 5 + 10)
    with session_scope(db) as session:
        for case in session.exec(select(Case)).all():
            if case.user_id != "user:new-closed":
                case.updated_at = long_ago
            if case.user_id != "user:old-open":
                case.status = "完了"
            case.slack_channel, case.slack_ts = "CSTAFF", f"1700000000.{case.id:06d}"
            session.add(case)
        old_closed = session.exec(select(Case).where(Case.user_id == "user:old-closed")).one().id
        old_sent = outbox.row(channel="line", target="x", kind="push", payload={"messages": ["名前入り"]})
        waiting = outbox.row(channel="line", target="y", kind="push", payload={"messages": ["未送信"]})
        old_sent.update(status="sent", created_at=now - timedelta(days=40))
        waiting.update(created_at=now - timedelta(days=40))
        outbox.enqueue_many(session, [old_sent, waiting])
    with session_scope(db) as session:
        counts = privacy.apply_retention(session, now, 5, CLOSED)
    assert counts["cases"] == 1 and counts["messages"] == 1
    with Session(db) as session:
        by_user = {c.user_id: c for c in session.exec(select(Case)).all()}
        assert privacy.ERASED in by_user and "user:old-open" in by_user and "user:new-closed" in by_user
        assert by_user["user:new-closed"].answers["name"] == "山田花子"
        assert [o.payload for o in session.exec(select(Outbox).where(Outbox.channel == "line")).all()] == [{"messages": ["未送信"]}]
        assert session.exec(select(PrivacyAudit).where(PrivacyAudit.action == "retention")).one()
        erasures = session.exec(select(Outbox).where(Outbox.kind == privacy.ERASE_THREAD)).all()
        assert [o.target for o in erasures] == [str(old_closed)]  # its Slack thread is cleared too


def test_privacy_erase_cli(tmp_path, kb):
    url = f"sqlite:///{tmp_path / 'erase.db'}"
    db = make_engine(url)
    migrate(db)
    consult(Desk(db, kb, Settings().desk), "user:Ucli")
    env = dict(os.environ, DATABASE_URL=url)
    erase = [sys.executable, "-m", "app", "privacy", "erase", "--line-user", "Ucli", "--by", "窓口 佐藤"]
    for answer in ("", "n\n", "いいえ\n"):  # erasure cannot be undone: anything but y keeps everything
        kept = subprocess.run(erase, env=env, input=answer, capture_output=True, text=True, timeout=60)
        assert kept.returncode == 1 and "案件 1 件（" in kept.stdout and "nothing was erased" in kept.stdout
        with Session(db) as session:
            assert session.exec(select(Case)).one().user_id != privacy.ERASED
    out = subprocess.run(erase, env=env, input="y\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "cases 1" in out.stdout
    with Session(db) as session:
        erased = session.exec(select(Case)).one()
        assert erased.user_id == privacy.ERASED
    listed = subprocess.run([sys.executable, "-m", "app", "cases", "list", "--status", "all"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert erased.reference in listed.stdout and "（個人情報削除済み）" in listed.stdout  # not a live case to staff
    replied = subprocess.run([sys.executable, "-m", "app", "cases", "reply", erased.reference, "ご連絡です", "--by", "佐藤"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert "個人情報は削除済みのため、市民には届けられません" in replied.stdout
    with Session(db) as session:  # the case's Slack thread says the same
        thread = session.exec(select(Outbox).where(Outbox.kind == "thread").order_by(Outbox.id.desc())).first()
        assert "この案件の個人情報は削除済みです" in str(thread.payload)
    again = subprocess.run([sys.executable, "-m", "app", "privacy", "erase", "--reference", erased.reference, "--by", "窓口 佐藤", "--yes"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "erased already" in again.stderr  # no second audit record for nobody
    missing = subprocess.run([sys.executable, "-m", "app", "privacy", "erase", "--line-user", "Ucli"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2  # --by is required: every erasure names who did it
    for line_user, said in (("", "a LINE user id looks like"), ("Uclii", "nothing is held for LINE user 'Uclii'")):
        mistyped = subprocess.run([sys.executable, "-m", "app", "privacy", "erase", "--line-user", line_user,
                                   "--by", "窓口 佐藤", "--yes"], env=env, capture_output=True, text=True, timeout=60)
        assert mistyped.returncode == 2 and said in mistyped.stderr and "Traceback" not in mistyped.stderr
    with Session(db) as session:
        assert len(session.exec(select(PrivacyAudit)).all()) == 1  # a mistyped id erased nothing, and says so


def test_the_audit_key_comes_from_kyodo_audit_key_and_stays_out_of_reprs(db):
    settings = Settings.from_env({"KYODO_AUDIT_KEY": "k-8c1f"})
    assert settings.desk.audit_key == "k-8c1f"
    assert "k-8c1f" not in repr(settings) and "k-8c1f" not in repr(settings.desk)
    with session_scope(db) as session:
        configured = privacy.AuditKey(settings.desk.audit_key).subject(session, "line", "user:U1")
        kept = privacy.AuditKey().subject(session, "line", "user:U1")
    with session_scope(db) as session:  # generated once, then the same in every process
        assert privacy.AuditKey().subject(session, "line", "user:U1") == kept != configured
        assert len(session.exec(select(DeskSecret)).all()) == 1


def test_someone_held_only_as_a_groups_applicant_is_held_and_erased(db):
    with session_scope(db) as session:
        session.add(PartnerGroup(name="北区防災の会", kind="町内会", applicant_channel="line", applicant_user="user:Uonly"))
    person = privacy.line_person("Uonly")
    with session_scope(db) as session:
        assert privacy.holds_anything(session, person)  # the CLI must not say "nothing is held"
        assert privacy.erase_person(session, person, "窓口 佐藤", datetime.now(UTC), privacy.AuditKey())["group applicants"] == 1
    with session_scope(db) as session:
        assert not privacy.holds_anything(session, person)
