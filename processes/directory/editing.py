"""Editing units and supervised entities: the same checks as creating them, plus the tree's shape.

Each function validates everything before changing anything, and returns the changes as
``{field: [before, after]}`` so the caller records them in the audit trail; an empty dict
means nothing changed. A unit's id stays fixed (staff, cases and case numbers refer to it); a
unit that closes is deactivated instead, once nobody works in it and nothing waits there. An
entity is keyed by its 统一社会信用代码: a mistyped code may be corrected while no case refers to
the entity yet; after that the code is the key of its case file (一户一档) and stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance

from .codes import credit_code_problem, normalize_credit_code, region_code_problem
from .models import ENTITY_CATEGORIES, Entity, Unit, User
from .services import PARENT_LEVEL, DirectoryError, active_unit

Changes = dict[str, list[Any]]


def _record(changes: Changes, obj: Any, field: str, value: Any) -> None:
    before = getattr(obj, field)
    if before != value:
        changes[field] = [before, value]


def update_unit(session: Session, unit: Unit, *, name: str, short_name: str, region_code: str,
                parent_id: str | None) -> Changes:
    """Rename, re-code or move a unit; its whole subtree moves with it."""
    name, short_name, region_code = (name or "").strip(), (short_name or "").strip(), (region_code or "").strip()
    if not name:
        raise DirectoryError("请填写单位名称", "name")
    if len(name) > 200:
        raise DirectoryError("单位名称不能超过200个字", "name")
    if not short_name or len(short_name) > 20:
        raise DirectoryError("请填写简称（用于文书编号，最多20个字）", "short_name")
    parent = session.get(Unit, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise DirectoryError("上级单位不存在", "parent_id")
    if parent is not None and parent.path.startswith(unit.path):
        raise DirectoryError("不能把单位移到它自己或它的下级单位之下", "parent_id")
    if parent is not None and unit.active and not parent.active:
        raise DirectoryError("上级单位已停用", "parent_id")
    allowed = PARENT_LEVEL[unit.level]
    if parent is None and allowed is not None:
        raise DirectoryError("市级、县级单位必须选择上级单位", "parent_id")
    if parent is not None and (allowed is None or parent.level not in (allowed if isinstance(allowed, tuple)
                                                                         else (allowed,))):
        raise DirectoryError("上级单位的级别不正确", "parent_id")
    problem = region_code_problem(region_code, unit.level, parent.region_code if parent else None)
    if problem:
        raise DirectoryError(problem, "region_code")
    changes: Changes = {}
    _record(changes, unit, "name", name)
    _record(changes, unit, "short_name", short_name)
    _record(changes, unit, "region_code", region_code)
    _record(changes, unit, "parent_id", parent.id if parent else None)
    unit.name, unit.short_name, unit.region_code = name, short_name, region_code
    if "parent_id" in changes:
        old_path = unit.path
        new_path = f"{parent.path if parent else '/'}{unit.id}/"
        for row in session.scalars(select(Unit).where(Unit.path.startswith(old_path, autoescape=True))):
            row.path = new_path + row.path[len(old_path):]
        unit.parent_id = parent.id if parent else None
        changes["path"] = [old_path, new_path]
    return changes


def _count(session: Session, *where: Any) -> int:
    return session.scalar(select(func.count()).where(*where)) or 0


def set_unit_active(session: Session, unit: Unit, active: bool) -> Changes:
    """Deactivate a unit nobody works in and nothing waits in, or bring one back.

    Every refusal names what is left, so the admin knows what to move first: active staff,
    active units below it, tasks still open there, or cases still running there (their next
    task would land in a unit nobody can work in).
    """
    if active == unit.active:
        return {}
    if active:
        parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
        if parent is not None and not parent.active:
            raise DirectoryError("上级单位已停用，请先启用上级单位", "active")
    else:
        staff = _count(session, User.unit_id == unit.id, User.active)
        if staff:
            raise DirectoryError(f"该单位还有{staff}名在职人员，请先调出或停用", "active")
        below = _count(session, Unit.path.startswith(unit.path, autoescape=True), Unit.id != unit.id, Unit.active)
        if below:
            raise DirectoryError(f"该单位还有{below}个未停用的下级单位，请先停用或移走", "active")
        tasks = _count(session, HumanTask.unit_id == unit.id, HumanTask.status == "ready")
        if tasks:
            raise DirectoryError(f"该单位还有{tasks}项待办任务，请先办结或转交", "active")
        cases = _count(session, ProcessInstance.unit_id == unit.id, ProcessInstance.status == "running")
        if cases:
            raise DirectoryError(f"该单位还有{cases}件办理中的案件，请先办结", "active")
    changes: Changes = {}
    _record(changes, unit, "active", active)
    unit.active = active
    return changes


def _new_credit_code(session: Session, entity: Entity, credit_code: str | None) -> str:
    """The entity's code after the edit: checked, unique, and changed only while no case uses it."""
    code = normalize_credit_code(credit_code) if credit_code is not None else entity.credit_code
    if code == entity.credit_code:
        return code
    problem = credit_code_problem(code)
    if problem:
        raise DirectoryError(problem, "credit_code")
    other = session.get(Entity, code)
    if other is not None:
        raise DirectoryError(f"统一社会信用代码 {code} 已登记为 {other.name}", "credit_code")
    if _count(session, ProcessInstance.entity_id == entity.credit_code):
        raise DirectoryError("该单位已有案件，统一社会信用代码不能再修改", "credit_code")
    return code


def update_entity(session: Session, entity: Entity, *, name: str, category: str, unit_id: str,
                  address: str | None, region_code: str | None, legal_representative: str | None,
                  licence_numbers: Sequence[str], credit_code: str | None = None) -> Changes:
    """Correct an entity's particulars (and a mistyped credit code while it has no case yet)."""
    code = _new_credit_code(session, entity, credit_code)
    name = (name or "").strip()
    if not name:
        raise DirectoryError("请填写单位名称", "name")
    if len(name) > 300:
        raise DirectoryError("单位名称不能超过300个字", "name")
    if category not in ENTITY_CATEGORIES:
        raise DirectoryError("请选择监督类别", "category")
    if unit_id != entity.unit_id:
        active_unit(session, unit_id, "监管单位不存在", "unit_id")
    region = (region_code or "").strip() or code[2:8]
    problem = region_code_problem(region)
    if problem:
        raise DirectoryError(problem, "region_code")
    address_ = (address or "").strip() or None
    if address_ and len(address_) > 500:
        raise DirectoryError("地址不能超过500个字", "address")
    legal = (legal_representative or "").strip() or None
    if legal and len(legal) > 100:
        raise DirectoryError("法定代表人不能超过100个字", "legal_representative")
    licences = [n.strip() for n in licence_numbers if n and n.strip()]
    if len(licences) > 20 or any(len(n) > 100 for n in licences):
        raise DirectoryError("许可证号最多20个，每个不超过100个字", "licence_numbers")
    changes: Changes = {}
    for field, value in (("credit_code", code), ("name", name), ("category", category), ("unit_id", unit_id),
                         ("address", address_), ("region_code", region), ("legal_representative", legal),
                         ("licence_numbers", licences)):
        _record(changes, entity, field, value)
        setattr(entity, field, value)
    return changes
