"""The demo loader (idempotent), ``weijian draw verify`` on its draw, and all-or-nothing imports."""

from __future__ import annotations

import zlib
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.models import HumanTask
from processes.demo_data import load_demo
from processes.inspections import draw_signing
from processes.inspections.imports import ImportRefused, export_table, import_rows
from processes.inspections.models import Draw, EntityProfile, Inspection, Inspector
from tests.inspections.driver import PLANNER, InspectionWorld, code
from web.cli import main


def test_demo_has_a_published_plan_a_finished_draw_and_results(session_factory: sessionmaker[Session],
                                                               db_url: str, monkeypatch: object) -> None:
    with session_factory() as session:
        from engine import SYSTEM
        from processes.registry import deploy_packages

        deploy_packages(session, SYSTEM)
        load_demo(session)
        session.commit()
        draw = session.scalars(select(Draw)).first()
        assert draw is not None and draw.status == "drawn"
        done = session.scalar(select(func.count()).select_from(Inspection).where(Inspection.status.in_(
            ["done", "correcting"])))
        assert done == 2
        # the third record waits for the other inspector's own confirmation, not yet for the head
        third = session.scalar(select(Inspection).where(Inspection.status == "confirming"))
        assert third is not None and third.instance_id
        confirm = session.scalars(select(HumanTask).where(HumanTask.instance_id == third.instance_id,
                                                          HumanTask.status == "ready")).all()
        assert [(t.form_key, t.assignee) for t in confirm] == [("inspections.confirm_onsite", third.inspectors[1])]
        # the draw record: the planner signed on their task, the head's task 签署抽取记录 waits
        signed = draw_signing.status(session, draw)
        assert signed.pending == ["zhao.lei"] and not signed.overdue
        waiting = session.scalars(select(HumanTask).where(HumanTask.form_key == draw_signing.SIGN_FORM)).all()
        assert sorted((t.assignee, t.status) for t in waiting) == [("zhang.wei", "completed"), ("zhao.lei", "ready")]
        again = load_demo(session)
        session.commit()
        draw_id = draw.id
    assert again is not None
    runner = CliRunner()
    env = {"DATABASE_URL": db_url}
    ok = runner.invoke(main, ["draw", "verify", draw_id], env=env)
    assert ok.exit_code == 0, ok.output
    assert "identical" in ok.output
    with session_factory() as session:
        row = session.get(Draw, draw_id)
        assert row is not None
        raw = zlib.decompress(row.snapshot).replace(b'"weight":', b'"weight":7', 1)
        session.execute(update(Draw).where(Draw.id == row.id).values(snapshot=zlib.compress(raw)))  # behind the model
        session.commit()
    bad = runner.invoke(main, ["draw", "verify", draw_id], env=env)
    assert bad.exit_code == 1 and "DIFF snapshot_hash" in bad.output, bad.output
    listed = runner.invoke(main, ["draw", "schedules"], env=env)
    assert listed.exit_code == 0 and "quarterly first-workday 08:00" in listed.output


def test_an_import_with_one_bad_row_writes_nothing_and_names_every_bad_row(world: InspectionWorld) -> None:
    world.add_entities(3)
    rows = [["用户名", "执法证号", "有效期起", "有效期止", "专业特长", "亲属任职单位"],
            ["officer2", "C-2", "2024-01-01", "2027-12-31", "public_place|medical", code(1)],
            ["officer3", "C-3", "2024-01-01", "2023-12-31", "public_place", ""],
            ["nobody", "C-9", "2024-01-01", "2027-12-31", "public_place", ""],
            ["officer4", "", "2024-01-01", "2027-12-31", "public_place", "913101130000000000"]]
    content = export_table(rows[0], rows[1:], "xlsx", "roster")
    with world.factory() as session:
        try:
            import_rows(session, PLANNER, "inspectors", "roster.xlsx", content)
            raise AssertionError("a bad import was accepted")
        except ImportRefused as refused:
            where = {(e.row, e.column) for e in refused.errors}
        session.commit()
        assert session.scalar(select(func.count()).select_from(Inspector)) == 0
    assert where == {(3, "valid_until"), (4, "user_id"), (5, "certificate_no")}
    good = export_table(rows[0], [rows[1]], "csv", "roster")
    entities = export_table(["统一社会信用代码", "信用等级", "投诉举报次数"], [[code(2), "D", "4"]], "csv", "e")
    with world.factory() as session:
        assert import_rows(session, PLANNER, "inspectors", "roster.csv", good) == 1
        assert import_rows(session, PLANNER, "entities", "entities.csv", entities) == 1
        session.commit()
        inspector = session.get(Inspector, "officer2")
        profile = session.get(EntityProfile, code(2))
        assert inspector is not None and inspector.relatives_at == [code(1)]
        assert profile is not None and profile.credit_grade == "D" and profile.complaint_count == 4


def test_exports_quote_cells_that_could_start_a_formula(tmp_path: Path) -> None:
    data = export_table(["name"], [["=HYPERLINK(\"x\")"], [-3]], "csv", "s").decode("utf-8-sig")
    assert "'=HYPERLINK" in data and "\r\n-3" in data
