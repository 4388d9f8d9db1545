"""bench.complaints, part 1: one complaint from the portal to its archive through the HTTP API on the
embedded default (``complaints.case_ms``; how: ``bench.complaints``' docstring)."""

from __future__ import annotations

import random
import secrets
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.complaints_data import submission
from bench.complaints_http import (
    CITY,
    FILED_RE,
    FORM_DATA,
    PROVINCE,
    ROLE_USER,
    STAFF,
    WAIT_TASK,
    Http,
    Server,
    csrf_token,
    server_env,
    solved_challenge,
)

# -- shared directory ---------------------------------------------------------------------------------

def add_staff(session: Session) -> dict[str, str]:
    """The case part's four people in CITY with an API token each; returns login -> token."""
    from processes.directory.services import create_user
    from web.models import ApiToken
    from web.security import TOKEN_PREFIX, token_hash

    tokens = {}
    for login, name, roles, cert in STAFF:
        create_user(session, login, name, CITY, roles, secrets.token_urlsafe(16), cert)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(ApiToken(user_id=login, name="bench", token_hash=token_hash(token), prefix=token[:10],
                             created_by="bench", created_at=datetime.now(UTC)))
        tokens[login] = token
    return tokens


# -- part 1: one case from intake to archive (SQLite, eager) --------------------------------------------

@dataclass
class CaseRun:
    total_ms: float
    submit_ms: float
    complete_ms: float
    lookup_ms: float
    timer_ms: float
    completions: int
    requests: int


class CaseDriver:
    def __init__(self, port: int, tokens: dict[str, str], database_url: str) -> None:
        self.port, self.database_url = port, database_url
        self.staff = {login: Http(port, token=token) for login, token in tokens.items()}
        self.citizen = Http(port)

    def close(self) -> None:
        for client in (*self.staff.values(), self.citizen):
            client.close()

    def _ready(self, tracking_no: str, known: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, int, float]:
        """The next ready task of this complaint: in the last answer, else in the staff's inboxes."""
        for task in known:
            if task.get("status") == "ready" and task.get("business_key") == tracking_no:
                return task, 0, 0.0
        calls, spent = 0, 0.0
        for login in ("clerk.city", "officer.a", "head.city", "officer.b"):
            for tab in ("assigned", "claimable"):
                answer = self.staff[login].get(f"/api/v1/inbox?tab={tab}&limit=200")
                calls, spent = calls + 1, spent + answer.ms
                if answer.status != 200:
                    raise RuntimeError(f"inbox of {login}: {answer.status} {answer.text()[:300]}")
                for task in answer.json()["items"]:
                    if task["business_key"] == tracking_no:
                        return task, calls, spent
        return None, calls, spent

    def run(self, seed: int) -> CaseRun:
        from integrations.celery_app import dispatch_after_commit
        from processes.registry import discover

        discover()
        rng = random.Random(seed)
        token = csrf_token(self.citizen, "/public/complaints/new")
        challenge = solved_challenge(self.citizen)
        fields = submission(rng, token, challenge, unit_id=CITY)
        fields.update(kind="report", name="王五", phone="13900000000", address="宝鸡市渭滨区经二路1号",
                      reply_channel="post")
        started = time.perf_counter()
        filed = self.citizen.post_form("/public/complaints/new", fields, multipart=True)
        found = FILED_RE.search(filed.text())
        if filed.status != 200 or found is None:
            raise RuntimeError(f"portal submission: {filed.status} {filed.text()[:500]}")
        tracking_no, code = found.group(1).strip(), found.group(2).strip()
        submit_ms, complete_ms, lookup_ms, completions, requests = filed.ms, 0.0, 0.0, 0, 1
        known: list[dict[str, Any]] = []
        while True:
            task, calls, spent = self._ready(tracking_no, known)
            lookup_ms, requests = lookup_ms + spent, requests + calls
            if task is None:
                raise RuntimeError(f"{tracking_no}: no ready task and not waiting for the 复查 window")
            if task["task_name"] == WAIT_TASK:
                break
            data = FORM_DATA.get(task["form_key"])
            if data is None:
                raise RuntimeError(f"no form data for {task['form_key']} ({task['task_name']})")
            login = task["assignee"] or ROLE_USER[task["candidate_role"]]
            done = self.staff[login].post_json(f"/api/v1/tasks/{task['id']}/complete", {"data": data})
            complete_ms, completions, requests = complete_ms + done.ms, completions + 1, requests + 1
            if done.status != 200:
                raise RuntimeError(f"complete {task['task_name']}: {done.status} {done.text()[:500]}")
            known = done.json()["tasks"]
        # 31 days later the window for 复查 has closed: the timer fires and the archive jobs run (eager).
        timer_started = time.perf_counter()
        engine = _sqlite_engine(self.database_url)
        try:
            from engine import fire_due_timers

            with Session(engine) as session:
                report = fire_due_timers(session, datetime.now(UTC) + timedelta(days=31))
                session.commit()
            dispatch_after_commit(session)
            if report.failures:
                raise RuntimeError(f"timer failures: {report.failures}")
        finally:
            engine.dispose()
        timer_ms = (time.perf_counter() - timer_started) * 1000
        total_ms = (time.perf_counter() - started) * 1000
        shown = self.citizen.post_form("/public/complaints/track",
                                       {"csrf_token": token, "tracking_no": tracking_no, "code": code})
        if shown.status != 200 or "已办结归档" not in shown.text():
            raise RuntimeError(f"{tracking_no} not archived: {shown.status} {shown.text()[:500]}")
        return CaseRun(total_ms, submit_ms, complete_ms, lookup_ms, timer_ms, completions, requests)


def _sqlite_engine(url: str) -> Engine:
    from engine.dbconnect import make_engine

    return make_engine(url)


def case_part(runs: int, workdir: Path) -> dict[str, Any]:
    from engine.actor import SYSTEM
    from engine.settings import Settings
    from integrations.celery_app import make_celery
    from migrations.runner import upgrade
    from processes.directory.services import create_unit
    from processes.registry import deploy_packages

    url = f"sqlite:///{workdir / 'case.db'}"
    upgrade(url)
    engine = _sqlite_engine(url)
    with Session(engine) as session:
        deploy_packages(session, SYSTEM)
        create_unit(session, PROVINCE, "陕西省卫生健康委员会卫生监督所", "province", PROVINCE, None, "陕")
        session.flush()
        create_unit(session, CITY, "宝鸡市卫生健康委员会卫生监督所", "city", CITY, PROVINCE, "宝")
        session.flush()
        tokens = add_staff(session)
        session.commit()
    engine.dispose()
    make_celery(Settings(database_url=url))  # the timers' jobs run eagerly against this file
    server = Server.start(server_env(url, workdir / "uploads"), production=False, log_path=workdir / "case.log")
    driver = CaseDriver(server.port, tokens, url)
    try:
        driver.run(seed=0)  # warm: the first request of each kind imports and parses once
        results = [driver.run(seed=n) for n in range(1, runs + 1)]
    finally:
        driver.close()
        server.stop()
    median = lambda name: round(statistics.median(getattr(r, name) for r in results), 1)  # noqa: E731
    return {"complaints.case_ms": median("total_ms"), "complaints.case_runs": runs,
            "complaints.case_max_ms": round(max(r.total_ms for r in results), 1),
            "complaints.case.submit_ms": median("submit_ms"), "complaints.case.complete_ms": median("complete_ms"),
            "complaints.case.inbox_lookup_ms": median("lookup_ms"),
            "complaints.case.timer_archive_ms": median("timer_ms"),
            "complaints.case.completions": results[0].completions, "complaints.case.requests": results[0].requests}
