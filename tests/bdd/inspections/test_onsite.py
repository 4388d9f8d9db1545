"""现场检查记录: steps for onsite.feature (the item's checklist, evidence hashes, the representative's refusal).

The refusals are ``service.submit_task``'s own: the schema's (refusal note, evidence hash) and the
ones that need the case (a nonconforming line must be one of the plan's item checklist lines).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from processes.directory.files import grant_upload
from processes.inspections import directories
from processes.inspections.models import Inspection
from tests.inspections.driver import PLANNER, InspectionWorld

scenarios("onsite.feature")


@given(parsers.parse('"{category}"的抽查事项检查内容为"{lines}"'))
def item(world: InspectionWorld, category: str, lines: str) -> None:
    with world.factory() as session:
        directories.add_item(session, PLANNER, code="GG-001", category=category, name="公共场所卫生监督抽查",
                             legal_basis="《公共场所卫生管理条例》第三条", checklist=lines.split(","))
        session.commit()


@given("已抽取一家并由两名检查人员声明无利益冲突")
def drawn(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    draw_id = world.draw(world.plan({"public_place": {"count": 1}}))
    row = world.inspections(draw_id)[0]
    assert row.instance_id and len(row.inspectors) == 2
    ctx["row"], ctx["instance"] = row.id, row.instance_id
    world.declare_all(row.instance_id)


def _row(world: InspectionWorld, ctx: dict[str, Any]) -> Inspection:
    with world.factory() as session:
        row = session.get(Inspection, ctx["row"])
        assert row is not None
        session.expunge(row)
        return row


def _record(world: InspectionWorld, ctx: dict[str, Any]) -> dict[str, Any]:
    onsite = _row(world, ctx).findings.get("onsite")
    assert onsite, "no on-site record was kept"
    return dict(onsite)


def _try_onsite(world: InspectionWorld, ctx: dict[str, Any], outcome: str = "compliant", **fields: Any) -> None:
    try:
        world.onsite(ctx["instance"], outcome, **fields)
    except Exception as exc:
        world.errors.append(exc)


@when(parsers.parse('提交责令改正的现场检查记录，不符合项为"{line}"'))
def nonconforming(world: InspectionWorld, ctx: dict[str, Any], line: str) -> None:
    _try_onsite(world, ctx, "correction", correction_due="2025-09-15", nonconforming=line)


@when("提交现场检查记录，被检查单位负责人拒绝签字，未注明情况")
def refused_without_note(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    _try_onsite(world, ctx, representative="refused")


@when(parsers.parse('提交现场检查记录，被检查单位负责人拒绝签字，情况说明为"{note}"'))
def refused_with_note(world: InspectionWorld, ctx: dict[str, Any], note: str) -> None:
    _try_onsite(world, ctx, representative="refused", refusal_note=note)


def _uploaded(world: InspectionWorld, ctx: dict[str, Any], names: str, *, grant: bool = True
              ) -> list[dict[str, str]]:
    """Files as the upload reader hands them on: stored by SHA-256 and granted to the lead inspector."""
    lead = _row(world, ctx).inspectors[0]
    files = [{"title": name, "file_name": name, "sha256": hashlib.sha256(f"{name} 的内容".encode()).hexdigest()}
             for name in names.split(",")]
    if grant:
        with world.factory() as session:
            for item in files:
                grant_upload(session, item["sha256"], lead)
            session.commit()
    ctx["files"] = files
    return files


@when(parsers.parse('检查人员上传证据文件"{names}"并提交现场检查记录'))
def with_evidence(world: InspectionWorld, ctx: dict[str, Any], names: str) -> None:
    _try_onsite(world, ctx, evidence=_uploaded(world, ctx, names))


@when(parsers.parse('检查人员上传证据文件"{name}"并按旧版单个文件格式提交现场检查记录'))
def with_one_file(world: InspectionWorld, ctx: dict[str, Any], name: str) -> None:
    item = _uploaded(world, ctx, name)[0]
    _try_onsite(world, ctx, evidence={"sha256": item["sha256"].upper(), "filename": name})


@when(parsers.parse('提交引用他人未上传文件"{name}"的现场检查记录'))
def foreign_file(world: InspectionWorld, ctx: dict[str, Any], name: str) -> None:
    _try_onsite(world, ctx, evidence=_uploaded(world, ctx, name, grant=False))


@when(parsers.parse('提交证据标识为"{value}"的现场检查记录'))
def bad_evidence(world: InspectionWorld, ctx: dict[str, Any], value: str) -> None:
    _try_onsite(world, ctx, evidence=[{"title": "照片", "file_name": "照片.jpg", "sha256": value}])


@then("检查记录未保存")
def not_kept(world: InspectionWorld, ctx: dict[str, Any]) -> None:
    row = _row(world, ctx)
    assert "onsite" not in row.findings and row.outcome is None
    assert world.ready(ctx["instance"], "onsite"), "the on-site task should still be open"


@then(parsers.parse('检查记录已保存，不符合项为"{line}"'))
def kept_line(world: InspectionWorld, ctx: dict[str, Any], line: str) -> None:
    assert not world.errors, world.errors
    assert _record(world, ctx)["nonconforming"] == line
    assert _row(world, ctx).outcome == "correction"


@then(parsers.parse('检查记录载明拒绝签字，情况说明为"{note}"'))
def refusal_kept(world: InspectionWorld, ctx: dict[str, Any], note: str) -> None:
    assert not world.errors, world.errors
    record = _record(world, ctx)
    assert record["representative"] == "refused" and record["refusal_note"] == note


@then(parsers.parse("检查记录按顺序留存这{count:d}个证据文件及其SHA-256"))
def evidence_kept(world: InspectionWorld, ctx: dict[str, Any], count: int) -> None:
    assert not world.errors, world.errors
    kept = _record(world, ctx)["evidence"]
    assert len(kept) == count
    assert [(f["file_name"], f["sha256"]) for f in kept] == [(f["file_name"], f["sha256"]) for f in ctx["files"]]
