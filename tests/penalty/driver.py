"""Driving real penalty cases through the engine in tests: frozen time, jobs run like the eager
Celery relay, one session and commit per command (as a web request), and default form data
for every step so a scenario only states what it is about.

``PenaltyWorld`` is one SQLite database copied from a session-wide template that already has
the schema, the deployed penalty bundle, the agency CA and the members' signing certificates
(unlocking a PKCS#12 costs ~0.1 s by design, so signers are unlocked once per run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import signing
from engine import Actor, due_jobs, fire_due_timers, run_job
from engine.models import HumanTask, ProcessInstance
from processes.penalty import documents, start_case, submit_task
from processes.penalty.models import CaseRecord, PenaltyCase
from processes.penalty.service import _sign_task, _sign_with

SH = ZoneInfo("Asia/Shanghai")
CA_PASSPHRASE = "penalty-test-ca-passphrase"
PKI_TIME = datetime(2025, 1, 2, tzinfo=UTC)
UNIT = "U1"
UNIT_NAME = "上海市宝山区卫生健康委员会"

OFFICER1 = Actor.of("officer1", ["officer"], [UNIT])
OFFICER2 = Actor.of("officer2", ["officer"], [UNIT])
OFFICER3 = Actor.of("officer3", ["officer"], [UNIT])
OFFICER4 = Actor.of("officer4", ["officer"], [UNIT])
HEAD = Actor.of("head1", ["head", "chief_head"], [UNIT])  # 正职负责人 (head2, head3: deputies)
HEAD2 = Actor.of("head2", ["head"], [UNIT])
HEAD3 = Actor.of("head3", ["head"], [UNIT])
REVIEWER = Actor.of("reviewer1", ["legal_reviewer"], [UNIT])
NAMES = {"officer1": "张伟", "officer2": "李娜", "officer3": "王强", "officer4": "赵敏", "head1": "刘局长",
         "head2": "周副局长", "head3": "吴副局长", "reviewer1": "陈审核"}
ACTORS = {a.user_id: a for a in (OFFICER1, OFFICER2, OFFICER3, OFFICER4, HEAD, HEAD2, HEAD3, REVIEWER)}
SIGNERS = ("head1", "officer1", "officer3", "officer4")
CREDIT_CODE = "91310113MA1GKX5Y3P"


def passphrase(user_id: str) -> str:
    return f"{user_id}-签名口令-2025"


def officer(user_id: str) -> dict[str, str]:
    return {"user_id": user_id, "name": NAMES[user_id], "certificate_no": f"31{user_id[-1]}0{user_id[-1]}2025"}


def at(day: date | str, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A moment on ``day`` at ``hour`` China time, as UTC.

    UTC because the engine hashes audit timestamps as given and reads them back as UTC: a
    +08:00 ``now`` makes ``verify_audit`` report a changed event (reported to the engine owner).
    """
    parsed = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(parsed, time(hour, minute, second), SH).astimezone(UTC)


def head(user_id: str) -> dict[str, str]:
    """A head as the collective discussion's participant picker gives it."""
    return {"user_id": user_id, "name": NAMES[user_id]}


def prepare_template(path: Path) -> dict[str, signing.ServerKeySigner]:
    """Deploy the penalty bundle, the CA, the members' certificates and the unit's seal (under
    ``WEIJIAN_SEAL_PASSPHRASE``, set by tests/conftest.py) into the database at ``path``; the unit and
    its staff in the directory (the collective discussion's participants are checked there)."""
    from engine import deploy_directory
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from processes.directory.models import User
    from processes.directory.services import create_unit

    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        deploy_directory(session, Path(__file__).resolve().parents[2] / "processes" / "penalty", SYSTEM)
        create_unit(session, UNIT, UNIT_NAME, "province", "310000", short_name="宝山")  # a root unit
        for actor in ACTORS.values():
            session.add(User(id=actor.user_id, display_name=NAMES[actor.user_id], password_hash="-", unit_id=UNIT,
                             roles=sorted(actor.roles), active=True, failed_logins=0))
        signing.init_ca(session, ca_passphrase=CA_PASSPHRASE, now=PKI_TIME)
        issued = {u: signing.issue_certificate(session, u, NAMES[u], passphrase(u), ca_passphrase=CA_PASSPHRASE,
                                               now=PKI_TIME, validity=timedelta(days=900)) for u in SIGNERS}
        signing.issue_seal_certificate(session, UNIT, UNIT_NAME, ca_passphrase=CA_PASSPHRASE, now=PKI_TIME,
                                       validity=timedelta(days=20 * 365))  # seals documents at wall-clock time
        session.commit()
        signers = {u: signing.ServerKeySigner(cert.pkcs12, passphrase(u)) for u, cert in issued.items()}
    engine.dispose()
    return signers


@dataclass
class PenaltyWorld:
    factory: sessionmaker[Session]
    signers: dict[str, signing.ServerKeySigner]
    now: datetime = field(default_factory=lambda: at("2025-09-01"))
    defaults: dict[str, Callable[[PenaltyWorld, str, HumanTask], dict[str, Any]]] = field(default_factory=dict)
    errors: list[Exception] = field(default_factory=list)
    pdf: bool = False

    # -- time and jobs ------------------------------------------------------------------------
    @property
    def today(self) -> date:
        return self.now.astimezone(SH).date()

    def set_day(self, day: date | str, hour: int = 10, minute: int = 0, second: int = 0) -> None:
        self.now = at(day, hour, minute, second)

    def drain(self) -> int:
        """Run queued service-task jobs until none is due, each in its own transaction."""
        with documents.pdf_rendering(self.pdf):
            return self._drain()

    def _drain(self) -> int:
        ran = 0
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
        raise AssertionError("jobs keep coming: a loop in the BPMN?")

    def fire(self, when: datetime | None = None) -> list[str]:
        if when is not None:
            self.now = when
        with self.factory() as session:
            report = fire_due_timers(session, self.now)
            session.commit()
        assert not report.failures, report.failures
        self.drain()
        return report.fired

    # -- cases --------------------------------------------------------------------------------
    def start(self, procedure: str = "ordinary", actor: Actor = OFFICER1,
              prefill: dict[str, Any] | None = None) -> str:
        """A new case; ``prefill`` is what another package's door hands over (a complaint, an inspection)."""
        with self.factory() as session:
            case = start_case(session, actor, unit_id=UNIT, unit_name=UNIT_NAME,
                              unit_short_name="宝", procedure=procedure, prefill=prefill, now=self.now)
            session.commit()
            return case.id

    def case(self, case_id: str) -> PenaltyCase:
        with self.factory() as session:
            row = session.get(PenaltyCase, case_id)
            assert row is not None
            session.expunge(row)
            return row

    def case_of_task(self, task: HumanTask) -> PenaltyCase:
        with self.factory() as session:
            row = session.scalar(select(PenaltyCase).where(PenaltyCase.instance_id == task.instance_id))
            assert row is not None
            session.expunge(row)
            return row

    def instance(self, case_id: str) -> ProcessInstance:
        with self.factory() as session:
            row = session.get(ProcessInstance, self.case(case_id).instance_id)
            assert row is not None
            session.expunge(row)
            return row

    def ready(self, case_id: str, name: str | None = None) -> list[HumanTask]:
        with self.factory() as session:
            query = select(HumanTask).where(HumanTask.instance_id == self.case(case_id).instance_id,
                                            HumanTask.status == "ready")
            if name:
                query = query.where(HumanTask.task_name == name)
            rows = list(session.scalars(query.order_by(HumanTask.created_at, HumanTask.assignee, HumanTask.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def ready_names(self, case_id: str) -> list[str]:
        return sorted(t.task_name for t in self.ready(case_id))

    def task(self, case_id: str, name: str, assignee: str | None = None) -> HumanTask:
        tasks = [t for t in self.ready(case_id, name) if assignee is None or t.assignee == assignee]
        assert tasks, f"no ready task {name} (ready: {self.ready_names(case_id)})"
        return tasks[0]

    def actor_for(self, task: HumanTask) -> Actor:
        if task.assignee:
            return ACTORS.get(task.assignee) or Actor.of(task.assignee, [], [UNIT])
        for actor in (OFFICER1, HEAD, REVIEWER):
            if task.candidate_role in actor.roles:
                return actor
        raise AssertionError(f"nobody for {task.task_name} ({task.candidate_role})")

    def submit(self, case_id: str, name: str, fields: Mapping[str, Any] | None = None, *,
               actor: Actor | None = None, assignee: str | None = None) -> None:
        """Complete one ready task through ``submit_task`` (defaults filled in), then run the jobs."""
        task = self.task(case_id, name, assignee)
        data = {**self.default(name, task), **(fields or {})}
        with self.factory() as session:
            submit_task(session, task.id, actor or self.actor_for(task), data, now=self.now)
            session.commit()
        self.drain()

    def try_submit(self, case_id: str, name: str, fields: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Like ``submit`` but records a refusal in ``errors`` instead of raising."""
        try:
            self.submit(case_id, name, fields, **kwargs)
        except Exception as exc:
            self.errors.append(exc)
            return False
        return True

    def sign_all(self, case_id: str) -> None:
        for task in self.ready(case_id, "sign_record"):
            assert task.assignee is not None
            with self.factory() as session:
                case = session.get(PenaltyCase, case_id)
                assert case is not None
                _sign_with(session, case, _sign_task(session, case, task.assignee), task.assignee,
                           self.signers[task.assignee], self.now)
                session.commit()
        self.drain()

    def default(self, name: str, task: HumanTask) -> dict[str, Any]:
        maker = self.defaults.get(name) or DEFAULTS.get(name)
        return maker(self, name, task) if maker else {}

    def run_until(self, case_id: str, target: str, *, max_steps: int = 80) -> None:
        """Complete whatever is ready with default data until ``target`` is ready."""
        for _ in range(max_steps):
            names = self.ready_names(case_id)
            if target in names:
                return
            if not names:
                raise AssertionError(f"case stopped before {target}: {self.case(case_id).status}")
            name = names[0]
            if name == "sign_record":
                self.sign_all(case_id)
            else:
                for task in self.ready(case_id, name):
                    self.submit(case_id, name, assignee=task.assignee)
        raise AssertionError(f"{target} never became ready")

    def records(self, case_id: str) -> int:
        with self.factory() as session:
            query = select(func.count()).select_from(CaseRecord).where(CaseRecord.case_id == case_id)
            return session.scalar(query) or 0


def _lead(world: PenaltyWorld, _n: str, _t: HumanTask) -> dict[str, Any]:
    return {"source": "inspection", "entity_name": "宝山区康宁诊所", "party_type": "organisation",
            "credit_code": CREDIT_CODE, "legal_representative": "陈明", "registered_address": "上海市宝山区友谊路1号",
            "actual_address": "上海市宝山区友谊路1号", "region_code": "310113", "unit_category": "医疗机构",
            "licence_numbers": "PDY60012331011317D1202", "category": "medical",
            "suspected_violation": "使用非卫生技术人员从事医疗卫生技术工作",
            "violation_date": (world.today - timedelta(days=40)).isoformat(),
            "discovered_on": world.today.isoformat(), "accepted_on": world.today.isoformat()}


def _investigate(world: PenaltyWorld, _n: str, task: HumanTask) -> dict[str, Any]:
    case = world.case_of_task(task)
    count = world.records(case.id)
    officers = [o["user_id"] for o in case.officers]
    base = {"officers": officers[:2], "occurred_on": world.today.isoformat(), "place": "宝山区康宁诊所诊室"}
    if count == 0:
        return {**base, "kind": "interview", "interviewee": "陈明（法定代表人）",
                "content": "问：诊所是否聘用了未取得执业资格的人员？答：有一名护士尚未取得护士执业证书。"}
    if count == 1:
        return {**base, "kind": "site", "content": "现场检查发现一名未取得护士执业证书的人员正在为患者输液。"}
    return {"kind": "finish"}


PENALTY = {"penalty_kinds": ["warning", "fine"], "fine": 5000}


def _report(_w: PenaltyWorld, _n: str, _t: HumanTask) -> dict[str, Any]:
    return {"facts": "当事人于2025年7月起使用一名未取得护士执业证书的人员从事护理工作。",
            "evidence_summary": "询问笔录、现场笔录。", "legal_basis": "《护士条例》第二十一条、第二十八条",
            "outcome": "penalty", **PENALTY,
            "members": [{"user_id": "head1", "name": NAMES["head1"], "role": "主持人"},
                        {"user_id": "officer1", "name": NAMES["officer1"], "role": "承办人"},
                        {"user_id": "officer3", "name": NAMES["officer3"], "role": "成员"}]}


def _decision(world: PenaltyWorld, _n: str, _t: HumanTask) -> dict[str, Any]:
    notified = world.case_of_task(_t).notified_penalty or {}
    return {"decided_on": world.today.isoformat(), "facts": "当事人使用未取得护士执业证书的人员从事护理工作。",
            "legal_basis": "《护士条例》第二十八条", "penalty_kinds": notified.get("kinds", []),
            "fine": notified.get("fine", 0), "confiscation": notified.get("confiscation", 0),
            "performance": "自收到本决定书之日起十五日内缴至指定银行", "payee": "上海市财政局非税收入专户",
            "reconsideration_body": "上海市宝山区人民政府", "court": "上海市宝山区人民法院"}


def _execution(world: PenaltyWorld, _n: str, task: HumanTask) -> dict[str, Any]:
    case = world.case_of_task(task)
    owed = (case.fine_fen + case.confiscation_fen) / 100
    return {"kind": "payment", "occurred_on": world.today.isoformat(), "amount": owed}


def _today(key: str) -> Callable[[PenaltyWorld, str, HumanTask], dict[str, Any]]:
    return lambda world, _n, _t: {key: world.today.isoformat()}


DEFAULTS: dict[str, Callable[[PenaltyWorld, str, HumanTask], dict[str, Any]]] = {
    "register_lead": _lead,
    "prepare_filing": lambda w, n, t: {"officers": [officer("officer1"), officer("officer2")],
                                       "summary": "检查中发现当事人涉嫌使用非卫生技术人员。",
                                       "preliminary_basis": "《护士条例》第二十一条"},
    "approve_filing": lambda w, n, t: {"approved": True, "opinion": "同意立案"},
    "declare_conflicts": lambda w, n, t: {"no_conflict": True},
    "investigate": _investigate,
    "investigation_report": _report,
    "record_opinion": lambda w, n, t: {"outcome": "penalty", **PENALTY, "opinion": "事实清楚，同意承办人意见。"},
    "serve_prior_notice": lambda w, n, t: {"served_on": w.today.isoformat(), "method": "direct", "receiver": "陈明"},
    "await_reply": lambda w, n, t: {"kind": "waive", "received_on": w.today.isoformat(), "waiver_signed": True},
    "review_statement": lambda w, n, t: {"adopted": False, "reasons": "当事人所述理由不成立。", **PENALTY},
    "legal_review": lambda w, n, t: {"passed": True, "opinion": "主体合法，事实清楚，程序合法，适用依据正确。"},
    "collective_discussion": lambda w, n, t: {"conclusion": "penalty", "opinion": "同意", "minutes": "集体讨论同意。",
                                              "discussed_on": w.today.isoformat(),
                                              "participants": [head("head1"), head("head2"), head("head3")]},
    "confirm_discussion": lambda w, n, t: {"confirmed": True},
    "approve_decision": lambda w, n, t: {"conclusion": "penalty", "opinion": "同意"},
    "draft_decision": _decision,
    "serve_decision": lambda w, n, t: {"method": "direct", "served_on": w.today.isoformat(), "receiver": "陈明"},
    "record_execution": _execution,
    "closing_report": lambda w, n, t: {"reason": "executed", "summary": "当事人已缴清罚款，执行完毕。"},
    "approve_closing": lambda w, n, t: {"approved": True, "opinion": "同意结案"},
    "approve_extension": lambda w, n, t: {"approved": True, "reason": "案情复杂，需补充鉴定。"},
    "draft_no_penalty": lambda w, n, t: {
        "decided_on": w.today.isoformat(), "ground": "minor_corrected",
        "facts": "当事人使用一名未取得护士执业证书的人员从事护理工作，检查时已当场停止。",
        "legal_basis": "《中华人民共和国行政处罚法》第三十三条第一款",
        "education": "向当事人宣讲了《护士条例》有关规定，当事人表示今后严格依法执业。",
        "reconsideration_body": "上海市宝山区人民政府", "court": "上海市宝山区人民法院"},
    "serve_no_penalty": lambda w, n, t: {"method": "direct", "served_on": w.today.isoformat(), "receiver": "陈明"},
    "draft_transfer": lambda w, n, t: {"receiver": "上海市公安局宝山分局",
                                       "facts": "当事人未取得医疗机构执业许可证擅自开展诊疗活动，涉嫌非法行医罪。",
                                       "basis": "《中华人民共和国刑法》第三百三十六条",
                                       "materials": "询问笔录、现场笔录、照片"},
    "check_correction": lambda w, n, t: {"checked_on": w.today.isoformat(), "corrected": True,
                                         "findings": "复查时当事人已改正。"},
}



def world_fixture(template: tuple[Path, dict[str, signing.ServerKeySigner]], tmp_path: Path
                  ) -> Iterator[PenaltyWorld]:
    import shutil

    from engine.dbconnect import make_engine

    path, signers = template
    copy = tmp_path / "penalty.db"
    shutil.copyfile(path, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield PenaltyWorld(sessionmaker(engine, expire_on_commit=False), signers)
    engine.dispose()
