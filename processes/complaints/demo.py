"""Demo complaints for ``weijian demo load``: several stages in 宝鸡 (610300) and its districts.

One waits for classification (filed on the portal), one is forwarded to 渭滨区 (610302, clerk ``sun.li``) and waits
for its acceptance, one became a penalty case lead after verification, one was replied to.
Idempotent: a complaint whose facts start with a ``DEMO-`` marker is not added twice. Jobs
(service tasks) run in place, as the embedded default's eager relay would, without sending
mail (the demo complainants are anonymous or reply by post).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import due_jobs, run_job
from engine.models import HumanTask
from processes.directory.models import User
from processes.directory.services import actor_for

from .intake import register_by_clerk, submit_public
from .models import Complaint
from .service import submit_task

Step = tuple[str, dict[str, Any]]
DEMO: list[tuple[str, str, str, str, list[Step]]] = [
    ("DEMO-1", "portal", "渭滨区金水湾洗浴中心", "DEMO-1 浴池毛巾未经消毒重复使用。", []),
    ("DEMO-2", "hotline_12345", "宝鸡渭滨康宁诊所", "DEMO-2 诊所聘用无执业证书人员开展诊疗。",
     [("classify", {"kind": "report"}), ("route", {"competence": "subordinate", "target_unit_id": "610302"})]),
    ("DEMO-3", "letter", "宝鸡市第二自来水有限公司", "DEMO-3 自来水浑浊有异味，疑似水质不合格。",
     [("classify", {"kind": "report"}), ("route", {"competence": "own"}),
      ("accept", {"accepted": True, "handlers": ["zhou.qiang"]}),
      ("verify", {"officers": ["zhou.qiang", "wu.min"], "violation_found": True, "findings": "出厂水浑浊度超标"})]),
    ("DEMO-4", "phone", "渭滨区实验小学", "DEMO-4 学校教室采光照明不足。",
     [("classify", {"kind": "complaint"}), ("route", {"competence": "own"}),
      ("accept", {"accepted": True, "handlers": ["zhou.qiang"]}),
      ("mediation_consent", {"complainant_agrees": True, "respondent_agrees": True}),
      ("mediate", {"result": "agreement", "record": "学校同意更换灯具", "draft_reply": "经调解，学校已更换教室灯具。"}),
      ("final_report", {"facts": "教室照度不足", "measures": "督促更换灯具",
                        "draft_reply": "经调解，学校已更换教室灯具。"}),
      ("review", {"passed": True})]),
]


def _drain(session: Session) -> None:
    for _ in range(100):
        jobs = due_jobs(session)
        if not jobs:
            return
        for job_id in jobs:
            run_job(session, job_id)
            session.flush()


def _actor(session: Session, user_id: str) -> Any:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"demo user {user_id} is missing: load the directory first")
    return actor_for(session, user)


def _city_actor(session: Session, role: str) -> Any:
    """The demo directory has no complaint clerk in the city: its head 周强 does the clerk's steps there."""
    from engine import Actor

    head = _actor(session, "zhou.qiang")
    return Actor(head.user_id, head.roles | {role}, head.unit_ids, head.is_admin)


def load(session: Session) -> list[str]:
    added: list[str] = []
    city_clerk = _city_actor(session, "complaint_clerk")
    for marker, channel, target, facts, steps in DEMO:
        if session.scalar(select(Complaint.id).where(Complaint.facts.startswith(marker))) is not None:
            continue
        if channel == "portal":
            number, _code = submit_public(session, unit_id="610300", facts=facts, target_name=target)
            complaint = session.scalar(select(Complaint).where(Complaint.tracking_no == number))
        else:
            complaint, _code = register_by_clerk(session, city_clerk, channel=channel, facts=facts,
                                                 target_name=target, unit_id="610300",
                                                 identity={"name": "演示投诉人", "address": "宝鸡市渭滨区经二路1号"},
                                                 reply_channel="post")
        assert complaint is not None
        _drain(session)
        for task_name, fields in steps:
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == complaint.instance_id,
                                                          HumanTask.task_name == task_name,
                                                          HumanTask.status == "ready"))
            if task is None:
                break
            actor = _city_actor(session, task.candidate_role or "complaint_clerk")
            submit_task(session, task.id, actor, fields)
            _drain(session)
        added.append(f"投诉举报 {complaint.tracking_no}（{target}）：{complaint.status}")
    return added
