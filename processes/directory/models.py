"""What every process shares: units (jurisdictions), staff, supervised entities and case documents.

The tables live on the engine's ``Base`` (one ``MetaData``, one naming convention) so Alembic
sees one schema. The engine never imports this module: it only knows the string ids kept here
(``Unit.id`` is an instance's ``unit_id``, ``User.id`` an actor's ``user_id``,
``Entity.credit_code`` an instance's ``entity_id``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

ROLES: dict[str, str] = {
    "officer": "执法人员",
    "legal_reviewer": "法制审核员",
    "head": "负责人",
    "chief_head": "正职负责人（主持工作的负责人）",  # with head: decides a transfer to the police (310号 Art. 5)
    "complaint_clerk": "投诉受理员",
    "admin": "系统管理员",
}
"""Role code → Chinese label. Lanes in BPMN use the codes."""

LEVELS: dict[str, str] = {"province": "省级", "city": "市级", "county": "县级"}

ENTITY_CATEGORIES: dict[str, str] = {
    "medical": "医疗机构",
    "public_place": "公共场所",
    "drinking_water": "生活饮用水",
    "school": "学校卫生",
    "disinfection": "消毒产品",
    "occupational": "职业卫生",
    "radiation": "放射卫生",
    "infectious": "传染病防治",
    "blood": "血液安全",
    "maternal": "母婴保健",
    "other": "其他",
}


class Unit(Base):
    """A supervision institute at one level (province > city > county), with its 6-digit region code.

    ``path`` is the chain of ids from the root (``/610000/610300/610302/``) so a user's subtree
    is one prefix query, however deep the tree.
    """

    __tablename__ = "dir_unit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(20))  # region short name used in document numbers
    level: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("dir_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(700), index=True)
    # An inactive unit takes no new staff, entities or cases; its history stays visible above it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A member of staff. ``id`` is the login name: it is what the audit trail records."""

    __tablename__ = "dir_user"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(50))  # 执法证号
    certificate_valid_until: Mapped[date | None]  # 执法证有效期至 (last valid day)
    unit_id: Mapped[str] = mapped_column(ForeignKey("dir_unit.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_admin(self) -> bool:
        return "admin" in (self.roles or [])


class Entity(Base):
    """A supervised organisation (管理相对人), keyed by its 统一社会信用代码."""

    __tablename__ = "dir_entity"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    category: Mapped[str] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    region_code: Mapped[str | None] = mapped_column(String(6))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    licence_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_id: Mapped[str] = mapped_column(ForeignKey("dir_unit.id"), index=True)  # the supervising unit
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFile(Base):
    """An uploaded file's content, stored once on disk under its SHA-256 (type sniffed on upload)."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))  # the first name it was uploaded under
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseDocument(Base):
    """A document of a case (一户一档): an uploaded file attached by a task, or a generated one."""

    __tablename__ = "case_document"
    __table_args__ = (Index("ix_case_document_instance", "instance_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="upload")  # upload | generated
    title: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)


class Throttle(Base):
    """Failed attempts at a secret (a password, a signing passphrase) per key, with back-off.

    Keys name what is guessed and from where (``login:<name>|<address>``, ``login:<name>``,
    ``sign:<user>``), never whether an account exists, so the answer and its timing are the same
    for every name (``processes.directory.throttle``).
    """

    __tablename__ = "dir_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UploadGrant(Base):
    """Who uploaded a stored file (each person once), so a form may name by SHA-256 only files
    its user holds: one they uploaded, or one already in the same case. Files are stored once
    per content; without this, knowing another unit's hash was enough to attach and download
    its file (``processes.directory.files``)."""

    __tablename__ = "dir_upload_grant"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """A notice to one person about one task: newly assigned to them, due soon, or overdue.

    One row per (user, kind, task): the scan that writes them may run any number of times (two
    schedulers, a restart) and never notifies twice. ``emailed_at`` is set when it went out by
    email (at once or in the daily digest), ``read_at`` when the person opened it or marked all read.
    """

    __tablename__ = "dir_notification"
    __table_args__ = (UniqueConstraint("user_id", "kind", "task_id"),
                      Index("ix_dir_notification_unread", "user_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"))
    kind: Mapped[str] = mapped_column(String(20))  # assigned | due_soon | overdue
    task_id: Mapped[str] = mapped_column(String(36))
    instance_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(300))
    case_label: Mapped[str | None] = mapped_column(String(300))
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """How a person wants to be told: always in the app; by email at once and/or in a daily digest."""

    __tablename__ = "dir_notification_pref"

    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200))
    email_immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    last_digest_on: Mapped[date | None] = mapped_column(Date)


class Substitution(Base):
    """An absence (休假、出差) with the colleague who stands in (代理/顶岗), days in China time.

    From ``starts_on`` to ``ends_on`` inclusive, unless ended early (``ended_at``): tasks that
    become the absent person's go to the substitute (``processes.directory.substitution``).
    """

    __tablename__ = "dir_substitution"
    __table_args__ = (Index("ix_dir_substitution_user", "user_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"))
    substitute_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(100))
