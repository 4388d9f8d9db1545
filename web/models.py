"""Tables only the web layer needs: saved inbox filters, API tokens for outside systems, case comments
and follow-up dates on tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class SavedFilter(Base):
    """A named inbox filter a user keeps on the server (tab, process, task, entity, due range, order)."""

    __tablename__ = "web_saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for an outside system acting as ``user_id``.

    Only the SHA-256 of the token is stored (the token is shown once, at creation); tokens are
    random 256-bit values, so a plain hash is enough and lookup stays one indexed equality.
    """

    __tablename__ = "web_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser session, checked on every request so that signing out, a password
    change or an administrator's reset ends it on the server, whatever the cookie still says.

    The cookie carries a random id; only its SHA-256 is stored. ``expires_at`` is the absolute
    lifetime (the idle timeout is checked as well).
    """

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dir_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class CaseComment(Base):
    """A remark on a case, or on one of its tasks, by someone who may see the case.

    Everyone who can see the case sees its comments; each one is also an event in the case's
    audit chain (``case_comment`` with the text's SHA-256), so a comment cannot be edited or
    removed without the chain showing it.
    """

    __tablename__ = "web_case_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_title: Mapped[str | None] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskFollowUp(Base):
    """A follow-up date its holder set on a task (Camunda's follow-up date): until that day
    (China time) the task is kept out of the holder's default inbox tab and listed under
    已推迟. It counts only while the person who set it still holds the task, so a task passed
    to someone else is never hidden from them. Setting and clearing are audited on the case."""

    __tablename__ = "web_task_follow_up"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100))
    follow_up_on: Mapped[date]
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDelegationDraft(Base):
    """What a delegate entered in a delegated task's form (saved or handed back), so the owner
    sees it prefilled when the task is back with them. One row per task; the delegation itself
    (who, when, the note) is on the task row and the case's audit chain."""

    __tablename__ = "web_task_delegation_draft"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
