"""Adapters that carry a written reply to a person: email over SMTP, SMS through an HTTP
gateway, a letter for the post. Used by process packages' outbox operators (complaint feedback).

Why here: these talk to outside systems, and each is configured by the environment, not by a
process. They know nothing of complaints: a ``Message`` in, an exception out when it could not
be handed over (the outbox job then retries with backoff and becomes an incident at the end).

Settings: ``WEIJIAN_SMTP_HOST`` (default 127.0.0.1), ``WEIJIAN_SMTP_PORT`` (25),
``WEIJIAN_SMTP_FROM``, ``WEIJIAN_SMTP_STARTTLS`` (1 to use STARTTLS), ``WEIJIAN_SMTP_USER`` /
``WEIJIAN_SMTP_PASSWORD`` (optional); ``WEIJIAN_SMS_URL`` (the gateway's endpoint, receives JSON
``{"to", "text"}``) and ``WEIJIAN_SMS_TOKEN`` (sent as a bearer token when set).
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

TIMEOUT_SECONDS = 15


class DeliveryFailed(RuntimeError):
    """The message could not be handed over; the caller's job is retried."""


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str
    attachment: bytes | None = None
    attachment_name: str | None = None
    attachment_type: str = "application/pdf"


def send_email(message: Message) -> str:
    """Hand ``message`` to the configured SMTP server; returns the Message-ID."""
    host = os.environ.get("WEIJIAN_SMTP_HOST", "127.0.0.1")
    port = int(os.environ.get("WEIJIAN_SMTP_PORT", "25"))
    mail = EmailMessage()
    mail["From"] = os.environ.get("WEIJIAN_SMTP_FROM", "noreply@weijian.invalid")
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain="weijian")
    mail.set_content(message.body)
    if message.attachment is not None:
        main, _slash, sub = message.attachment_type.partition("/")
        mail.add_attachment(message.attachment, maintype=main, subtype=sub.split(";")[0],
                            filename=message.attachment_name or "reply.pdf")
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
            if os.environ.get("WEIJIAN_SMTP_STARTTLS") == "1":
                smtp.starttls()
            user = os.environ.get("WEIJIAN_SMTP_USER")
            if user:
                smtp.login(user, os.environ.get("WEIJIAN_SMTP_PASSWORD", ""))
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP {host}:{port}: {exc}") from exc
    return str(mail["Message-ID"])


def send_sms(message: Message) -> str:
    """POST ``{"to", "text"}`` to the SMS gateway; returns its answer (first 200 characters)."""
    url = os.environ.get("WEIJIAN_SMS_URL")
    if not url or not url.startswith(("http://", "https://")):
        raise DeliveryFailed("WEIJIAN_SMS_URL is not set to an http(s) URL")
    body = json.dumps({"to": message.to, "text": f"{message.subject}：{message.body}"[:500]}).encode()
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - scheme checked above
                                     headers={"Content-Type": "application/json"})
    token = os.environ.get("WEIJIAN_SMS_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            if response.status >= 300:
                raise DeliveryFailed(f"SMS gateway answered {response.status}")
            return str(response.read(200).decode("utf-8", "replace"))
    except OSError as exc:
        raise DeliveryFailed(f"SMS gateway {url}: {exc}") from exc


def queue_letter(message: Message) -> str:
    """A letter for the post: the printed document is the attachment, kept by the caller; the
    print room works from the list of letters queued. Nothing leaves the building here."""
    if message.attachment is None:
        raise DeliveryFailed("a letter needs its printed document")
    return "queued for printing"


SENDERS = {"email": send_email, "sms": send_sms, "post": queue_letter}


def deliver(channel: str, message: Message) -> str:
    sender = SENDERS.get(channel)
    if sender is None:
        raise DeliveryFailed(f"no delivery channel {channel!r}")
    return sender(message)
