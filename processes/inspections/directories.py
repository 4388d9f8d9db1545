"""The pools a draw samples from, kept editable: the item list, entity profiles, the risk ledger and
the inspector roster (with leave).

Why services and not free table edits: every change is checked (credit codes, grades, dates,
categories) and appended to the system audit chain (``engine.audit``), since 国办发〔2015〕58号
asks for a full electronic trail of who could be drawn. Functions take the caller's session and
never commit; a refusal raises ``DirectoryError`` with the Chinese message and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, audit
from engine.db import utcnow
from processes.directory.codes import credit_code_problem, normalize_credit_code
from processes.directory.models import ENTITY_CATEGORIES, Entity, Unit, User
from processes.directory.services import DirectoryError

from .models import EntityProfile, InspectionItem, Inspector, InspectorLeave, RiskEntry
from .rules import CREDIT_GRADES, RISK_LEVELS

ENTITY_STATUSES = {"active": "正常", "inactive": "停业", "closed": "注销或者关闭"}
RISK_SOURCES = {"complaint": "投诉举报", "inspection": "抽查不合格", "penalty": "行政处罚", "assessment": "风险评估"}


def _audit(session: Session, actor: Actor, action: str, data: dict[str, Any]) -> None:
    audit.append(session, actor.user_id, action, data=data)


def _category(value: str, field: str = "category") -> str:
    if value not in ENTITY_CATEGORIES:
        raise DirectoryError(f"专业类别{value}不存在", field)
    return value


# -- item list ---------------------------------------------------------------------------------

def add_item(session: Session, actor: Actor, *, code: str, category: str, name: str, legal_basis: str,
             checklist: Sequence[str]) -> InspectionItem:
    """A new item, or a new version of an existing code (earlier versions stay for old plans)."""
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise DirectoryError("请填写事项编码（不超过40个字符）", "code")
    if not (name or "").strip():
        raise DirectoryError("请填写抽查事项名称", "name")
    if not (legal_basis or "").strip():
        raise DirectoryError("请填写检查依据", "legal_basis")
    items = [c.strip() for c in checklist if c and c.strip()]
    if not items:
        raise DirectoryError("检查内容至少一项", "checklist")
    latest = session.scalar(select(func.max(InspectionItem.version)).where(InspectionItem.code == code)) or 0
    for old in session.scalars(select(InspectionItem).where(InspectionItem.code == code, InspectionItem.active)):
        old.active = False
    item = InspectionItem(code=code, version=latest + 1, category=_category(category), name=name.strip(),
                          legal_basis=legal_basis.strip(), checklist=items, active=True, created_by=actor.user_id)
    session.add(item)
    session.flush()
    _audit(session, actor, "inspection_item_saved", {"code": code, "version": item.version, "category": category})
    return item


def items_for(session: Session, categories: Iterable[str]) -> list[InspectionItem]:
    return list(session.scalars(select(InspectionItem).where(InspectionItem.active,
                                                             InspectionItem.category.in_(list(categories)))
                                .order_by(InspectionItem.category, InspectionItem.code)))


# -- entity profiles ---------------------------------------------------------------------------

def profile_of(session: Session, credit_code: str) -> EntityProfile:
    """The entity's profile, made on first use (every directory entity has one implicitly)."""
    code = normalize_credit_code(credit_code)
    profile = session.get(EntityProfile, code)
    if profile is None:
        entity = session.get(Entity, code)
        if entity is None:
            raise DirectoryError(f"名录库中没有统一社会信用代码为{code}的单位", "credit_code")
        profile = EntityProfile(credit_code=code, status="active", risk_level="normal", complaint_count=0,
                                region_code=entity.region_code)
        session.add(profile)
    return profile


def set_profile(session: Session, actor: Actor, credit_code: str, **values: Any) -> EntityProfile:
    """Change status, credit grade, complaint count, last inspection, region or coordinates."""
    profile = profile_of(session, credit_code)
    changed = check_profile_values(values)
    for key, value in changed.items():
        setattr(profile, key, value)
    profile.updated_at = utcnow()
    session.flush()
    shown = {k: str(v) if isinstance(v, date) else v for k, v in changed.items()}
    _audit(session, actor, "inspection_entity_profile_changed", {"credit_code": profile.credit_code, **shown})
    return profile


def check_profile_values(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, given in values.items():
        value = given
        if key == "status":
            if value not in ENTITY_STATUSES:
                raise DirectoryError("经营状态应为正常、停业或者注销", "status")
        elif key == "credit_grade":
            value = (value or "").strip().upper() or None
            if value is not None and value not in CREDIT_GRADES:
                raise DirectoryError("信用等级应为A、B、C或者D", "credit_grade")
        elif key == "complaint_count":
            if not isinstance(value, int) or value < 0:
                raise DirectoryError("投诉举报次数应为不小于0的整数", "complaint_count")
        elif key in ("latitude", "longitude"):
            value = _coordinate(value, 90 if key == "latitude" else 180, key)
        elif key == "region_code":
            if value and not (len(str(value)) == 6 and str(value).isdigit()):
                raise DirectoryError("行政区划代码为6位数字", "region_code")
        elif key != "last_inspected_on":
            raise DirectoryError(f"不能修改{key}", key)
        out[key] = value
    return out


def _coordinate(value: Any, limit: int, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value))
    except ValueError as exc:
        raise DirectoryError("坐标应为十进制度数", field) from exc
    if not -limit <= number <= limit:
        raise DirectoryError(f"坐标应在-{limit}到{limit}之间", field)
    return str(value).strip()


# -- risk ledger -------------------------------------------------------------------------------

def open_risk(session: Session, actor: Actor, credit_code: str, *, source: str, level: str, reason: str,
              on: date, source_ref: str | None = None) -> RiskEntry:
    """Open a ledger entry (from a complaint, a failed inspection, a penalty or an assessment)."""
    if source not in RISK_SOURCES:
        raise DirectoryError("风险来源不正确", "source")
    if level not in RISK_LEVELS:
        raise DirectoryError("风险等级应为常态或者高风险", "level")
    if not (reason or "").strip():
        raise DirectoryError("请填写风险事由", "reason")
    profile = profile_of(session, credit_code)
    entry = RiskEntry(credit_code=profile.credit_code, source=source, source_ref=source_ref, level=level,
                      reason=reason.strip(), opened_on=on, opened_by=actor.user_id)
    session.add(entry)
    session.flush()
    _refresh_level(session, profile)
    _audit(session, actor, "inspection_risk_opened", {"entry": entry.id, "credit_code": profile.credit_code,
                                                      "source": source, "level": level, "ref": source_ref})
    return entry


def close_risk(session: Session, actor: Actor, entry_id: int, *, reason: str, on: date) -> RiskEntry:
    """销账: close an entry with a reason; the entity's level follows its open entries."""
    entry = session.get(RiskEntry, entry_id, with_for_update=True)
    if entry is None:
        raise DirectoryError("风险台账记录不存在", "entry")
    if entry.closed_on is not None:
        raise DirectoryError("该风险记录已销账", "entry")
    if not (reason or "").strip():
        raise DirectoryError("请填写销账理由", "reason")
    entry.closed_on, entry.closed_by, entry.close_reason = on, actor.user_id, reason.strip()
    session.flush()
    _refresh_level(session, profile_of(session, entry.credit_code))
    _audit(session, actor, "inspection_risk_closed", {"entry": entry.id, "credit_code": entry.credit_code})
    return entry


def _refresh_level(session: Session, profile: EntityProfile) -> None:
    high = session.scalar(select(RiskEntry.id).where(RiskEntry.credit_code == profile.credit_code,
                                                     RiskEntry.closed_on.is_(None), RiskEntry.level == "high").limit(1))
    profile.risk_level = "high" if high is not None else "normal"


# -- inspector roster --------------------------------------------------------------------------

def save_inspector(session: Session, actor: Actor, user_id: str, *, certificate_no: str, valid_from: date,
                   valid_until: date, specialties: Sequence[str], relatives_at: Sequence[str] = (),
                   former_employers: Sequence[str] = (), active: bool = True) -> Inspector:
    """Add or update a roster entry for a directory user (the unit is the user's)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise DirectoryError(f"用户{user_id}不存在或者已停用", "user_id")
    if not (certificate_no or "").strip():
        raise DirectoryError("请填写执法证号", "certificate_no")
    if valid_until < valid_from:
        raise DirectoryError("执法证有效期截止日期不能早于起始日期", "valid_until")
    for category in specialties:
        _category(category, "specialties")
    conflicts = {}
    for field, codes in (("relatives_at", relatives_at), ("former_employers", former_employers)):
        clean = sorted({normalize_credit_code(c) for c in codes if c})
        for code in clean:
            if credit_code_problem(code):
                raise DirectoryError(f"{code}：{credit_code_problem(code)}", field)
        conflicts[field] = clean
    inspector = session.get(Inspector, user_id) or Inspector(user_id=user_id)
    inspector.unit_id, inspector.certificate_no = user.unit_id, certificate_no.strip()
    inspector.certificate_valid_from, inspector.certificate_valid_until = valid_from, valid_until
    inspector.specialties = sorted(set(specialties))
    inspector.relatives_at, inspector.former_employers = conflicts["relatives_at"], conflicts["former_employers"]
    inspector.active, inspector.updated_at = active, utcnow()
    session.add(inspector)
    session.flush()
    _audit(session, actor, "inspection_inspector_saved",
           {"user_id": user_id, "certificate_no": inspector.certificate_no, "valid_until": valid_until.isoformat(),
            "specialties": inspector.specialties, "conflicts": len(conflicts["relatives_at"])
            + len(conflicts["former_employers"])})
    return inspector


def add_leave(session: Session, actor: Actor, user_id: str, starts_on: date, ends_on: date,
              reason: str) -> InspectorLeave:
    if session.get(Inspector, user_id) is None:
        raise DirectoryError(f"{user_id}不在执法检查人员名录库中", "user_id")
    if ends_on < starts_on:
        raise DirectoryError("结束日期不能早于开始日期", "ends_on")
    if len((reason or "").strip()) > 200:
        raise DirectoryError("请假事由不超过200个字符", "reason")
    leave = InspectorLeave(user_id=user_id, starts_on=starts_on, ends_on=ends_on,
                           reason=(reason or "").strip() or "请假")
    session.add(leave)
    session.flush()
    _audit(session, actor, "inspection_inspector_leave", {"user_id": user_id, "from": starts_on.isoformat(),
                                                          "to": ends_on.isoformat()})
    return leave


def scope_units(session: Session, unit_ids: Iterable[str]) -> list[str]:
    """The units and every unit below them (a city plan covers its counties)."""
    paths = list(session.scalars(select(Unit.path).where(Unit.id.in_(list(unit_ids)))))
    found: set[str] = set()
    for path in paths:
        found.update(session.scalars(select(Unit.id).where(Unit.path.startswith(path), Unit.active)))
    return sorted(found)
