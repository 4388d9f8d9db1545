"""The main paths of a complaint, end to end through the engine (the BDD scenarios cover the rules)."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

from tests.complaints.conftest import Mailbox
from tests.complaints.driver import ComplaintWorld


def test_a_report_is_verified_reviewed_replied_by_email_and_archived(world: ComplaintWorld,
                                                                     smtp_server: Mailbox) -> None:
    world.file_public(identity={"name": "王五", "email": "w@example.com"}, reply_channel="email")
    assert world.ready_names() == ["classify"]
    world.run_to("c1", "await_review_request")
    c = world.complaint()
    assert c.status == "replied" and c.reply_text and "复查" in c.reply_text
    assert [d.status for d in world.deliveries()] == ["sent"]
    assert len(smtp_server.messages) == 1
    sender, rcpts, raw = smtp_server.messages[0]
    mail = message_from_bytes(raw)
    assert rcpts == ["w@example.com"] and sender == "tousu@weijian.test"
    assert c.tracking_no in str(make_header(decode_header(mail["Subject"])))
    world.fire(world.now.replace(year=2025, month=11, day=1))
    assert world.complaint().status == "closed"
    assert all(i.status == "completed" for i in world.instances())
