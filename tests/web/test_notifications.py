"""Notices about tasks: assigned, due soon, overdue; once each; by email at once (a real local SMTP
server) or in a daily digest from 08:00; the bell, opening a notice, and each person's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.models import HumanTask
from processes.directory.models import Notification, NotificationPreference
from processes.directory.notifications import scan, send_digests
from tests.complaints.conftest import Mailbox, smtp_server  # noqa: F401 - the real SMTP server fixture
from tests.web.conftest import ready_task, start_lead

NOON_CHINA = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _notices(session: Session) -> list[tuple[str, str]]:
    return sorted((n.user_id, n.kind) for n in session.scalars(select(Notification)))


def _task(session: Session, assignee: str | None, due: datetime | None, created: datetime) -> HumanTask:
    instance = start_lead(session, key=f"L-{created:%H%M%S%f}")
    task = ready_task(session, instance.id)
    session.execute(update(HumanTask).where(HumanTask.id == task.id).values(
        assignee=assignee, due_at=due, due_sort=due or datetime(9999, 1, 1, tzinfo=UTC), created_at=created))
    session.commit()
    return task


def test_each_notice_once_to_the_right_person(session: Session, smtp_server: Mailbox) -> None:  # noqa: F811
    now = NOON_CHINA
    _task(session, "officer.a", now + timedelta(days=10), now - timedelta(hours=1))  # newly assigned
    _task(session, "officer.a2", now + timedelta(days=1), now - timedelta(days=9))  # due soon
    _task(session, "officer.a", now - timedelta(days=1), now - timedelta(days=9))  # overdue
    _task(session, None, now - timedelta(days=1), now - timedelta(days=9))  # overdue, nobody holds it
    session.add(NotificationPreference(user_id="officer.a", email="zhangwei@weijian.test", email_immediate=True,
                                       email_digest=False, kinds=[]))
    session.commit()
    report = scan(session, now)
    session.commit()
    assert _notices(session) == [("head.a", "overdue"), ("officer.a", "assigned"), ("officer.a", "overdue"),
                                 ("officer.a2", "due_soon")]
    assert (report.created, report.emailed) == (4, 2)
    assert sorted(m[1][0] for m in smtp_server.messages) == ["zhangwei@weijian.test"] * 2
    subjects = sorted(str(make_header(decode_header(message_from_bytes(m[2])["Subject"])))
                      for m in smtp_server.messages)
    assert subjects == ["【卫监】已超期的任务：登记案源", "【卫监】新分配给您的任务：登记案源"]
    again = scan(session, now + timedelta(minutes=1))
    session.commit()
    assert again.created == 0 and len(smtp_server.messages) == 2


def test_the_daily_digest_goes_once_after_eight_with_what_is_unread(session: Session,
                                                                   smtp_server: Mailbox) -> None:  # noqa: F811
    now = NOON_CHINA
    _task(session, "officer.a2", now + timedelta(days=1), now - timedelta(days=9))
    _task(session, "officer.a2", now - timedelta(days=2), now - timedelta(days=9))
    session.add(NotificationPreference(user_id="officer.a2", email="lina@weijian.test", email_immediate=False,
                                       email_digest=True, kinds=["overdue"]))
    session.commit()
    scan(session, now)
    session.commit()
    early = now.replace(hour=23) - timedelta(days=1)  # 07:00 in Shanghai: too early
    assert send_digests(session, early).emailed == 0
    assert send_digests(session, now).emailed == 1
    session.commit()
    assert send_digests(session, now + timedelta(hours=3)).emailed == 0  # once a day
    (mail,) = smtp_server.messages
    assert mail[1] == ["lina@weijian.test"]
    emailed = session.scalar(select(func.count()).select_from(Notification).where(Notification.emailed_at.is_not(None)))
    assert emailed == 1  # only the kind she asked for


def test_the_bell_counts_and_a_notice_opens_its_task(session: Session, as_user: Any) -> None:
    task = _task(session, "officer.a", datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) - timedelta(days=3))
    scan(session, datetime.now(UTC))
    session.commit()
    officer = as_user("officer.a")
    page = officer.get("/inbox").get_data(as_text=True)
    assert 'class="bell-count">1<' in page
    notice = session.scalar(select(Notification))
    assert notice is not None
    opened = officer.get(f"/notifications/{notice.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tasks/{task.id}")
    assert 'class="bell-count"' not in officer.get("/inbox").get_data(as_text=True)
    assert as_user("officer.a2").get(f"/notifications/{notice.id}").status_code == 404


def test_settings_refuse_a_bad_address_and_write_nothing(session: Session, as_user: Any) -> None:
    officer = as_user("officer.a")
    officer.get("/account/notifications")
    bad = officer.post("/account/notifications", {"email": "not an address", "email_immediate": "1"})
    assert bad.status_code == 422 and "不是有效的电子邮件地址" in bad.get_data(as_text=True)
    missing = officer.post("/account/notifications", {"email": "", "email_digest": "1"})
    assert missing.status_code == 422
    assert session.get(NotificationPreference, "officer.a") is None
    officer.get("/account/notifications")
    saved = officer.post("/account/notifications", {"email": "zw@weijian.test", "email_digest": "1",
                                                    "kinds": ["overdue", "bogus"]})
    assert saved.status_code == 302
    pref = session.get(NotificationPreference, "officer.a")
    assert pref is not None and (pref.email, pref.email_digest, pref.email_immediate, pref.kinds) == (
        "zw@weijian.test", True, False, ["overdue"])
