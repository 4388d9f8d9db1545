"""Penalty cases driven over the JSON API with bearer tokens, as an outside system would.

Shared by the cluster fault tests and ``bench.load``: one ``Client`` per simulated officer
thread (one keep-alive connection, reopened after a failure), the demo unit 610302's staff
(``zhang.wei`` and ``li.na`` officers, ``zhao.lei`` head), and what each early penalty step
posts. A case goes from the lead to the investigation report: a start, eight completions
(one a multi-instance step done by two officers at once), and the jobs between them (case
number, deadline, filing report and record documents).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

UNIT = "610302"
ROLE_USERS = {"officer": "zhang.wei", "head": "zhao.lei", "legal_reviewer": "chen.jing"}
ENTITY = {"credit_code": "92610302MA6X8K21AY", "name": "宝鸡渭滨康宁诊所", "legal_representative": "何康宁",
          "address": "渭滨区经二路18号", "licence": "PDY61030200001"}
STOP_AT = "investigation_report"  # a case is driven until this task is ready


class Answer:
    """One HTTP answer: status (0 when the connection failed), body, and the client-side time."""

    def __init__(self, status: int, body: Any, ms: float, server_ms: float | None = None) -> None:
        self.status, self.body, self.ms, self.server_ms = status, body, ms, server_ms

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Client:
    port: int
    tokens: dict[str, str]
    timeout: float = 30
    record: Callable[[str, Answer], None] | None = None  # (kind, answer) for every request
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def call(self, user: str, method: str, path: str, body: Any = None, kind: str = "other") -> Answer:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._conn.request(method, path, body=payload, headers=headers)
            response = self._conn.getresponse()
            raw = response.read()
            status = response.status
            timing = response.getheader("Server-Timing") or ""
        except (OSError, http.client.HTTPException):
            self.close()
            answer = Answer(0, None, (time.perf_counter() - started) * 1000)
            if self.record:
                self.record(kind, answer)
            return answer
        ms = (time.perf_counter() - started) * 1000
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300]
        answer = Answer(status, parsed, ms, _server_ms(timing))
        if self.record:
            self.record(kind, answer)
        return answer

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _server_ms(header: str) -> float | None:
    for part in header.split(","):
        if part.strip().startswith("app") and "dur=" in part:
            try:
                return float(part.split("dur=")[1].split(";")[0])
            except ValueError:
                return None
    return None


def who(task: dict[str, Any]) -> str:
    return task["assignee"] or ROLE_USERS[task["candidate_role"] or "officer"]


def form_data(task: dict[str, Any], case: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """What the person doing ``task`` of ``case`` (the API's case body) posts."""
    day = (today or date.today()).isoformat()
    name = task["task_name"]
    if name == "register_lead":
        return {"source": "inspection", "entity_name": ENTITY["name"], "party_type": "organisation",
                "credit_code": ENTITY["credit_code"], "legal_representative": ENTITY["legal_representative"],
                "registered_address": ENTITY["address"], "actual_address": ENTITY["address"],
                "region_code": UNIT, "unit_category": "医疗机构", "licence_numbers": ENTITY["licence"],
                "category": "medical", "suspected_violation": "使用非卫生技术人员从事医疗卫生技术工作",
                "violation_date": ((today or date.today()) - timedelta(days=30)).isoformat(),
                "discovered_on": day, "accepted_on": day}
    if name == "prepare_filing":
        officers = [{"user_id": "zhang.wei", "name": "张伟", "certificate_no": "61030220180012"},
                    {"user_id": "li.na", "name": "李娜", "certificate_no": "61030220190031"}]
        return {"officers": officers, "summary": "检查中发现当事人涉嫌使用非卫生技术人员。",
                "preliminary_basis": "《护士条例》第二十一条"}
    if name == "approve_filing":
        return {"approved": "true", "opinion": "同意立案"}
    if name == "declare_conflicts":
        return {"no_conflict": "true"}
    if name == "investigate":
        records = sum(1 for e in case.get("audit", []) if e["action"] == "task_completed"
                      and e.get("task_name") == "investigate")
        base = {"officers": ["zhang.wei", "li.na"], "occurred_on": day, "place": "康宁诊所诊室"}
        if records == 0:
            return {**base, "kind": "interview", "interviewee": "何康宁（法定代表人）",
                    "content": "问：诊所是否聘用了未取得执业资格的人员？答：有一名护士尚未取得护士执业证书。"}
        if records == 1:
            return {**base, "kind": "site", "content": "现场检查发现一名未取得护士执业证书的人员正在为患者输液。"}
        return {"kind": "finish"}
    raise ValueError(f"no form data for {name}")


@dataclass
class Outcome:
    """What one driven case saw: completions answered 2xx, and every other answer."""

    instance_id: str | None = None
    completed: list[tuple[str, str]] = field(default_factory=list)  # (task id, user) answered 2xx
    refused: list[tuple[str, int]] = field(default_factory=list)  # (task id, status) 409/422/5xx/0
    reached: bool = False


def ready(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in case.get("tasks", []) if t["status"] == "ready"]


def drive_case(client: Client, deadline: float, stop_at: str = STOP_AT, poll: float = 0.05) -> Outcome:
    """Start a penalty case and complete its tasks until ``stop_at`` is ready (or time is up).

    Tasks ready together (the two conflict declarations) are completed one after the other by
    their assignees; a refused or failed completion is not repeated blindly: the case is read
    again and whatever is ready then is done.
    """
    outcome = Outcome()
    started = client.call("zhang.wei", "POST", "/api/v1/cases",
                          {"process_key": "penalty_ordinary", "entity_id": ENTITY["credit_code"]}, kind="start")
    if not started.ok:
        return outcome
    outcome.instance_id = started.body["id"]
    case = started.body
    while time.monotonic() < deadline:
        tasks = ready(case)
        if any(t["task_name"] == stop_at for t in tasks):
            outcome.reached = True
            return outcome
        fresh = True  # ``case`` is the answer to our last completion, so its ready tasks are real
        for task in tasks:
            answer = client.call(who(task), "POST", f"/api/v1/tasks/{task['id']}/complete",
                                 {"data": form_data(task, case)}, kind="complete")
            if answer.ok:
                outcome.completed.append((task["id"], who(task)))
                case = answer.body
            else:  # 409 (someone was faster), or the connection broke: read the case again
                outcome.refused.append((task["id"], answer.status))
                fresh = False
        if not fresh or not ready(case):
            time.sleep(poll)  # or a job (case number, documents) has the case: wait for its next task
            read = client.call("zhang.wei", "GET", f"/api/v1/cases/{outcome.instance_id}", kind="case")
            if read.ok:
                case = read.body
    return outcome
