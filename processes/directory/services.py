"""Directory services: create units, staff and entities; sign-in with lockout; the engine ``Actor``.

Plain functions taking the caller's ``Session``; none commits (the request or CLI command does).
Validation problems raise ``DirectoryError`` with a Chinese message and the field it concerns,
so a form can show it next to the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine import Actor
from engine.db import utcnow
from engine.errors import InvalidData

from . import throttle
from .codes import credit_code_problem, normalize_credit_code, region_code_problem
from .models import ENTITY_CATEGORIES, LEVELS, ROLES, Entity, Unit, User

_hasher = PasswordHasher()
# Verified against when the login name is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("weijian-no-such-user")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,49}$")
UNIT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MIN_PASSWORD = 8
PARENT_LEVEL = {"province": None, "city": "province", "county": ("province", "city")}


class DirectoryError(InvalidData):
    """Invalid directory input; ``field`` names the form field at fault."""

    code = "invalid_data"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.field = field


# -- units ------------------------------------------------------------------------------------

def create_unit(session: Session, unit_id: str, name: str, level: str, region_code: str,
                parent_id: str | None = None, short_name: str | None = None) -> Unit:
    if not UNIT_ID_RE.match(unit_id or ""):
        raise DirectoryError("单位编号只能包含字母、数字、下划线和连字符", "id")
    if session.get(Unit, unit_id) is not None:
        raise DirectoryError(f"单位编号 {unit_id} 已存在", "id")
    if level not in LEVELS:
        raise DirectoryError("请选择单位级别", "level")
    if not (name or "").strip():
        raise DirectoryError("请填写单位名称", "name")
    parent = session.get(Unit, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise DirectoryError("上级单位不存在", "parent_id")
    if parent is not None and not parent.active:
        raise DirectoryError("上级单位已停用", "parent_id")
    allowed = PARENT_LEVEL[level]
    if parent is None and allowed is not None:
        raise DirectoryError("市级、县级单位必须选择上级单位", "parent_id")
    if parent is not None and (allowed is None or parent.level not in (allowed if isinstance(allowed, tuple)
                                                                         else (allowed,))):
        raise DirectoryError("上级单位的级别不正确", "parent_id")
    problem = region_code_problem(region_code, level, parent.region_code if parent else None)
    if problem:
        raise DirectoryError(problem, "region_code")
    unit = Unit(id=unit_id, name=name.strip(), short_name=(short_name or name.strip()[:1]).strip()[:20],
                level=level, region_code=region_code.strip(), parent_id=parent.id if parent else None,
                path=f"{parent.path if parent else '/'}{unit_id}/")
    session.add(unit)
    return unit


def active_unit(session: Session, unit_id: str | None, missing: str, field: str) -> Unit:
    """The unit ``unit_id`` when it exists and is active: new staff, entities and cases go only there."""
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise DirectoryError(missing, field)
    if not unit.active:
        raise DirectoryError(f"单位 {unit.name} 已停用", field)
    return unit


def subtree_ids(session: Session, unit_id: str) -> list[str]:
    """The unit and every unit below it (a provincial user sees cities and counties)."""
    # One round trip: every unit whose path begins with the unit's own (compared as a prefix,
    # not with LIKE, so no character of a path is a wildcard); none when the unit does not exist.
    return list(session.scalars(_SUBTREE, {"unit_id": unit_id}))


_TOP = aliased(Unit)
_SUBTREE = (select(Unit.id).join(_TOP, _TOP.id == bindparam("unit_id"))
            .where(func.substr(Unit.path, 1, func.length(_TOP.path)) == _TOP.path))


def units_tree(session: Session) -> list[tuple[int, Unit]]:
    """Every unit with its depth, parents before children (for lists and selects)."""
    units = list(session.scalars(select(Unit).order_by(Unit.path)))
    return [(u.path.count("/") - 2, u) for u in units]


# -- staff ------------------------------------------------------------------------------------

def _check_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted({r.strip() for r in roles if r and r.strip()})
    unknown = [r for r in chosen if r not in ROLES]
    if unknown:
        raise DirectoryError(f"未知角色：{', '.join(unknown)}", "roles")
    if not chosen:
        raise DirectoryError("至少选择一个角色", "roles")
    return chosen


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise DirectoryError(f"密码至少{MIN_PASSWORD}位", "password")
    return _hasher.hash(password)


def create_user(session: Session, username: str, display_name: str, unit_id: str, roles: Sequence[str],
                password: str, certificate_no: str | None = None,
                certificate_valid_until: str | None = None) -> User:
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise DirectoryError("登录名为2-50位小写字母、数字、点、下划线或连字符", "id")
    if session.get(User, username) is not None:
        raise DirectoryError(f"登录名 {username} 已存在", "id")
    if not (display_name or "").strip():
        raise DirectoryError("请填写姓名", "display_name")
    active_unit(session, unit_id, "所属单位不存在", "unit_id")
    checked = _check_roles(roles)
    if "officer" in checked and not (certificate_no or "").strip():
        raise DirectoryError("执法人员须填写执法证号", "certificate_no")
    valid_until = certificate_valid_until_from(certificate_valid_until)
    user = User(id=username, display_name=display_name.strip()[:100], password_hash=hash_password(password),
                certificate_no=(certificate_no or "").strip() or None, certificate_valid_until=valid_until,
                unit_id=unit_id, roles=checked,
                active=True, failed_logins=0, password_changed_at=utcnow())
    session.add(user)
    return user


def update_user(session: Session, user: User, *, display_name: str | None = None, unit_id: str | None = None,
                roles: Sequence[str] | None = None, certificate_no: str | None = None,
                certificate_valid_until: str | None = None, active: bool | None = None) -> User:
    """Change what is given; ``None`` leaves a field as it is (an empty validity date clears it)."""
    if display_name is not None:
        if not display_name.strip():
            raise DirectoryError("请填写姓名", "display_name")
        user.display_name = display_name.strip()[:100]
    if unit_id is not None and unit_id != user.unit_id:
        active_unit(session, unit_id, "所属单位不存在", "unit_id")
        user.unit_id = unit_id
    if active and not user.active:
        active_unit(session, user.unit_id, "所属单位不存在", "unit_id")  # no active staff in a closed unit
    if certificate_no is not None:
        user.certificate_no = certificate_no.strip() or None
    if certificate_valid_until is not None:
        user.certificate_valid_until = certificate_valid_until_from(certificate_valid_until)
    if roles is not None:
        user.roles = _check_roles(roles)
    if "officer" in user.roles and not user.certificate_no:
        raise DirectoryError("执法人员须填写执法证号", "certificate_no")
    if active is not None:
        user.active = active
    return user


def certificate_valid_until_from(text: str | None) -> date | None:
    """The certificate's last valid day as entered (YYYY-MM-DD); empty means not recorded."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DirectoryError("执法证有效期请按YYYY-MM-DD填写，例如2027-12-31", "certificate_valid_until") from None


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def unlock(session: Session, user: User) -> None:
    """Let someone whose sign-ins are being slowed down try again at once (every source)."""
    user.failed_logins, user.locked_until = 0, None
    throttle.clear_prefix(session, f"login:{user.id}")


class SignInRefused(Exception):
    """Sign-in failed: ``bad_credentials`` (wrong name or password, inactive) or ``throttled``
    (too many attempts for this name from here: ``locked_until`` says when to try again)."""

    def __init__(self, reason: str, locked_until: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.locked_until = locked_until


def login_policies(max_failures: int = 5, lock_minutes: int = 15) -> tuple[throttle.Policy, throttle.Policy]:
    """(per name and source, per name from everywhere). [practice] OWASP ASVS 2.2.1: the wider
    key allows ten times as many attempts, enough for an office behind one address."""
    per_source = throttle.Policy(free=max_failures, base_seconds=30, max_seconds=lock_minutes * 60)
    per_account = throttle.Policy(free=max_failures * 10, base_seconds=30, max_seconds=lock_minutes * 60)
    return per_source, per_account


def authenticate(session: Session, username: str, password: str, *, source: str = "", max_failures: int = 5,
                 lock_minutes: int = 15, now: datetime | None = None) -> User:
    """Check a login; slow down guessing per name and source, never lock anyone out.

    The attempt is counted and **committed before** the password is checked (``throttle``),
    so parallel guesses cannot overrun the budget while argon2 works; the caller commits the
    outcome. Unknown names, wrong passwords, inactive accounts and throttled attempts take the
    same argon2 check, so neither the answer nor its timing tells whether a name exists.
    """
    now = now or utcnow()
    name = (username or "").strip().lower()[:100]
    per_source, per_account = login_policies(max_failures, lock_minutes)
    keys = {f"login:{name}|{source}": per_source, f"login:{name}": per_account}
    refused = throttle.reserve(session, keys, now)
    session.commit()
    user = session.get(User, name) if name else None
    if refused is not None or user is None:
        _verify(_DUMMY_HASH, password)
        if refused is not None:
            raise SignInRefused("throttled", refused.retry_at)
        raise SignInRefused("bad_credentials")
    if not _verify(user.password_hash, password) or not user.active:
        raise SignInRefused("bad_credentials")
    throttle.clear(session, *keys)
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def actor_for(session: Session, user: User) -> Actor:
    """The engine's view of a user: roles, and their unit with every unit below it."""
    return Actor.of(user.id, list(user.roles or []), subtree_ids(session, user.unit_id),
                    is_admin=user.is_admin)


def staff_in_units(session: Session, unit_ids: Iterable[str], role: str | None = None) -> list[User]:
    users = list(session.scalars(select(User).where(User.unit_id.in_(sorted(set(unit_ids))), User.active)
                                 .order_by(User.unit_id, User.id)))
    return [u for u in users if role is None or role in (u.roles or [])]


def display_names(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# -- entities ---------------------------------------------------------------------------------

def create_entity(session: Session, credit_code: str, name: str, category: str, unit_id: str, *,
                  address: str | None = None, region_code: str | None = None,
                  legal_representative: str | None = None, licence_numbers: Sequence[str] = ()) -> Entity:
    code = normalize_credit_code(credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise DirectoryError(problem, "credit_code")
    if session.get(Entity, code) is not None:
        raise DirectoryError(f"统一社会信用代码 {code} 已登记", "credit_code")
    if not (name or "").strip():
        raise DirectoryError("请填写单位名称", "name")
    if category not in ENTITY_CATEGORIES:
        raise DirectoryError("请选择监督类别", "category")
    active_unit(session, unit_id, "监管单位不存在", "unit_id")
    region = (region_code or code[2:8]).strip()
    problem = region_code_problem(region)
    if problem:
        raise DirectoryError(problem, "region_code")
    entity = Entity(credit_code=code, name=name.strip()[:300], category=category, unit_id=unit_id,
                    address=(address or "").strip() or None, region_code=region,
                    legal_representative=(legal_representative or "").strip() or None,
                    licence_numbers=[n.strip() for n in licence_numbers if n and n.strip()])
    session.add(entity)
    return entity


def search_entities(session: Session, actor: Actor, query: str = "", limit: int = 50) -> list[Entity]:
    """Entities supervised within the actor's units, matching name or credit code."""
    stmt = select(Entity)
    if not actor.is_admin:
        stmt = stmt.where(Entity.unit_id.in_(sorted(actor.unit_ids)))
    text = (query or "").strip()
    if text:
        stmt = stmt.where(or_(Entity.name.contains(text, autoescape=True),
                              Entity.credit_code.startswith(text.upper(), autoescape=True)))
    return list(session.scalars(stmt.order_by(Entity.name).limit(limit)))
