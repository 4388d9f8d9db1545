"""The penalty-decision disclosure process ``inspection_decision_disclosure``, written from this
description (``python -m processes.inspections.bpmn_decision`` rewrites the file beside it).

Why a module of its own next to ``bpmn_source``: the same renderer (one line per element, the
diagram generated with it), a separate process. One head-lane task 公示行政处罚决定 per decided
case, due ``decision_due`` (``[disclosure] decision_workdays`` working days after the decision);
its overdue notice (notifications scan) is the 督办, as for 公示检查结果.
"""

# ruff: noqa: E501 - one BPMN element per line reads better than wrapped tuples
from __future__ import annotations

from pathlib import Path

from .bpmn_source import FOLDER, render

DECISION = {
    "id": "inspection_decision_disclosure", "name": "公示行政处罚决定", "lanes": ["head"],
    "nodes": [
        ("d_start", "startEvent", "作出行政处罚决定", "head", 0, 0, {}),
        ("disclose_decision", "userTask", "公示行政处罚决定", "head", 1, 0, {
            "formKey": "inspections.disclose_decision", "due": "decision_due",
            "doc": "核对将公开的内容（决定书文号、决定日期、当事人（个人只显示姓氏加“某”）、依据、处罚内容、作出机关），确认不含其他个人信息后公开；具有一定社会影响的行政处罚决定应当依法公开（行政处罚法第四十八条），决定不予公开的须说明理由。期限为作出决定之日起7个工作日，逾期未公示的向负责人督办。"}),
        ("d_end", "endEvent", "公示步骤结束", "head", 2, 0, {}),
    ],
    "flows": [("d_start", "disclose_decision", "", ""), ("disclose_decision", "d_end", "", "")],
}


def write() -> Path:
    path = FOLDER / f"{DECISION['id']}.bpmn"
    path.write_text(render(DECISION), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
