"""What a completion loads and saves does not grow with the case's history (pruned state)."""

from __future__ import annotations

import json
import zlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.bpmn_gen import sequential_user_tasks
from engine import complete_task, deploy, start
from engine.actor import SYSTEM
from engine.models import HumanTask, ProcessInstance
from tests.engine_helpers import OFFICER

COMPLETED = 64


def _stored_tasks(blob: bytes) -> tuple[int, int]:
    """(tasks in the stored tree, finished ones among them)."""
    raw = zlib.decompress(blob[1:]) if blob[:1] == b"z" else blob
    tasks = json.loads(raw)["tasks"].values()
    return len(tasks), sum(1 for t in tasks if t["state"] == COMPLETED)


def test_state_stays_the_same_size_from_task_10_to_task_100(db_session: Session) -> None:
    deploy(db_session, {"long.bpmn": sequential_user_tasks("long_case", 100)}, SYSTEM)
    instance = start(db_session, "long_case", OFFICER, {})
    db_session.commit()
    sizes: dict[int, tuple[int, tuple[int, int]]] = {}
    for step in range(1, 101):
        task_id = db_session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == "ready"))
        assert task_id is not None
        complete_task(db_session, task_id, OFFICER, {f"field{j}": f"第{step}步记录{j}" for j in range(10)})
        db_session.commit()
        blob = db_session.get(ProcessInstance, instance.id).state  # type: ignore[union-attr]
        sizes[step] = (len(blob), _stored_tasks(blob))
    # SpiffWorkflow predicts the tasks still ahead, so the tree shrinks as the case advances;
    # what is behind is pruned: never more than one finished task is stored.
    assert all(finished <= 1 for _size, (_count, finished) in sizes.values())
    assert sizes[99][0] <= sizes[9][0]
    assert sizes[99][1][0] <= sizes[9][1][0]
    final = db_session.get(ProcessInstance, instance.id)
    assert final is not None and final.status == "completed"
    assert len(final.completed_elements) == 102  # 100 tasks, start and end: history kept outside the state
