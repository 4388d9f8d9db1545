"""Driving real complaints through the engine in tests: frozen time, jobs run like the eager
Celery relay, one session and commit per command (as a web request), default form data for
every task so a scenario states only what it is about.

``ComplaintWorld`` is one SQLite database copied from a session-wide template that has the
schema, the penalty and complaint bundles deployed, and the units 610300 (city) → 610302, 610303.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import Actor, JobFailed, due_jobs, fire_due_timers, record_failure, run_job
from engine.models import HumanTask, ProcessInstance
from processes.complaints import Attachment, register_by_clerk, submit_public, submit_task
from processes.complaints.models import Complaint, ComplaintEvent, FeedbackDelivery, UrgingRecord
from processes.penalty import documents

SH = ZoneInfo("Asia/Shanghai")
CITY, DISTRICT, OTHER = "610300", "610302", "610303"
CLERK = Actor.of("clerk.city", ["complaint_clerk"], [CITY, DISTRICT, OTHER])
CITY_HEAD = Actor.of("head.city", ["head", "officer"], [CITY, DISTRICT, OTHER])
OFFICER1 = Actor.of("officer.a", ["officer"], [CITY])
OFFICER2 = Actor.of("officer.b", ["officer"], [CITY])
D_CLERK = Actor.of("sun.li", ["complaint_clerk"], [DISTRICT])
D_OFFICER = Actor.of("zhang.wei", ["officer"], [DISTRICT])
D_HEAD = Actor.of("zhao.lei", ["head", "officer"], [DISTRICT])
O_CLERK = Actor.of("clerk.other", ["complaint_clerk"], [OTHER])
STRANGER = Actor.of("officer.x", ["officer"], [CITY])


def at(day: date | str, hour: int = 10) -> datetime:
    parsed = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(parsed, time(hour), SH).astimezone(UTC)


def prepare_template(path: Path) -> None:
    from engine import deploy_directory
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from processes.directory.services import create_unit

    root = Path(__file__).resolve().parents[2] / "processes"
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        deploy_directory(session, root / "penalty", SYSTEM)
        deploy_directory(session, root / "complaints", SYSTEM)
        create_unit(session, "610000", "陕西省卫生健康委员会卫生监督所", "province", "610000", short_name="陕")
        create_unit(session, CITY, "宝鸡市卫生健康委员会卫生监督所", "city", CITY, "610000", short_name="宝")
        create_unit(session, DISTRICT, "渭滨区卫生健康局卫生监督所", "county", DISTRICT, CITY, short_name="渭滨")
        create_unit(session, OTHER, "金台区卫生健康局卫生监督所", "county", OTHER, CITY, short_name="金台")
        session.commit()
    engine.dispose()


DEFAULTS: dict[str, dict[str, Any]] = {
    "complaints.classify": {"kind": "report"},
    "complaints.route": {"competence": "own"},
    "complaints.receive": {"accepted": True},
    "complaints.acceptance": {"accepted": True, "handlers": ["officer.a"]},
    "complaints.verification": {"officers": ["officer.a", "officer.b"], "violation_found": False,
                                "findings": "现场核查未发现违法行为"},
    "complaints.mediation_consent": {"complainant_agrees": True, "respondent_agrees": True},
    "complaints.mediation": {"result": "agreement", "record": "双方达成协议", "draft_reply": "经调解双方达成协议。"},
    "complaints.petition_opinion": {"opinion": "explain", "opinion_text": "已作解释说明"},
    "complaints.extension_approval": {"approved": True, "reason": "情况复杂"},
    "complaints.cohandle": {"reply": "会办意见：同意"},
    "complaints.final_report": {"facts": "经查", "measures": "责令改正", "draft_reply": "经核查，已责令改正。"},
    "complaints.review": {"passed": True},
    "complaints.review_request": {"reason": "对答复不服"},
    "complaints.recheck": {"upheld": True, "opinion": "维持原处理意见"},
    "complaints.objection_decision": {"decision": "take_back", "note": "收回自办"},
    "complaints.designate": {"unit_id": DISTRICT, "reason": "指定"},
}


@dataclass
class ComplaintWorld:
    factory: sessionmaker[Session]
    now: datetime = field(default_factory=lambda: at("2025-09-01"))
    errors: list[Exception] = field(default_factory=list)
    job_errors: list[str] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(SH).date()

    def set_day(self, day: date | str, hour: int = 10) -> None:
        self.now = at(day, hour)

    def drain(self) -> int:
        ran = 0
        with documents.pdf_rendering(False):
            for _ in range(200):
                with self.factory() as session:
                    jobs = due_jobs(session, self.now)
                if not jobs:
                    return ran
                progressed = False
                for job_id in jobs:
                    try:
                        with self.factory() as session:
                            run_job(session, job_id, self.now)
                            session.commit()
                        progressed = True
                    except JobFailed as exc:  # as the relay does: count the attempt, retry later
                        with self.factory() as session:
                            record_failure(session, job_id, str(exc), now=self.now)
                            session.commit()
                        self.job_errors.append(str(exc).splitlines()[0])
                    ran += 1
                if not progressed:
                    return ran
        raise AssertionError("jobs keep coming")

    def fire(self, when: datetime | None = None) -> list[str]:
        if when is not None:
            self.now = when
        with self.factory() as session:
            report = fire_due_timers(session, self.now)
            session.commit()
        assert not report.failures, report.failures
        self.drain()
        return report.fired

    # -- intake ----------------------------------------------------------------------------------
    def file_public(self, name: str = "c1", *, facts: str = "宝鸡渭滨康宁诊所无证行医，使用过期药品。",
                    target: str = "宝鸡渭滨康宁诊所", identity: Mapping[str, str] | None = None,
                    reply_channel: str | None = None, unit_id: str = CITY, kind: str | None = None,
                    attachments: tuple[Attachment, ...] = (), entity_id: str | None = None) -> str:
        with self.factory() as session:
            number, code = submit_public(session, unit_id=unit_id, facts=facts, target_name=target, entity_id=entity_id,
                                         identity=identity, reply_channel=reply_channel, kind=kind,
                                         attachments=attachments, now=self.now)
            session.commit()
        self.codes[name] = code
        self.ids[name] = self._id(number)
        self.drain()
        return number

    def file_by_clerk(self, name: str = "c1", *, channel: str = "hotline_12345", actor: Actor = CLERK,
                      facts: str = "金水湾洗浴中心毛巾未消毒。", target: str = "渭滨区金水湾洗浴中心",
                      identity: Mapping[str, str] | None = None, reply_channel: str | None = None) -> str:
        with self.factory() as session:
            complaint, code = register_by_clerk(session, actor, channel=channel, facts=facts, target_name=target,
                                                identity=identity, reply_channel=reply_channel, unit_id=CITY,
                                                now=self.now)
            session.commit()
            number = complaint.tracking_no
        self.codes[name] = code
        self.ids[name] = self._id(number)
        self.drain()
        return number

    def _id(self, number: str) -> str:
        with self.factory() as session:
            found = session.scalar(select(Complaint.id).where(Complaint.tracking_no == number))
            assert found is not None
            return found

    # -- reading -----------------------------------------------------------------------------------
    def complaint(self, name: str = "c1") -> Complaint:
        with self.factory() as session:
            row = session.get(Complaint, self.ids[name])
            assert row is not None
            session.expunge(row)
            return row

    def instances(self, name: str = "c1") -> list[ProcessInstance]:
        with self.factory() as session:
            rows = list(session.scalars(select(ProcessInstance).where(
                ProcessInstance.business_key == self.complaint(name).tracking_no).order_by(ProcessInstance.started_at)))
            for row in rows:
                session.expunge(row)
            return rows

    def ready(self, name: str = "c1", task_name: str | None = None) -> list[HumanTask]:
        """Ready tasks, oldest first, then by due date: parallel instances have different due dates,
        so two runs (cold and warm) pick the same one, whatever their random ids."""
        ids = [i.id for i in self.instances(name)]
        with self.factory() as session:
            query = select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.status == "ready")
            if task_name:
                query = query.where(HumanTask.task_name == task_name)
            rows = list(session.scalars(query.order_by(HumanTask.created_at, HumanTask.due_sort, HumanTask.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def ready_names(self, name: str = "c1") -> list[str]:
        return sorted(t.task_name for t in self.ready(name))

    def task(self, name: str, task_name: str) -> HumanTask:
        tasks = self.ready(name, task_name)
        assert tasks, f"no ready task {task_name} (ready: {self.ready_names(name)})"
        return tasks[0]

    def events(self, name: str = "c1", public: bool | None = None) -> list[ComplaintEvent]:
        with self.factory() as session:
            query = select(ComplaintEvent).where(ComplaintEvent.complaint_id == self.ids[name])
            if public is not None:
                query = query.where(ComplaintEvent.public.is_(public))
            rows = list(session.scalars(query.order_by(ComplaintEvent.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def urgings(self, name: str = "c1") -> list[UrgingRecord]:
        with self.factory() as session:
            rows = list(session.scalars(select(UrgingRecord).where(UrgingRecord.complaint_id == self.ids[name])
                                        .order_by(UrgingRecord.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def deliveries(self, name: str = "c1") -> list[FeedbackDelivery]:
        with self.factory() as session:
            rows = list(session.scalars(select(FeedbackDelivery).where(FeedbackDelivery.complaint_id == self.ids[name])
                                        .order_by(FeedbackDelivery.id)))
            for row in rows:
                session.expunge(row)
            return rows

    # -- acting ------------------------------------------------------------------------------------
    def actor_for(self, task: HumanTask) -> Actor:
        unit = task.unit_id
        by_role = {("complaint_clerk", CITY): CLERK, ("officer", CITY): OFFICER1, ("head", CITY): CITY_HEAD,
                   ("complaint_clerk", DISTRICT): D_CLERK, ("officer", DISTRICT): D_OFFICER,
                   ("head", DISTRICT): D_HEAD, ("complaint_clerk", OTHER): O_CLERK}
        actor = by_role.get((task.candidate_role or "", unit or ""))
        assert actor is not None, f"nobody for {task.task_name} ({task.candidate_role} in {unit})"
        return actor

    def submit(self, name: str, task_name: str, fields: Mapping[str, Any] | None = None, *,
               actor: Actor | None = None) -> None:
        task = self.task(name, task_name)
        data = {**DEFAULTS.get(task.form_key or "", {}), **(fields or {})}
        with self.factory() as session:
            submit_task(session, task.id, actor or self.actor_for(task), data, now=self.now)
            session.commit()
        self.drain()

    def try_submit(self, name: str, task_name: str, fields: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        try:
            self.submit(name, task_name, fields, **kwargs)
        except Exception as exc:
            self.errors.append(exc)
            return False
        return True

    def run_to(self, name: str, task_name: str, steps: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Complete ready tasks with defaults (or ``steps[task]``) until ``task_name`` is ready."""
        for _ in range(30):
            names = self.ready_names(name)
            if task_name in names:
                return
            assert names, f"nothing ready before {task_name}"
            current = names[0]
            self.submit(name, current, (steps or {}).get(current))
        raise AssertionError(f"{task_name} never became ready")


def world_fixture(template: Path, tmp_path: Path) -> Iterator[ComplaintWorld]:
    import shutil

    from engine.dbconnect import make_engine

    path = tmp_path / "complaints.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield ComplaintWorld(sessionmaker(engine, expire_on_commit=False))
    engine.dispose()
