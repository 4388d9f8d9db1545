"""Bulk actions on the inbox's selected rows: claim, release, reassign (heads only), export. A row
that cannot take the action is reported with a sentence and left as it was; the others go through."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from engine import audit_history, claim, suspend
from engine.models import HumanTask
from tests.web.conftest import ENTITY_B, actor, ready_task, start_lead


def holder(session: Session, task_id: str) -> str | None:
    session.expire_all()
    task = session.get(HumanTask, task_id)
    assert task is not None
    return task.assignee


def test_bulk_claim_and_release_report_each_row(as_user: Any, session: Session) -> None:
    free, taken, other_unit = (start_lead(session, key="L-FREE"), start_lead(session, key="L-TAKEN"),
                               start_lead(session, "officer.b", ENTITY_B, key="L-B"))
    t_free, t_taken, t_b = (ready_task(session, i.id) for i in (free, taken, other_unit))
    claim(session, t_taken.id, actor(session, "officer.a2"))
    session.commit()
    officer = as_user("officer.a")
    page = officer.get("/inbox?tab=claimable").get_data(as_text=True)
    assert f'id="sel-{t_free.id}"' in page and 'id="bulk-claim"' in page and 'id="bulk-reassign"' not in page

    response = officer.post("/inbox/bulk", {"action": "claim", "task_id": [t_free.id, t_taken.id, t_b.id],
                                            "next": "/inbox?tab=claimable"})
    assert response.location == "/inbox?tab=claimable"
    html = officer.get("/inbox").get_data(as_text=True)
    assert "已领取 1 项任务" in html and "未领取" in html and "L-TAKEN" in html and "该任务已由他人办理" in html
    assert "L-B" not in html  # another unit's task: not even named
    assert holder(session, t_free.id) == "officer.a"
    assert holder(session, t_taken.id) == "officer.a2" and holder(session, t_b.id) is None
    claims = [e for e in audit_history(session, free.id) if e.action == "task_claimed"]
    assert [(e.actor, e.data["to"]) for e in claims] == [("officer.a", "officer.a")]

    released = officer.post("/inbox/bulk", {"action": "release", "task_id": [t_free.id, t_taken.id]})
    html = officer.get(released.location).get_data(as_text=True)
    assert "已释放 1 项任务" in html and "未释放" in html and "您无权对该任务执行此操作" in html
    assert holder(session, t_free.id) is None and holder(session, t_taken.id) == "officer.a2"


def test_a_suspended_case_is_not_claimed_and_bad_requests_write_nothing(as_user: Any, session: Session) -> None:
    ok, held = start_lead(session, key="L-OK"), start_lead(session, key="L-SUSP")
    t_ok, t_held = ready_task(session, ok.id), ready_task(session, held.id)
    suspend(session, actor(session, "admin"), held.id, "核查数据")
    session.commit()
    officer = as_user("officer.a")
    html = officer.get(officer.post("/inbox/bulk", {"action": "claim", "task_id": [t_ok.id, t_held.id]})
                       .location).get_data(as_text=True)
    assert "已领取 1 项任务" in html and "该案件已被管理员挂起" in html
    assert holder(session, t_ok.id) == "officer.a" and holder(session, t_held.id) is None
    for data, sentence in (({"action": "claim"}, "请至少选择一项任务"),
                           ({"action": "drop", "task_id": t_ok.id}, "请选择对所选任务执行的操作")):
        assert sentence in officer.get(officer.post("/inbox/bulk", data).location).get_data(as_text=True)
    assert officer.post("/inbox/bulk", {"action": "reassign", "task_id": t_ok.id, "assignee": "officer.a2",
                                        "reason": "x"}).status_code == 403  # heads only
    assert holder(session, t_ok.id) == "officer.a"
    # a next address elsewhere is not followed
    assert officer.post("/inbox/bulk", {"action": "claim", "task_id": t_ok.id,
                                        "next": "https://evil.example/"}).location == "/inbox"


def test_a_head_reassigns_selected_inbox_rows(as_user: Any, session: Session) -> None:
    mine = start_lead(session, "head.a", key="L-HEAD")
    task = ready_task(session, mine.id)
    claim(session, task.id, actor(session, "head.a"))
    session.commit()
    head = as_user("head.a")
    assert 'id="bulk-reassign"' in head.get("/inbox").get_data(as_text=True)
    html = head.get(head.post("/inbox/bulk", {"action": "reassign", "task_id": task.id, "assignee": "officer.b",
                                              "reason": "均衡工作量"}).location).get_data(as_text=True)
    assert "刘洋 不在您所辖单位" in html and holder(session, task.id) == "head.a"
    head.post("/inbox/bulk", {"action": "reassign", "task_id": task.id, "assignee": "officer.a2",
                              "reason": "均衡工作量"})
    assert holder(session, task.id) == "officer.a2"
    assigned = [e for e in audit_history(session, mine.id) if e.action == "task_assigned"]
    assert assigned[-1].data == {"from": "head.a", "to": "officer.a2", "reason": "均衡工作量"}


def test_export_is_the_visible_selection_and_formula_safe(as_user: Any, session: Session) -> None:
    from engine import start

    evil = start(session, "case_lead", actor(session, "officer.a"), {}, "=HYPERLINK(\"http://x\")",
                 unit_id="610302", entity_id=None, entity_name="@SUM(1+1)")
    plain = start_lead(session, key="L-PLAIN")
    other = start_lead(session, "officer.b", ENTITY_B, key="L-B")
    session.commit()
    ids = [ready_task(session, i.id).id for i in (evil, plain, other)]
    officer = as_user("officer.a")
    response = officer.post("/inbox/bulk", {"action": "export_csv", "task_id": ids})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.headers["X-Rows"] == "2"
    text = response.get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(1+1)" in text and "L-PLAIN" in text and "L-B" not in text
    assert text.splitlines()[0].startswith("任务,案件编号")
    book = load_workbook(io.BytesIO(officer.post("/inbox/bulk", {"action": "export_xlsx", "task_id": ids[:1]})
                                    .get_data()))
    cells = [c.value for c in next(iter(book.worksheets[0].iter_rows(min_row=2, max_row=2)))]
    assert cells[1] == "'=HYPERLINK(\"http://x\")" and cells[2] == "'@SUM(1+1)"
