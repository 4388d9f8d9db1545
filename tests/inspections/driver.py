"""Driving real double-random inspections in tests: one SQLite database copied from a template
that has the schema, both bundles (inspections and penalty, for the leads) and a small directory;
frozen time; jobs run like the eager relay; one session and commit per command.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import SYSTEM, Actor, deploy_directory, due_jobs, fire_due_timers, run_job
from engine.dbconnect import make_engine
from engine.models import HumanTask
from processes.directory.codes import make_credit_code
from processes.directory.models import Entity, Unit, User
from processes.inspections import directories, plans, service
from processes.inspections.models import Draw, Inspection, Plan
from processes.penalty import documents

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
UNIT = "U1"
HEAD = Actor.of("head1", ["head"], [UNIT])
PLANNER = Actor.of("officer1", ["officer"], [UNIT])
WITNESS = Actor.of("witness1", ["head"], [UNIT])
OFFICERS = [f"officer{n}" for n in range(1, 9)]
NAMES = {"officer1": "张伟", "officer2": "李娜", "officer3": "王强", "officer4": "赵敏", "officer5": "孙丽",
         "officer6": "周杰", "officer7": "吴刚", "officer8": "郑洁", "head1": "刘局长", "witness1": "陈见证"}


def at(day: date | str, hour: int = 10, minute: int = 0) -> datetime:
    parsed = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(parsed, time(hour, minute), SH).astimezone(UTC)


def code(n: int) -> str:
    return make_credit_code("310113", f"{n:09d}")


def prepare_template(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        deploy_directory(session, ROOT / "processes" / "penalty", SYSTEM)
        deploy_directory(session, ROOT / "processes" / "inspections", SYSTEM)
        session.add(Unit(id=UNIT, name="上海市宝山区卫生健康委员会", short_name="宝", level="county",
                         region_code="310113", path=f"/{UNIT}/"))
        session.flush()
        for user_id, name in NAMES.items():
            roles = ["head"] if user_id in ("head1", "witness1") else ["officer"]
            session.add(User(id=user_id, display_name=name, password_hash="x", unit_id=UNIT, roles=roles,
                             certificate_no=f"31{user_id[-1]}2025"))
        session.commit()
    engine.dispose()


@dataclass
class InspectionWorld:
    factory: sessionmaker[Session]
    now: datetime = field(default_factory=lambda: at("2025-09-01"))
    errors: list[Exception] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.astimezone(SH).date()

    def set_day(self, day: date | str, hour: int = 10, minute: int = 0) -> None:
        self.now = at(day, hour, minute)

    # -- directory ------------------------------------------------------------------------------
    def add_entities(self, count: int, category: str = "public_place", start: int = 1, **profile: Any) -> list[str]:
        codes = []
        with self.factory() as session:
            for n in range(start, start + count):
                c = code(n)
                session.add(Entity(credit_code=c, name=f"宝山区第{n}号单位", category=category, unit_id=UNIT,
                                   region_code="310113"))
                codes.append(c)
            session.flush()
            if profile:
                for c in codes:
                    directories.set_profile(session, PLANNER, c, **profile)
            session.commit()
        return codes

    def add_inspectors(self, user_ids: list[str], specialties: list[str] | None = None, valid_until: str = "2027-12-31",
                       relatives_at: tuple[str, ...] = (), former_employers: tuple[str, ...] = ()) -> None:
        with self.factory() as session:
            for user_id in user_ids:
                directories.save_inspector(session, PLANNER, user_id, certificate_no=f"CERT-{user_id}",
                                           valid_from=date(2020, 1, 1), valid_until=date.fromisoformat(valid_until),
                                           specialties=specialties or ["public_place"], relatives_at=relatives_at,
                                           former_employers=former_employers)
            session.commit()

    # -- plans and draws ------------------------------------------------------------------------
    def plan(self, categories: Mapping[str, Mapping[str, Any]] | None = None, *, kind: str = "annual",
             window: tuple[str, str] = ("2025-09-01", "2025-11-30"), publish: bool = True, **kwargs: Any) -> str:
        with self.factory() as session:
            plan = plans.create_plan(session, PLANNER, title="2025年公共场所双随机抽查", kind=kind, unit_id=UNIT,
                                     window_start=date.fromisoformat(window[0]),
                                     window_end=date.fromisoformat(window[1]),
                                     categories=categories if categories is not None else {"public_place": {}},
                                     **kwargs)
            if publish:
                plans.publish_plan(session, plan.id, HEAD.user_id, self.now)
            session.commit()
            return plan.id

    def draw(self, plan_id: str, **kwargs: Any) -> str:
        with self.factory() as session:
            plan = session.get(Plan, plan_id)
            assert plan is not None
            draw = service.draw_plan(session, PLANNER, plan, now=self.now, **kwargs)
            session.commit()
            return draw.id

    def draw_row(self, draw_id: str) -> Draw:
        with self.factory() as session:
            row = session.get(Draw, draw_id)
            assert row is not None
            session.expunge(row)
            return row

    def inspections(self, draw_id: str) -> list[Inspection]:
        with self.factory() as session:
            rows = list(session.scalars(select(Inspection).where(Inspection.draw_id == draw_id)))
            for row in rows:
                session.expunge(row)
            return rows

    # -- tasks ----------------------------------------------------------------------------------
    def drain(self) -> int:
        ran = 0
        with documents.pdf_rendering(False):
            for _ in range(200):
                with self.factory() as session:
                    jobs = due_jobs(session, self.now)
                if not jobs:
                    return ran
                for job_id in jobs:
                    with self.factory() as session:
                        run_job(session, job_id, self.now)
                        session.commit()
                    ran += 1
        raise AssertionError("jobs keep coming")

    def fire(self) -> list[str]:
        with self.factory() as session:
            report = fire_due_timers(session, self.now)
            session.commit()
        assert not report.failures, report.failures
        self.drain()
        return report.fired

    def ready(self, instance_id: str, name: str | None = None) -> list[HumanTask]:
        with self.factory() as session:
            query = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
            if name:
                query = query.where(HumanTask.task_name == name)
            rows = list(session.scalars(query.order_by(HumanTask.assignee, HumanTask.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def submit(self, instance_id: str, name: str, fields: Mapping[str, Any], *, actor: Actor | None = None,
               assignee: str | None = None) -> None:
        tasks = [t for t in self.ready(instance_id, name) if assignee is None or t.assignee == assignee]
        assert tasks, f"no ready task {name}: {[t.task_name for t in self.ready(instance_id)]}"
        task = tasks[0]
        who = actor or (Actor.of(task.assignee, ["officer"], [UNIT]) if task.assignee else HEAD)
        with self.factory() as session:
            service.submit_task(session, task.id, who, dict(fields), now=self.now)
            session.commit()
        self.drain()

    def try_submit(self, instance_id: str, name: str, fields: Mapping[str, Any], **kwargs: Any) -> bool:
        try:
            self.submit(instance_id, name, fields, **kwargs)
        except Exception as exc:
            self.errors.append(exc)
            return False
        return True

    def declare_all(self, instance_id: str, conflicts: Mapping[str, str] | None = None) -> None:
        for task in self.ready(instance_id, "declare"):
            statement = (conflicts or {}).get(task.assignee or "")
            fields = {"conflict": True, "statement": statement} if statement else {"conflict": False}
            self.submit(instance_id, "declare", fields, assignee=task.assignee)

    def onsite(self, instance_id: str, outcome: str = "compliant", *, confirm: bool = True, **fields: Any) -> None:
        """The lead's record, then (unless ``confirm=False``) the other inspector's confirmation."""
        data = {"checked_on": self.today.isoformat(), "co_inspector_present": True, "findings": "现场检查情况记录",
                "outcome": outcome, "representative": "signed", **fields}
        self.submit(instance_id, "onsite", data)
        if confirm:
            self.confirm(instance_id)

    def confirm(self, instance_id: str, confirmed: bool = True, reason: str = "", *,
                actor: Actor | None = None) -> None:
        """The co-inspector's 检查人员确认现场检查记录 (as its assignee unless ``actor`` is given)."""
        fields: dict[str, Any] = {"confirmed": confirmed, **({"reason": reason} if reason else {})}
        self.submit(instance_id, "confirm_onsite", fields, actor=actor)


def world_fixture(template: Path, tmp_path: Path) -> Iterator[InspectionWorld]:
    copy = tmp_path / "inspections.db"
    shutil.copyfile(template, copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        yield InspectionWorld(sessionmaker(engine, expire_on_commit=False))
    finally:
        engine.dispose()
