"""Demo data for ``make run``: a province, a city and two counties, staff for every role, supervised
entities with valid credit codes, and a few running cases of whatever processes are deployed.

Order: the directory first (every package's demo needs its units, staff and entities), then each
registered process package's ``load_demo`` hook in the registry's order (``processes.registry``);
processes of a package with its own demo hook are never started here blindly.

Idempotent: everything is keyed (unit ids, login names, credit codes, ``DEMO-`` business keys),
so a second ``weijian demo load`` adds nothing. The caller commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, EngineError, claim, complete_task, start
from engine.db import utcnow
from engine.models import HumanTask, ProcessDefinition, ProcessInstance

from .directory.codes import make_credit_code
from .directory.models import Entity, Unit, User
from .directory.services import actor_for, create_entity, create_unit, create_user
from .registry import discover, packages

DEMO_PASSWORD = "weijian-demo"  # noqa: S105 - documented demo credential, printed by `weijian demo load`

UNITS = [
    ("610000", "陕西省卫生健康委员会卫生监督所", "province", "610000", None, "陕"),
    ("610300", "宝鸡市卫生健康委员会卫生监督所", "city", "610300", "610000", "宝"),
    ("610302", "渭滨区卫生健康局卫生监督所", "county", "610302", "610300", "渭滨"),
    ("610303", "金台区卫生健康局卫生监督所", "county", "610303", "610300", "金台"),
]

USERS = [
    ("admin", "系统管理员", "610000", ["admin"], None, None),
    ("wu.min", "吴敏", "610000", ["officer"], "61000020170001", "2028-06-30"),
    ("zhou.qiang", "周强", "610300", ["chief_head", "head", "officer"], "61030020120007", "2029-03-31"),
    ("zhang.wei", "张伟", "610302", ["officer"], "61030220180012", "2028-12-31"),
    ("li.na", "李娜", "610302", ["officer"], "61030220190031", "2029-09-30"),
    ("zhao.lei", "赵磊", "610302", ["chief_head", "head", "officer"], "61030220100003", "2028-04-30"),
    # a deputy head: a collective discussion (Art. 57(2)) needs at least two of the unit's heads
    ("yang.fan", "杨帆", "610302", ["head", "officer"], "61030220110005", "2029-01-31"),
    ("chen.jing", "陈静", "610302", ["legal_reviewer"], None, None),
    ("sun.li", "孙丽", "610302", ["complaint_clerk"], None, None),
    # an expired certificate: pickers still list him, marked 执法证已过期
    ("liu.yang", "刘洋", "610303", ["officer"], "61030320200008", "2026-03-31"),
    ("ma.hui", "马慧", "610303", ["chief_head", "head", "officer"], "61030320110002", "2028-10-31"),
]

ENTITIES = [
    ("92", "610302", "MA6X8K21A", "宝鸡渭滨康宁诊所", "medical", "610302", "渭滨区经二路18号", "何康宁",
     ["PDY61030200001"]),
    ("91", "610302", "MA6X9C302", "渭滨区金水湾洗浴中心", "public_place", "610302", "渭滨区清姜路66号", "王海涛",
     ["渭卫公证字〔2024〕第031号"]),
    ("91", "610302", "22057813X", "宝鸡市第二自来水有限公司", "drinking_water", "610302", "渭滨区滨河南路9号",
     "杜建国", ["陕卫水字〔2022〕第0107号"]),
    ("12", "610302", "43552101K", "渭滨区实验小学", "school", "610302", "渭滨区红旗路21号", "苏明", []),
    ("92", "610303", "MA6Y1T4R0", "金台区仁和口腔门诊部", "medical", "610303", "金台区东风路102号", "赵仁和",
     ["PDY61030300045"]),
    ("92", "610303", "MA6Y2Q7H5", "金台区悦来宾馆", "public_place", "610303", "金台区行政大道8号", "钱悦",
     ["金卫公证字〔2023〕第112号"]),
]


def _directory(session: Session) -> list[str]:
    made: list[str] = []
    for unit_id, name, level, region, parent, short in UNITS:
        if session.get(Unit, unit_id) is None:
            create_unit(session, unit_id, name, level, region, parent, short)
            session.flush()
            made.append(f"unit {unit_id}")
    for username, display, unit_id, roles, cert, valid_until in USERS:
        if session.get(User, username) is None:
            create_user(session, username, display, unit_id, roles, DEMO_PASSWORD, cert, valid_until)
            made.append(f"user {username}")
    for kind, region, serial, name, category, unit_id, address, legal, licences in ENTITIES:
        code = make_credit_code(region, serial, kind)
        if session.get(Entity, code) is None:
            create_entity(session, code, name, category, unit_id, address=address, legal_representative=legal,
                          licence_numbers=licences)
            made.append(f"entity {code}")
    session.flush()
    return made


def _actor(session: Session, username: str) -> Actor:
    user = session.get(User, username)
    assert user is not None
    return actor_for(session, user)


def _exists(session: Session, business_key: str) -> bool:
    return session.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)) is not None


def _ready(session: Session, instance_id: str) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready"))


def _lead_cases(session: Session) -> list[str]:
    """Case leads at three stages: waiting to be registered, claimed, and waiting for the head."""
    officer = _actor(session, "zhang.wei")  # DEMO-LEAD-3's approval waits in the head zhao.lei's inbox
    entities = [make_credit_code(r, s, k) for k, r, s, *_rest in ENTITIES if r == "610302"]
    names = {e.credit_code: e.name for e in session.scalars(select(Entity).where(Entity.credit_code.in_(entities)))}
    made = []
    plans: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("DEMO-LEAD-1", entities[0], "new", None),
        ("DEMO-LEAD-2", entities[1], "claimed", None),
        ("DEMO-LEAD-3", entities[2], "approve", {
            "source": "complaint", "summary": "群众投诉自来水浑浊有异味", "kinds": ["hygiene"],
            "facts": "接到群众投诉，反映近三日自来水浑浊、有异味；现场检测余氯不达标。",
            "violation_date": (utcnow() - timedelta(days=3)).date().isoformat(), "amount": 20000.0}),
    ]
    for key, entity_id, stage, data in plans:
        if _exists(session, key):
            continue
        instance = start(session, "case_lead", officer, {}, key, unit_id="610302", entity_id=entity_id,
                         entity_name=names.get(entity_id))
        task = _ready(session, instance.id)
        if task is not None and stage == "claimed":
            claim(session, task.id, officer)
        if task is not None and stage == "approve" and data is not None:
            complete_task(session, task.id, officer, data)
        made.append(key)
    return made


def _other_processes(session: Session) -> list[str]:
    """Two cases of every other hand-startable process; a process needing start data is skipped,
    and so is one whose package loads its own demo cases."""
    made = []
    own = {key for p in packages() if p.load_demo is not None for key in p.process_keys}
    newest: dict[str, ProcessDefinition] = {}
    for d in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.version)):
        newest[d.process_key] = d
    officer = _actor(session, "zhang.wei")
    entity = session.scalar(select(Entity).where(Entity.unit_id == "610302").order_by(Entity.name))
    called = {key for d in newest.values() for key in d.summary.get("called", [])}  # run inside other cases
    for key, definition in sorted(newest.items()):
        if key in called or key == "case_lead" or key in own \
                or definition.summary.get("start", {}).get("kind") != "none":
            continue
        for n in (1, 2):
            business_key = f"DEMO-{key}-{n}"
            if _exists(session, business_key):
                continue
            try:
                start(session, key, officer, {}, business_key, unit_id="610302",
                      entity_id=entity.credit_code if entity else None, entity_name=entity.name if entity else None)
            except EngineError:
                break  # this process needs start data the demo cannot invent
            made.append(business_key)
    return made


def load_demo(session: Session) -> str:
    """Load the demo directory and cases; returns a summary to print (with the demo sign-ins)."""
    discover()
    made = _directory(session)
    deployed = set(session.scalars(select(ProcessDefinition.process_key)))
    cases = _lead_cases(session) if "case_lead" in deployed else []
    cases += _other_processes(session)
    # A package's demo needs its processes: one not deployed here is skipped, and said so.
    ready = [p for p in packages() if p.load_demo is not None and p.process_keys & deployed]
    skipped = [p.name for p in packages() if p.load_demo is not None and not p.process_keys & deployed]
    added = {p.name: hook(session) for p in ready if (hook := p.load_demo) is not None}
    lines = [f"demo data: {len(made)} directory records and {len(cases)} cases added"
             + (" (already loaded)" if not made and not cases and not any(added.values()) else "")]
    lines += [f"{name}: {len(rows)} demo records added" for name, rows in added.items() if rows]
    if not deployed:
        lines.append("no process is deployed yet: run `weijian deploy` first, then load again for demo cases")
    elif skipped:
        lines.append(f"not deployed, no demo data: {', '.join(skipped)} (run `weijian deploy`, then load again)")
    lines.append(f"sign in at /login with any of these login names, password {DEMO_PASSWORD!r}:")
    for username, display, unit_id, roles, _cert, _valid in USERS:
        lines.append(f"  {username:<11} {display}  {unit_id}  {', '.join(roles)}")
    for package in packages():
        lines += package.demo_notes() if package.demo_notes is not None else []
    return "\n".join(lines)
