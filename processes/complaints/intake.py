"""Registering a complaint: from the public portal or by a clerk (hotline, phone, letter, visit,
assigned by a higher unit, transferred by another department).

Why the checks are here and not only in a web form: the portal, the clerk's form, the API and
a hotline import all come through ``register``; whatever it refuses is refused everywhere, and
nothing is stored when anything is refused (the caller rolls back on ``ValidationError``).
Text is stored as typed (inert: pages escape it); attachments are checked by size, count and
content (the bytes must be the type the name claims), then stored once by SHA-256.

The tracking number is random (not a counter, so numbers cannot be walked) and the query code
is shown once and stored only as a salted SHA-256: the code has 60 random bits, so a fast hash
is enough and keeps tracking within its latency budget.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from marshmallow import ValidationError
from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

from engine import SYSTEM, Actor, start
from engine.clock import china_today
from engine.db import utcnow

from .identity import encrypt_identity
from .models import Complaint, ComplaintBlob
from .records import CHANNELS, KINDS, log
from .rule_store import effective_rules
from .rules import Rules

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone
CODE_LENGTH = 12
MAX_FACTS, MAX_REQUEST, MAX_NAME = 5000, 2000, 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Contact details a written reply goes to: a typo here is a reply nobody receives (bounded patterns).
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]{1,63}(\.[^@\s.]{1,63}){1,8}")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{5,18}[0-9]")
_SIGNATURES = {"pdf": (b"%PDF-",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
               "png": (b"\x89PNG\r\n\x1a\n",)}
_MEDIA = {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code.strip().upper()}".encode()).hexdigest()


def _text(errors: dict[str, list[str]], field: str, value: Any, limit: int, required: bool) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if _CONTROL.search(text):
        errors.setdefault(field, []).append("含有不允许的控制字符")
    elif required and not text:
        errors.setdefault(field, []).append("请填写此项")
    elif len(text) > limit:
        errors.setdefault(field, []).append(f"不能超过{limit}个字")
    return text


def normalise_target(name: str) -> str:
    """The target's name reduced for duplicate matching (spaces and punctuation removed, lower case)."""
    return re.sub(r"[\W_]+", "", name).lower()[:300]


def _bigrams(text: str) -> set[str]:
    clean = re.sub(r"[\W_]+", "", text)
    return {clean[i:i + 2] for i in range(len(clean) - 1)} or {clean}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of character pairs: works for Chinese without a word segmenter."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


class Candidate(NamedTuple):
    """An earlier complaint that duplicate and final-review checks compare with (only what they read)."""

    id: str
    tracking_no: str
    facts: str


FINALLY_REVIEWED = Complaint.review_level >= literal_column("2")
"""Complaints whose 复核 is done; a literal, so PostgreSQL and SQLite use the partial index
``ix_complaint_final_target`` (a bound parameter would hide the predicate from a generic plan)."""


def duplicates(session: Session, rules: Rules, target_key: str, facts: str, today: date,
               exclude: str | None = None) -> list[Candidate]:
    """Complaints about the same target with similar facts within the window (newest first).

    Reads three columns of at most 200 rows (``ix_complaint_target_received``), not whole rows:
    a busy target has that many complaints in the window, and each whole row carries its rules
    and JSON lists."""
    since = today - timedelta(days=rules.number("intake", "duplicate_window_days"))
    rows = session.execute(select(Complaint.id, Complaint.tracking_no, Complaint.facts)
                           .where(Complaint.target_key == target_key, Complaint.received_on >= since)
                           .order_by(Complaint.received_on.desc()).limit(200))
    found = [Candidate(*row) for row in rows]
    return [c for c in found if c.id != exclude and similarity(c.facts, facts) >= rules.similarity]


def finally_reviewed(session: Session, rules: Rules, target_key: str, facts: str) -> Candidate | None:
    """A complaint on the same facts whose 复核 is done: the same facts are not accepted again.

    Only the finally reviewed complaints of the target are read (a partial index holds just
    those): a busy target has thousands of complaints over the years and few of them reviewed."""
    rows = session.execute(select(Complaint.id, Complaint.tracking_no, Complaint.facts)
                           .where(Complaint.target_key == target_key, FINALLY_REVIEWED))
    return next((c for c in (Candidate(*row) for row in rows) if similarity(c.facts, facts) >= rules.similarity),
                None)


def check_attachments(errors: dict[str, list[str]], rules: Rules, files: Sequence[Attachment]) -> list[dict[str, Any]]:
    if len(files) > rules.number("intake", "max_attachments"):
        errors.setdefault("attachments", []).append(f"附件不能超过{rules.number('intake', 'max_attachments')}个")
        return []
    found: list[dict[str, Any]] = []
    for item in files:
        ext = item.name.rsplit(".", 1)[-1].lower() if "." in item.name else ""
        if len(item.content) > rules.max_attachment_bytes:
            errors.setdefault("attachments", []).append(
                f"{item.name}：超过{rules.number('intake', 'max_attachment_mb')}MB，请压缩后再上传")
        elif ext not in _SIGNATURES:
            errors.setdefault("attachments", []).append(f"{item.name}：只接受PDF、JPG、PNG文件")
        elif not item.content.startswith(_SIGNATURES[ext]):
            errors.setdefault("attachments", []).append(f"{item.name}：文件内容与扩展名不符")
        else:
            found.append({"name": item.name[:200], "sha256": hashlib.sha256(item.content).hexdigest(),
                          "size": len(item.content), "media_type": _MEDIA[ext], "content": item.content})
    return found


def store_blob(session: Session, content: bytes, media_type: str) -> str:
    digest = hashlib.sha256(content).hexdigest()
    if session.get(ComplaintBlob, digest) is None:
        session.add(ComplaintBlob(sha256=digest, media_type=media_type, size=len(content), content=content))
    return digest


def _random_serial() -> int:
    return secrets.randbelow(10**6)


NUMBER_SOURCE = _random_serial
"""Where the six random digits of a tracking number come from (tests that compare two runs fix it)."""


def _new_tracking_no(session: Session, today: date) -> str:
    for _ in range(10):
        number = f"TS{today:%Y%m%d}{NUMBER_SOURCE():06d}"
        if session.scalar(select(Complaint.id).where(Complaint.tracking_no == number)) is None:
            return number
    raise RuntimeError("could not find a free tracking number")


def register(session: Session, actor: Actor, *, unit_id: str, channel: str, facts: str, target_name: str = "",
             entity_id: str | None = None, entity_name: str | None = None, request: str = "",
             kind: str | None = None, identity: Mapping[str, Any] | None = None, reply_channel: str | None = None,
             attachments: Sequence[Attachment] = (), clerk_id: str | None = None,
             now: datetime | None = None) -> tuple[Complaint, str]:
    """Check everything, store the complaint, start its process; returns (complaint, query code)."""
    now = now or utcnow()
    today = china_today(now)
    rules = effective_rules(session)
    errors: dict[str, list[str]] = {}
    if channel not in CHANNELS:
        errors["channel"] = ["请选择来源渠道"]
    if kind is not None and kind not in KINDS:
        errors["kind"] = ["请选择类型"]
    facts = _text(errors, "facts", facts, MAX_FACTS, True)
    request = _text(errors, "request", request, MAX_REQUEST, False)
    target = _text(errors, "target_name", entity_name or target_name, MAX_NAME, True)
    identity = {k: _text(errors, f"identity.{k}", v, MAX_NAME, False) for k, v in (identity or {}).items()}
    anonymous = not any(identity.values())
    if identity.get("email") and not _EMAIL.fullmatch(identity["email"]):
        errors.setdefault("identity.email", []).append("电子邮箱格式不正确，例如 name@example.com")
    if identity.get("phone") and not _PHONE.fullmatch(identity["phone"]):
        errors.setdefault("identity.phone", []).append("电话号码格式不正确，只能包含数字、空格、连字符和开头的+号")
    if reply_channel not in (None, "", "email", "sms", "post"):
        errors["reply_channel"] = ["答复方式应为电子邮件、短信或者邮寄"]
    elif reply_channel and not anonymous and not identity.get({"email": "email", "sms": "phone",
                                                               "post": "address"}[reply_channel]):
        errors["reply_channel"] = ["请填写与答复方式对应的联系方式"]
    files = check_attachments(errors, rules, attachments)
    target_key = normalise_target(target)
    if not errors and (final := finally_reviewed(session, rules, target_key, facts)) is not None:
        errors["facts"] = [f"同一事实和理由已经复核终结（{final.tracking_no}），依照信访工作条例不再受理"]
    if errors:
        raise ValidationError(errors)
    salt, code = secrets.token_hex(8), "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    complaint = Complaint(
        id=str(uuid.uuid4()), tracking_no=_new_tracking_no(session, today), code_salt=salt,
        code_hash=code_hash(salt, code),
        channel=channel, kind=kind, status="registered", registered_unit_id=unit_id, unit_id=unit_id,
        entity_id=entity_id or None, target_name=target, target_key=target_key, facts=facts, request=request,
        attachments=[{k: v for k, v in f.items() if k != "content"} for f in files], anonymous=anonymous,
        identity_token=None if anonymous else encrypt_identity(identity), reply_channel=reply_channel or None,
        clerk_id=clerk_id, handlers=[], received_on=today, rules=rules.as_raw(), instance_ids=[],
        created_at=now, updated_at=now)
    for f in files:
        store_blob(session, f["content"], f["media_type"])
    complaint.duplicate_of = [c.tracking_no for c in duplicates(session, rules, target_key, facts, today)]
    session.add(complaint)
    session.flush()
    log(session, complaint, "registered", values={"what": KINDS.get(kind or "", "投诉举报"),
                                                  "tracking_no": complaint.tracking_no},
        data={"channel": channel, "duplicates": complaint.duplicate_of}, actor=actor.user_id, now=now)
    data = {"complaint_id": complaint.id, "tracking_no": complaint.tracking_no, "kind": kind, "channel": channel,
            "anonymous": anonymous, "received_on": today.isoformat(), "clock_start": today.isoformat(),
            "unit_id": unit_id, "entity_id": entity_id, "entity_name": target, "forward_to": None,
            "designated": False, "duplicates": complaint.duplicate_of, **rules.process_data()}
    instance = start(session, "complaint", actor if actor is not SYSTEM else SYSTEM, data,
                     business_key=complaint.tracking_no, unit_id=unit_id, entity_id=entity_id or None,
                     entity_name=target, now=now)
    complaint.instance_id, complaint.instance_ids = instance.id, [instance.id]
    session.flush()
    return complaint, code


def submit_public(session: Session, *, unit_id: str, facts: str, target_name: str = "", entity_id: str | None = None,
                  entity_name: str | None = None, request: str = "", kind: str | None = None,
                  identity: Mapping[str, Any] | None = None, reply_channel: str | None = None,
                  attachments: Sequence[Attachment] = (), now: datetime | None = None) -> tuple[str, str]:
    """A citizen's complaint from the portal: returns (tracking number, query code), the code only this once."""
    complaint, code = register(session, SYSTEM, unit_id=unit_id, channel="portal", facts=facts,
                               target_name=target_name, entity_id=entity_id, entity_name=entity_name, request=request,
                               kind=kind, identity=identity, reply_channel=reply_channel, attachments=attachments,
                               now=now)
    return complaint.tracking_no, code


def register_by_clerk(session: Session, actor: Actor, *, channel: str, facts: str, unit_id: str | None = None,
                      **kwargs: Any) -> tuple[Complaint, str]:
    """A clerk registers a complaint from a hotline, phone, letter, visit, a higher unit or a department."""
    unit = unit_id or actor.primary_unit
    if unit is None:
        raise ValidationError({"unit_id": ["请选择受理单位"]})
    return register(session, actor, unit_id=unit, channel=channel, facts=facts, clerk_id=actor.user_id, **kwargs)
