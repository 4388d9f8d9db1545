"""Written replies to the complainant and their delivery (email, SMS, post) through
``integrations.delivery``, as outbox jobs with retries.

Why deliveries are rows: each reply may go out through one channel, a job may run twice, and a
failed attempt must be retried without sending twice. ``queue`` writes a pending row per
message; ``send_pending`` (the ``complaints.deliver`` operator) sends the pending ones, marks
each sent, and raises after recording the failure so the engine retries the job. Anonymous
complainants get no delivery; the tracking page shows the reply to anyone with the code.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow
from integrations.delivery import DeliveryFailed, Message, deliver

from .identity import decrypt_identity
from .intake import store_blob
from .models import Complaint, ComplaintBlob, FeedbackDelivery

SUBJECTS = {"reply": "投诉举报答复", "refusal": "不予受理告知书", "filing_notice": "举报立案告知",
            "recheck": "复查复核意见", "transfer": "移送告知"}
CONTACT_FIELD = {"email": "email", "sms": "phone", "post": "address"}


def review_right(request_days: int) -> str:
    return f"如对本答复不服，可以自收到本答复之日起{request_days}日内向上一级机关请求复查。"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def letter(complaint: Complaint, kind: str, text: str, day: date) -> tuple[bytes, str]:
    """The printed letter: PDF when PDF rendering is on, else the same page as HTML."""
    from processes.penalty.documents import html_to_pdf, pdf_enabled

    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    page = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{SUBJECTS[kind]}</title>"
            f"<body><h1>{SUBJECTS[kind]}</h1><p>登记编号：{html.escape(complaint.tracking_no)}</p>{body}"
            f"<p style='text-align:right'>{cn_date(day)}</p></body></html>")
    if pdf_enabled():
        return html_to_pdf(page), "application/pdf"
    return page.encode(), "text/html; charset=utf-8"


def queue(session: Session, complaint: Complaint, kind: str, text: str, day: date) -> FeedbackDelivery | None:
    """A pending delivery of ``text`` through the complainant's reply channel (none when anonymous)."""
    if complaint.anonymous or not complaint.reply_channel:
        return None
    content, media = letter(complaint, kind, text, day)
    row = FeedbackDelivery(complaint_id=complaint.id, kind=kind, channel=complaint.reply_channel, status="pending",
                           document_sha256=store_blob(session, content, media), body=text, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def send_pending(session: Session, complaint: Complaint, now: datetime) -> dict[str, int]:
    """Send every pending delivery; raise ``DeliveryFailed`` (after recording it) if one failed."""
    rows = list(session.scalars(select(FeedbackDelivery).where(
        FeedbackDelivery.complaint_id == complaint.id, FeedbackDelivery.status == "pending")
        .order_by(FeedbackDelivery.id)))
    contact = decrypt_identity(complaint.identity_token) if rows else {}
    sent, failures = 0, []
    for row in rows:
        blob = session.get(ComplaintBlob, row.document_sha256) if row.document_sha256 else None
        text = row.body or _plain(blob)  # rows queued before the text was kept: the letter's text
        to = contact.get(CONTACT_FIELD[row.channel], "")
        message = Message(to=to, subject=f"{SUBJECTS.get(row.kind, '答复')}（{complaint.tracking_no}）", body=text,
                          attachment=blob.content if blob else None,
                          attachment_name=f"{complaint.tracking_no}-{row.kind}." + (
                              "pdf" if blob and blob.media_type == "application/pdf" else "html"),
                          attachment_type=(blob.media_type.split(";")[0] if blob else "application/pdf"))
        row.attempts += 1
        try:
            if not to:
                raise DeliveryFailed(f"no {CONTACT_FIELD[row.channel]} to deliver by {row.channel}")
            deliver(row.channel, message)
        except DeliveryFailed as exc:
            row.last_error = str(exc)[:2000]
            failures.append(str(exc))
            continue
        row.status, row.sent_at, row.last_error = "sent", now, None
        sent += 1
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return {"sent": sent}


def _plain(blob: ComplaintBlob | None) -> str:
    """The letter's text for the body of an email or SMS (the letter itself is attached)."""
    if blob is None:
        return ""
    if blob.media_type.startswith("text/html"):
        import re

        return html.unescape(re.sub(r"<[^>]+>", "\n", blob.content.decode("utf-8"))).strip()
    return "答复见附件。"
