"""Complaints benchmark: ``python -m bench.complaints --json``.

Two parts, each against a real server on 127.0.0.1 that the bench starts and stops itself
(about two minutes in all). Prints one JSON object.

``complaints.case_ms``: one complaint from intake to archive on the embedded default (SQLite
file, eager Celery: ``weijian serve``, scheduler off). The citizen files it on the portal (CSRF
token and proof-of-work solved before the clock starts); every staff task is then completed
through ``POST /api/v1/tasks/<id>/complete`` with the doer's API token (the next task is found
in the completion's answer, or else in the staff's inboxes through ``GET /api/v1/inbox``); the
30-day window for a 复查 request is closed by ``engine.fire_due_timers`` 31 days later and the
archive jobs that follow run eagerly, as the scheduler's tick would run them. Median of
``--case-runs`` after one warm-up case, with its parts (``complaints.case.*``).

``portal.*``: ``weijian serve --production`` (gunicorn with its default worker count, rate limits
in a Redis db of its own as production has them, ``--no-redis`` for per-worker memory) on the
PostgreSQL database ``weijian_bench_complaints`` holding ``--complaints`` (100,000) complaints.
First one client alone (``portal.alone.*``: a request's time without a queue), then ``--clients``
(20) at once (``portal.*``), each a thread with its own session and connection (gunicorn's sync
workers close it after each answer) that files complaints (``POST /public/complaints/new``,
challenges solved beforehand; 70 % about a directory entity, as often as the stored ones, so
busy targets get their share), then tracks stored ones (``POST /public/complaints/track``, right
number and code; one in 20 a wrong code).

* ``portal.submit_p95_ms`` / ``track_p95_ms`` (and p50, max, count, per second): each request
  timed by its client on loopback, from sending it to reading the whole answer, so with 20
  clients and fewer workers it includes the wait for a free worker;
* ``portal.server.*_p95_ms``: the app's own time of the same requests, from its request log
  (matched by the ``X-Request-ID`` each request carries), without that wait;
* ``portal.cpu.*_ms``: CPU per request of the web workers (``app``), their PostgreSQL backends
  (``db``) and the clients (``client``), from ``/proc``: the numbers that least depend on what
  else the machine is doing (``machine.load_before``/``_after``); capacity is about cores × 1000
  / (app + db + client) requests per second, and 20 clients without pause wait about 20 / that.

How the 100,000 complaints are stored quickly: Alembic creates the schema, the services create
the units (1 province, 10 cities, 100 counties) and the deployment; entities (20,000),
complaints and their timelines (about 4.5 lines each) go in with PostgreSQL COPY (about 30 s),
generated deterministically: received over the last three years (more recently, fewer on
weekends), 80 % at county units (a few counties get most), kinds and channels in the shares of
a provincial register, statuses by age (older ones closed, refused, transferred or merged;
recent ones at every stage), 70 % about a directory entity (Zipf: the busiest about 1,000 in
three years), 30 % about free-text targets, a third anonymous, the others with an encrypted
identity (a pool of real Fernet tokens), 1.3 % of the answered ones with a 复查 and a quarter of
those a 复核. Each row's query code is random with its own salt and stored as
``intake.code_hash`` does; the bench keeps the codes of every 20th row to track. The process
instances of the stored complaints are not created (the inbox benchmark measures 200,000 of
those); the portal reads none of them.

``--reuse`` keeps the filled database between runs (migrated to the newest schema each time);
``--py-spy DIR`` profiles the web workers during the 20-client phases.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "weijian_bench_complaints"
COMPLAINTS = 100_000
ENTITIES = 20_000
CLIENTS = 20
SINGLE_SUBMITS, SINGLE_TRACKS = 30, 150  # one client alone first: the time of a request without a queue
TARGET_P95_MS = 50
FILL_VERSION = 3  # bump when the generated rows change (--reuse then fills again)
PROVINCE, CITY = "610000", "610300"
UNLIMITED = "1000000/hour"
STAFF = (  # login, name, roles, certificate (case part, all in CITY)
    ("clerk.city", "孙丽", ["complaint_clerk"], None),
    ("officer.a", "张伟", ["officer"], "61030020180012"),
    ("officer.b", "李娜", ["officer"], "61030020190031"),
    ("head.city", "赵磊", ["head", "officer"], "61030020100003"),
)
ROLE_USER = {"complaint_clerk": "clerk.city", "officer": "officer.a", "head": "head.city"}
# What each staff task of the default path posts (a report, own competence, no violation found).
FORM_DATA: dict[str, dict[str, Any]] = {
    "complaints.classify": {"kind": "report"},
    "complaints.route": {"competence": "own"},
    "complaints.acceptance": {"accepted": True, "handlers": ["officer.a"]},
    "complaints.verification": {"officers": ["officer.a", "officer.b"], "violation_found": False,
                                "findings": "现场核查未发现违法行为"},
    "complaints.final_report": {"facts": "经现场核查，被举报单位持有有效执业许可证，未发现所举报的违法行为。",
                                "measures": "已当场告知其依法执业", "draft_reply": "经核查，未发现所反映的违法行为。"},
    "complaints.review": {"passed": True},
}
WAIT_TASK = "await_review_request"  # the complainant's 30 days to ask for 复查: closed by a timer


# -- HTTP on loopback ---------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    body: bytes
    ms: float
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Http:
    """One keep-alive connection with its cookies, like one browser tab or one API client."""

    port: int
    token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    _conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, request_id: str | None = None) -> Answer:
        sent = dict(headers or {})
        if request_id:
            sent["X-Request-ID"] = request_id  # the server logs its own time under this id
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            try:
                self._conn.request(method, path, body=body, headers=sent)
                response = self._conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.RemoteDisconnected):
                self.close()  # a worker closed a kept-alive connection: once more on a new one
                if attempt == 2:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Answer(response.status, raw, ms, {k.lower(): v for k, v in response.getheaders()})
        raise AssertionError("unreachable")

    def get(self, path: str) -> Answer:
        return self.request("GET", path, headers={"Accept": "text/html,application/json"})

    def post_json(self, path: str, payload: Any) -> Answer:
        return self.request("POST", path, json.dumps(payload, ensure_ascii=False).encode(),
                            {"Content-Type": "application/json", "Accept": "application/json"})

    def post_form(self, path: str, fields: dict[str, str], multipart: bool = False,
                  request_id: str | None = None) -> Answer:
        if not multipart:
            return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                                {"Content-Type": "application/x-www-form-urlencoded"}, request_id)
        boundary = "----weijianbench" + secrets.token_hex(8)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 for k, v in fields.items()]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                            request_id)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FILED_RE = re.compile(r'id="tracking-no">([^<]+)<.*?id="query-code">([^<]+)<', re.S)


def csrf_token(client: Http, path: str) -> str:
    page = client.get(path)
    found = CSRF_RE.search(page.text())
    if page.status != 200 or found is None:
        raise RuntimeError(f"GET {path}: {page.status} without a CSRF token")
    return found.group(1)


def solve(challenge: dict[str, Any]) -> str:
    """What the browser's solver sends as the ``challenge`` field (ALTCHA v1)."""
    from altcha import solve_challenge_v1

    solution = solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                  challenge["maxNumber"])
    if solution is None:
        raise RuntimeError("challenge not solvable")
    return base64.b64encode(json.dumps({"algorithm": challenge["algorithm"], "challenge": challenge["challenge"],
                                        "number": solution.number, "salt": challenge["salt"],
                                        "signature": challenge["signature"]}).encode()).decode()


def solved_challenge(client: Http) -> str:
    answer = client.get("/public/challenge")
    if answer.status != 200:
        raise RuntimeError(f"GET /public/challenge: {answer.status}")
    return solve(answer.json())


def submission(rng: random.Random, token: str, challenge: str, place: Directory | None = None,
               unit_id: str = CITY) -> dict[str, str]:
    """A citizen's filing: 70 % about a directory entity (picked in the form's search, as often as
    the stored ones), else a free-text target in ``unit_id`` or one of the busiest units."""
    anonymous = rng.random() < 0.35
    entity_id, target = "", rng.choice(FREE_TARGETS) + rng.choice(("", "", "二部", "（东门）", "分店"))
    if place is not None:
        unit_id = rng.choices(place.units, cum_weights=place.unit_cum)[0]
        if rng.random() < 0.7:
            entity_id, target, unit_id = rng.choices(place.entities, cum_weights=place.entity_cum)[0]
    return {"csrf_token": token, "challenge": challenge, "kind": rng.choice(("", "complaint", "report", "report")),
            "target_name": target, "entity_id": entity_id, "unit_id": unit_id, "facts": facts_text(rng),
            "request": rng.choice(("请依法查处", "请尽快处理并答复", "")), "website": "",
            "reply_channel": "" if anonymous else "sms", "name": "" if anonymous else rng.choice(SURNAMES) + "先生",
            "phone": "" if anonymous else f"139{rng.randrange(10**8):08d}", "email": "", "address": ""}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``weijian serve`` (development or ``--production``) as a child process, stopped with SIGTERM."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @classmethod
    def start(cls, env: dict[str, str], production: bool, log_path: Path, timeout: float = 90) -> Server:
        port = free_port()
        command = [sys.executable, "-c", "from web.cli import main; main()", "serve", "--host", "127.0.0.1",
                   "--port", str(port), *(["--production"] if production else [])]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                                       cwd=Path(__file__).resolve().parents[1], start_new_session=True)
        server = cls(process, port, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                probe = Http(port)
                if probe.get("/healthz").status == 200:
                    probe.close()
                    return server
            except OSError:
                time.sleep(0.2)
        server.stop()
        raise RuntimeError("server did not answer /healthz in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)  # the server's own session: gunicorn and its workers
                self.process.wait(5)


def server_env(database_url: str, upload_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "WEIJIAN_ENV", "PROMETHEUS_MULTIPROC_DIR", "WEIJIAN_WEB_WORKERS")}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32), "WEIJIAN_SCHEDULER": "0",
                "WEIJIAN_SECURE_COOKIES": "0", "WEIJIAN_UPLOAD_DIR": str(upload_dir), "PYTHONDONTWRITEBYTECODE": "1",
                **{f"WEIJIAN_PUBLIC_LIMIT_{name}": UNLIMITED
                   for name in ("PAGE", "CHALLENGE", "SUBMIT", "SUBMIT_CONTACT", "TRACK")}})
    env.update(extra)
    return env


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


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


# -- part 2: the portal under 20 clients on PostgreSQL with 100,000 complaints -------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
PLACES = ("渭滨区", "金台区", "陈仓区", "凤翔区", "岐山县", "扶风县", "眉县", "陇县", "千阳县", "麟游县",
          "雁塔区", "碑林区", "莲湖区", "新城区", "未央区", "灞桥区", "长安区", "临潼区", "高陵区", "鄠邑区")
TRADES = ("诊所", "口腔门诊部", "医院", "卫生院", "美容店", "游泳馆", "宾馆", "洗浴中心", "理发店", "中学",
          "幼儿园", "自来水公司", "二次供水泵房", "放射科", "职业病诊断机构", "足浴店", "酒店", "网吧")
WORDS = ("康宁", "仁和", "华康", "金水湾", "悦来", "明珠", "博爱", "济世", "安康", "阳光", "温馨", "丽都", "新世纪",
         "长青", "益民", "百姓", "天使", "爱尔", "同仁", "东方")
FREE_TARGETS = tuple(f"{p}{w}{t}" for p in PLACES[:6] for w in WORDS[:8] for t in TRADES[:6])
FACT_PARTS = ("无证行医", "使用过期药品", "医疗废物随意丢弃", "消毒不规范，毛巾重复使用", "游泳池水质浑浊",
              "从业人员无健康证明", "非卫生技术人员从事诊疗活动", "超范围执业", "未按规定公示卫生许可证",
              "饮用水有异味", "放射防护设施缺失", "医美项目夸大宣传", "收费不透明", "病历书写不规范",
              "一次性器械重复使用", "空气质量差、通风不良", "检查报告迟迟不给", "拒不出具处方", "护士没有执业证书",
              "注射后出现红肿", "门诊无人值守", "消毒记录造假", "给未成年人做纹身", "牙科器械未经灭菌",
              "宿舍楼二次供水水箱未清洗", "泳池无救生员", "客房床单不更换", "化妆品来源不明", "职业病体检走过场",
              "B超室无防护", "输液室拥挤不消毒", "过期疫苗", "假冒医生坐诊", "私自开展人工流产")
FACT_OPENINGS = ("本人于近日发现，", "我在该处就诊时看到，", "多名居民反映，", "家属就诊期间发现，", "近一个月以来，",
                 "我是附近的住户，", "我的孩子在此", "朋友告诉我，", "")
FACT_DETAILS = ("{m}月{d}日下午{h}点左右", "当天收费{n}元却没有发票", "一名约{a}岁的{who}", "{n}号诊室",
                "二楼{n}室", "前后去了{k}次", "电话{p}多次无人接听", "排队等了{k}个小时", "{who}态度恶劣",
                "用的是{n}年的旧设备", "共有{k}名顾客反映", "门口贴着{who}的照片")
WHO = ("男子", "女工作人员", "自称主任的人", "实习生", "老板娘", "保安", "收费员", "护士", "医生")
FACT_CLOSINGS = ("请卫生监督部门依法查处。", "希望尽快核实处理并答复。", "已影响周边群众健康。", "")


def facts_text(rng: random.Random) -> str:
    """A citizen's account: one to three matters and some particulars (similar ones share matters)."""
    matters = "，".join(rng.sample(FACT_PARTS, rng.randint(1, 3)))
    details = "，".join(rng.choice(FACT_DETAILS).format(
        m=rng.randint(1, 12), d=rng.randint(1, 28), h=rng.randint(1, 11), n=rng.randint(2, 980), a=rng.randint(20, 60),
        k=rng.randint(2, 9), p=f"0917-{rng.randrange(10**7):07d}", who=rng.choice(WHO))
        for _ in range(rng.randint(1, 5)))
    return f"{rng.choice(FACT_OPENINGS)}{matters}。{details}。{rng.choice(FACT_CLOSINGS)}"


@dataclass
class Directory:
    units: list[str]  # county units first
    unit_weights: list[float]
    entities: list[tuple[str, str, str]]  # credit code, name, unit
    entity_weights: list[float]

    unit_cum: list[float] = field(default_factory=list)
    entity_cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.unit_cum = list(itertools.accumulate(self.unit_weights))
        self.entity_cum = list(itertools.accumulate(self.entity_weights))


def directory(seed: int = 3) -> Directory:
    from processes.directory.codes import make_credit_code

    rng = random.Random(seed)
    cities = [f"61{c:02d}00" for c in range(1, 11)]
    counties = [f"61{c:02d}{d:02d}" for c in range(1, 11) for d in range(2, 12)]
    # a few counties get most complaints (Zipf over a shuffled order), cities 17 %, the province 3 %
    shuffled = counties[:]
    rng.shuffle(shuffled)
    county_w = [0.80 / (i + 1) ** 0.8 for i in range(len(shuffled))]
    scale = 0.80 / sum(county_w)
    weights = [w * scale for w in county_w] + [0.17 / len(cities)] * len(cities) + [0.03]
    entities = []
    for n in range(ENTITIES):
        unit = rng.choice(counties)
        code = make_credit_code(unit, f"MA{n:07d}", "92")
        name = f"{rng.choice(PLACES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{n % 97 or ''}"
        entities.append((code, name, unit))
    entity_w = [1 / (i + 1) ** 0.7 for i in range(ENTITIES)]  # the busiest about 1,000 in three years
    return Directory(shuffled + cities + [PROVINCE], weights, entities, entity_w)


KIND_MIX = (("report", 0.45), ("complaint", 0.35), ("petition", 0.12), ("out_of_scope", 0.05), (None, 0.03))
CHANNEL_MIX = (("portal", 0.35), ("hotline_12345", 0.30), ("hotline_12320", 0.15), ("phone", 0.08),
               ("letter", 0.04), ("visit", 0.04), ("assigned", 0.02), ("transferred", 0.02))
OLD_STATUS = (("closed", 0.82), ("refused", 0.06), ("transferred", 0.03), ("told", 0.02), ("merged", 0.02),
              ("out_of_scope", 0.03), ("replied", 0.02))
RECENT_STATUS = (("registered", 0.10), ("forwarded", 0.05), ("accepted", 0.40), ("paused", 0.03),
                 ("reviewing", 0.07), ("replied", 0.20), ("closed", 0.10), ("refused", 0.05))
COMPLAINT_COLUMNS = (
    "id", "tracking_no", "code_salt", "code_hash", "channel", "kind", "petition_kind", "status",
    "registered_unit_id", "unit_id", "instance_id", "instance_ids", "entity_id", "target_name", "target_key",
    "facts", "request", "attachments", "anonymous", "identity_token", "reply_channel", "clerk_id", "handlers",
    "received_on", "accept_due", "accepted_on", "handling_due", "paused_workdays", "finished_on", "replied_on",
    "on_time", "outcome", "reply_text", "duplicate_of", "review_level", "rules", "created_at", "updated_at")
EVENT_COLUMNS = ("complaint_id", "at", "kind", "public", "public_text", "actor", "data")


def _pick(rng: random.Random, mix: Sequence[tuple[Any, float]]) -> Any:
    roll, acc = rng.random(), 0.0
    for value, share in mix:
        acc += share
        if roll < acc:
            return value
    return mix[-1][0]


@dataclass
class Tracked:
    tracking_no: str
    code: str


def complaint_rows(count: int, today: date, sample_every: int, seed: int = 5
                   ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], Tracked | None]]:
    """(complaint row, its timeline rows, its number and code when kept for tracking)."""
    from processes.complaints.identity import encrypt_identity
    from processes.complaints.intake import CODE_ALPHABET, CODE_LENGTH, code_hash, normalise_target
    from processes.complaints.records import KINDS, PUBLIC_TEXT
    from processes.complaints.rules import load_rules

    rng = random.Random(seed)
    place = directory()
    rules = json.dumps(load_rules().as_raw(), ensure_ascii=False)
    tokens = [encrypt_identity({"name": f"{rng.choice(SURNAMES)}{rng.choice(WORDS)}", "phone": f"138{n:08d}"})
              for n in range(64)]
    unit_draw = rng.choices(range(len(place.units)), place.unit_weights, k=count)
    entity_draw = rng.choices(range(ENTITIES), place.entity_weights, k=count)
    day_weights = []
    span = 3 * 365
    for back in range(span):
        day = today - timedelta(days=back)
        day_weights.append((1.0 - back / (span * 1.6)) * (0.4 if day.weekday() >= 5 else 1.0))
    back_draw = rng.choices(range(span), day_weights, k=count)
    used: set[str] = set()
    empty = json.dumps([])
    for i in range(count):
        received = today - timedelta(days=back_draw[i])
        while True:
            number = f"TS{received:%Y%m%d}{rng.randrange(10**6):06d}"
            if number not in used:
                used.add(number)
                break
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        salt = f"{rng.getrandbits(64):016x}"
        kind = _pick(rng, KIND_MIX) if back_draw[i] > 2 else None
        old = back_draw[i] > 90
        status = _pick(rng, OLD_STATUS if old else RECENT_STATUS) if kind else "registered"
        if kind == "out_of_scope":
            status = "out_of_scope"
        unit = place.units[unit_draw[i]]
        if rng.random() < 0.7:
            credit, target, unit_of_entity = place.entities[entity_draw[i]]
            entity_id: str | None = credit
            unit = unit_of_entity if rng.random() < 0.8 else unit
        else:
            entity_id, target = None, rng.choice(FREE_TARGETS)
        anonymous = rng.random() < 0.33
        complaint_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        created = datetime(received.year, received.month, received.day, rng.randrange(0, 10), rng.randrange(60),
                           tzinfo=UTC)
        accepted = status not in ("registered", "forwarded", "refused", "transferred", "told", "out_of_scope",
                                  "merged")
        accepted_on = received + timedelta(days=rng.randint(1, 6)) if accepted else None
        handling_due = accepted_on + timedelta(days=rng.choice((21, 21, 21, 60, 63))) if accepted_on else None
        finished = status in ("replied", "closed")
        finished_on = (accepted_on or received) + timedelta(days=rng.randint(5, 40)) if finished else None
        reply = "经核查，已依法处理。您如对答复不服，可以自收到答复之日起30日内申请复查。" if finished else None
        review_level = 0 if not finished or rng.random() > 0.013 else (2 if rng.random() < 0.25 else 1)
        row = (complaint_id, number, salt, code_hash(salt, code), _pick(rng, CHANNEL_MIX), kind,
               "claim" if kind == "petition" else None, status, unit, unit, str(uuid.uuid4()), empty, entity_id,
               target, normalise_target(target), facts_text(rng), rng.choice(("请依法查处", "", "请尽快答复")), empty,
               anonymous, None if anonymous else rng.choice(tokens),
               None if anonymous else rng.choice(("sms", "sms", "email", "post")),
               None, json.dumps(["officer.a"] if accepted else []), received,
               received + timedelta(days=9), accepted_on, handling_due, 0, finished_on, finished_on,
               (finished_on <= handling_due) if finished_on and handling_due else None,
               "explained" if finished else None, reply, empty, review_level, rules, created,
               created + timedelta(days=(finished_on - received).days if finished_on else 1))
        what = KINDS.get(kind or "", "投诉举报")
        events = [(complaint_id, created, "registered", True,
                   PUBLIC_TEXT["registered"].format(what=what, tracking_no=number), "system", empty)]
        events.append((complaint_id, created + timedelta(hours=2), "classified", False, "", "clerk.x", empty))
        if accepted_on:
            at = datetime(accepted_on.year, accepted_on.month, accepted_on.day, 3, tzinfo=UTC)
            events.append((complaint_id, at, "accepted", True, PUBLIC_TEXT["accepted"], "clerk.x", empty))
        elif status in ("refused", "transferred", "told", "out_of_scope", "merged"):
            events.append((complaint_id, created + timedelta(days=3), status, True, "不予受理或者转由有权部门处理。",
                           "clerk.x", empty))
        if finished_on:
            at = datetime(finished_on.year, finished_on.month, finished_on.day, 6, tzinfo=UTC)
            events.append((complaint_id, at - timedelta(days=2), "reviewed", False, "", "head.x", empty))
            events.append((complaint_id, at, "replied", True, PUBLIC_TEXT["replied"], "system", empty))
            if status == "closed":
                events.append((complaint_id, at + timedelta(days=31), "archived", True, PUBLIC_TEXT["archived"],
                               "system", empty))
        yield row, events, Tracked(number, code) if i % sample_every == 0 else None


def _pg_url(base: str, database: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def prepare_postgres(admin_url: str, count: int, reuse: bool, keys: str) -> tuple[str, list[Tracked], float, bool]:
    """The filled database: (its URL, numbers and codes to track, seconds to fill, reused)."""
    from engine.dbconnect import make_engine

    url = _pg_url(admin_url, PG_DB)
    sample_every = max(1, count // 5000)
    today = datetime.now(UTC).date()
    if reuse:
        try:
            from migrations.runner import upgrade

            upgrade(url)  # a kept database gets the newest schema (new indexes) too
            engine = make_engine(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM complaint WHERE clerk_id IS NULL")).scalar()
                marker = conn.execute(text("SELECT value FROM bench_marker")).scalar()
            engine.dispose()
            if stored is not None and stored >= count and marker == f"{FILL_VERSION}:{count}:{today}":
                tracked = [t for _row, _events, t in complaint_rows(count, today, sample_every) if t is not None]
                return url, tracked, 0.0, True
        except Exception as exc:  # not there, or not ours: fill it again
            print(f"filling {PG_DB} again ({type(exc).__name__})", file=sys.stderr)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    started = time.perf_counter()
    os.environ["WEIJIAN_COMPLAINT_KEYS"] = keys
    tracked = fill(url, count, today, sample_every)
    return url, tracked, time.perf_counter() - started, False


def fill(url: str, count: int, today: date, sample_every: int) -> list[Tracked]:
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from migrations.runner import upgrade
    from processes.directory.services import create_unit
    from processes.registry import deploy_packages

    upgrade(url)
    engine = make_engine(url)
    place = directory()
    with Session(engine) as session:
        deploy_packages(session, SYSTEM)
        create_unit(session, PROVINCE, "陕西省卫生健康委员会卫生监督所", "province", PROVINCE, None, "陕")
        session.flush()
        for c in range(1, 11):
            create_unit(session, f"61{c:02d}00", f"第{c}市卫生监督所", "city", f"61{c:02d}00", PROVINCE, f"市{c}")
        session.flush()
        for c in range(1, 11):
            for d in range(2, 12):
                create_unit(session, f"61{c:02d}{d:02d}", f"第{c}市第{d}区县卫生监督所", "county",
                            f"61{c:02d}{d:02d}", f"61{c:02d}00", f"县{c}{d}")
        session.commit()
    tracked: list[Tracked] = []
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            now = datetime.now(UTC)
            with cur.copy("COPY dir_entity (credit_code, name, category, region_code, unit_id, licence_numbers, "
                          "created_at) FROM STDIN") as copy:
                for code, name, unit in place.entities:
                    copy.write_row((code, name, "medical", unit, unit, "[]", now))
            events: list[tuple[Any, ...]] = []
            with cur.copy(f"COPY complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row, timeline, keep in complaint_rows(count, today, sample_every):
                    copy.write_row(row)
                    events.extend(timeline)
                    if keep is not None:
                        tracked.append(keep)
            with cur.copy(f"COPY complaint_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(event)
            cur.execute("CREATE TABLE bench_marker (value text)")
            cur.execute("INSERT INTO bench_marker VALUES (%s)", (f"{FILL_VERSION}:{count}:{today}",))
        driver.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("complaint", "complaint_event", "dir_entity"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
    return tracked


@dataclass
class Sample:
    kind: str
    ms: float
    outcome: str  # ok | refused (a filing the checks refused: 422 with reasons) | error


class PortalClient(threading.Thread):
    """One citizen's browser: a session, a CSRF token, challenges solved before the clock starts."""

    def __init__(self, number: int, label: str, port: int, place: Directory, tracked: list[Tracked], submits: int,
                 tracks: int, challenges: list[str], barrier: threading.Barrier) -> None:
        super().__init__(name=f"client-{label}-{number}", daemon=True)
        self.number, self.label, self.rng = number, label, random.Random(f"{label}-{number}")
        self.http = Http(port)
        self.place, self.tracked, self.submits, self.tracks = place, tracked, submits, tracks
        self.challenges, self.barrier = challenges, barrier
        self.samples: list[Sample] = []
        self.error: BaseException | None = None
        self.token = ""

    def prepare(self) -> None:
        self.token = csrf_token(self.http, "/public/complaints/new")

    def run(self) -> None:
        try:
            self.barrier.wait()
            for n, challenge in enumerate(self.challenges[:self.submits]):
                fields = submission(self.rng, self.token, challenge, self.place)
                answer = self.http.post_form("/public/complaints/new", fields, multipart=True,
                                             request_id=f"bench-{self.label}-submit-{self.number}-{n}")
                filed = answer.status == 200 and FILED_RE.search(answer.text()) is not None
                outcome = "ok" if filed else "refused" if answer.status == 422 else "error"
                self.samples.append(Sample("submit", answer.ms, outcome))
            self.barrier.wait()
            for n in range(self.tracks):
                item = self.rng.choice(self.tracked)
                wrong = n % 20 == 19  # one in 20 typed the code wrong: the same refusal as an unknown number
                answer = self.http.post_form(
                    "/public/complaints/track", {"csrf_token": self.token, "tracking_no": item.tracking_no,
                                                 "code": "WRONGCODE234" if wrong else item.code},
                    request_id=f"bench-{self.label}-track-{self.number}-{n}")
                self.samples.append(Sample("track", answer.ms, "ok" if answer.status == (422 if wrong else 200)
                                           else "error"))
            self.barrier.wait()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.abort()
        finally:
            self.http.close()


def _solve_many(challenges: list[dict[str, Any]]) -> list[str]:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(solve, challenges, chunksize=8))


def server_times(log_path: Path) -> dict[str, list[float]]:
    """The app's own time of each measured request (``web.operations`` logs ``duration_ms`` with
    the request id the client sent: ``bench-<run>-<kind>-...``), by ``<run>-<kind>``."""
    times: dict[str, list[float]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        parts = str(entry.get("request_id") or "").split("-")
        if len(parts) > 3 and parts[0] == "bench" and "duration_ms" in entry:
            times.setdefault(f"{parts[1]}-{parts[2]}", []).append(float(entry["duration_ms"]))
    return times


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


@dataclass
class CpuMeter:
    """CPU spent by the web workers, their PostgreSQL backends and this client during a phase."""

    server_pid: int
    database_url: str
    marks: dict[str, float] = field(default_factory=dict)

    def _backends(self) -> list[int]:
        from engine.dbconnect import make_engine

        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [int(p) for p in conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).scalars()]
        finally:
            engine.dispose()

    def read(self) -> tuple[float, float, float]:
        return (_cpu_seconds([self.server_pid, *_children(self.server_pid)]), _cpu_seconds(self._backends()),
                time.process_time())


REDIS_SERVER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_CLAIM = "weijian:cluster:claimed"  # the key bench.cluster claims a db number with: the two never share one


def claim_redis_db() -> str | None:
    """An empty Redis db of our own (4..15), as production's web has (rate limits shared by every
    worker); None when Redis does not answer (each worker then counts in memory)."""
    import redis

    for number in range(15, 3, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}", socket_connect_timeout=2)
        try:
            if client.dbsize() == 0 and client.set(REDIS_CLAIM, "bench.complaints", nx=True, ex=3600):
                return f"{REDIS_SERVER}/{number}"
        except redis.RedisError:
            return None
        finally:
            client.close()
    return None


def release_redis_db(url: str | None) -> None:
    if url is None:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()  # ours alone: claimed empty with the marker
    finally:
        client.close()


@dataclass
class Run:
    """One load: ``clients`` at once, each filing then tracking; what they saw and what it cost."""

    label: str  # one | many: the request ids name it, so the server's log lines are told apart
    clients: list[PortalClient]
    marks: list[tuple[float, float, float]] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)

    def go(self, meter: CpuMeter, profile_dir: Path | None, pid: int) -> None:
        barrier = self.clients[0].barrier
        for client in self.clients:
            client.prepare()
            client.start()
        spy: subprocess.Popen[bytes] | None = None
        for edge in ("submit", "track", None):  # the clients wait for each other between phases
            barrier.wait(timeout=600)
            self.marks.append(meter.read())
            self.stamps.append(time.perf_counter())
            spy = _py_spy(spy, profile_dir if self.label == "many" else None, edge, pid)
        for client in self.clients:
            client.join(60)
        errors = [c.error for c in self.clients if c.error is not None]
        if errors:
            raise RuntimeError(f"client failed: {errors[0]!r}")

    def summary(self, prefix: str, on_server: dict[str, list[float]]) -> dict[str, Any]:
        samples = [s for c in self.clients for s in c.samples]
        out: dict[str, Any] = {}
        for index, kind in enumerate(("submit", "track")):
            values = [s.ms for s in samples if s.kind == kind]
            seconds = self.stamps[index + 1] - self.stamps[index]
            app, db, client = (self.marks[index + 1][n] - self.marks[index][n] for n in range(3))
            mine = on_server.get(f"{self.label}-{kind}", [])
            out.update({f"{prefix}{kind}_count": len(values), f"{prefix}{kind}_p50_ms": _pct(values, 0.5),
                        f"{prefix}{kind}_p95_ms": _pct(values, 0.95), f"{prefix}{kind}_max_ms": round(max(values), 1),
                        f"{prefix}{kind}_errors": sum(s.outcome == "error" for s in samples if s.kind == kind),
                        f"{prefix}{kind}_per_s": round(len(values) / seconds, 1),
                        f"{prefix}server.{kind}_p50_ms": _pct(mine, 0.5),
                        f"{prefix}server.{kind}_p95_ms": _pct(mine, 0.95),
                        f"{prefix}cpu.{kind}_app_ms": round(app * 1000 / len(values), 2),
                        f"{prefix}cpu.{kind}_db_ms": round(db * 1000 / len(values), 2),
                        f"{prefix}cpu.{kind}_client_ms": round(client * 1000 / len(values), 2)})
        out[f"{prefix}submit_refused"] = sum(s.outcome == "refused" for s in samples if s.kind == "submit")
        return out


def portal_part(admin_url: str, count: int, clients: int, submits: int, tracks: int, reuse: bool, keep: bool,
                workdir: Path, profile_dir: Path | None = None, use_redis: bool = True) -> dict[str, Any]:
    keys = os.environ.get("WEIJIAN_COMPLAINT_KEYS") or _fernet_key()
    url, tracked, fill_s, reused = prepare_postgres(admin_url, count, reuse, keys)
    place = directory()
    redis_url = claim_redis_db() if use_redis else None
    extra = {"WEIJIAN_COMPLAINT_KEYS": keys, "WEIJIAN_LOG_LEVEL": "INFO"}
    if redis_url:
        extra["REDIS_URL"] = redis_url
    try:
        server = Server.start(server_env(url, workdir / "uploads", **extra), production=True,
                              log_path=workdir / "portal.log")
    except BaseException:
        release_redis_db(redis_url)
        raise
    meter = CpuMeter(server.process.pid, url)
    alone = (SINGLE_SUBMITS, SINGLE_TRACKS)
    try:
        warm = Http(server.port)
        token = csrf_token(warm, "/public/complaints/new")
        raw = [warm.get("/public/challenge").json() for _ in range(clients * (submits + 1) + alone[0])]
        warm.close()
        solved = _solve_many(raw)
        _warm_up(server.port, clients, token, warm.cookies, solved[:clients], place, tracked)
        pool = iter(solved[clients:])
        one = Run("one", [PortalClient(0, "one", server.port, place, tracked, *alone,
                                       [next(pool) for _ in range(alone[0])], threading.Barrier(2))])
        one.go(meter, profile_dir, server.process.pid)
        barrier = threading.Barrier(clients + 1)
        many = Run("many", [PortalClient(n, "many", server.port, place, tracked, submits, tracks,
                                         [next(pool) for _ in range(submits)], barrier) for n in range(clients)])
        many.go(meter, profile_dir, server.process.pid)
    finally:
        server.stop()
        release_redis_db(redis_url)
        if not keep:
            _drop(admin_url)
    on_server = server_times(server.log_path)
    return {"portal.complaints_stored": count, "portal.fill_s": round(fill_s, 1), "portal.reused_database": reused,
            "portal.clients": clients, "portal.web_workers": _workers_of(server.log_path),
            "portal.limits_storage": "redis" if redis_url else "memory (per worker)",
            **many.summary("portal.", on_server), **one.summary("portal.alone.", on_server)}


def _py_spy(running: subprocess.Popen[bytes] | None, folder: Path | None, phase: str | None,
            pid: int) -> subprocess.Popen[bytes] | None:
    """Stop the profile of the last phase and start one of ``phase`` (py-spy, raw collapsed stacks)."""
    if running is not None:
        running.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        running.wait(60)
    if folder is None or phase is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    command = [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
               "--subprocesses", "--nonblocking", "--gil", "-r", "250", "-f", "raw", "-o", str(folder / f"{phase}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _warm_up(port: int, clients: int, token: str, cookies: dict[str, str], challenges: list[str], place: Directory,
             tracked: list[Tracked]) -> None:
    """Every worker warm (imports, parsed specs, connections): a filing and a few trackings from
    each client at once, not measured."""

    def one(seed: int) -> None:
        client = Http(port, cookies=dict(cookies))
        rng = random.Random(seed)
        client.post_form("/public/complaints/new", submission(rng, token, challenges[seed], place), multipart=True)
        for item in rng.sample(tracked, 5):
            client.post_form("/public/complaints/track",
                             {"csrf_token": token, "tracking_no": item.tracking_no, "code": item.code})
        client.close()

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def _workers_of(log_path: Path) -> int:
    return sum(1 for line in log_path.read_text(errors="replace").splitlines() if "Booting worker" in line)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _drop(admin_url: str) -> None:
    from engine.dbconnect import make_engine

    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--case-runs", type=int, default=5)
    parser.add_argument("--complaints", type=int, default=COMPLAINTS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--submits", type=int, default=15, help="filings per client")
    parser.add_argument("--tracks", type=int, default=60, help="trackings per client")
    parser.add_argument("--skip-case", action="store_true")
    parser.add_argument("--skip-portal", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep a database filled by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help=f"do not drop {PG_DB} afterwards")
    parser.add_argument("--no-redis", action="store_true",
                        help="rate limits in each worker's memory instead of a Redis db (as without REDIS_URL)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="profile the web workers in each 20-client phase with py-spy --gil (installed "
                             "separately): DIR/submit.txt and DIR/track.txt, collapsed stacks")
    args = parser.parse_args(argv)
    base = os.environ.get("BENCH_POSTGRES_ADMIN_URL") or PG_ADMIN_DEFAULT
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    started = time.perf_counter()
    result: dict[str, Any] = {"target.portal_p95_ms": TARGET_P95_MS, "machine.cpus": os.cpu_count(),
                              "machine.load_before": round(os.getloadavg()[0], 1)}
    workdir = Path(tempfile.mkdtemp(prefix="weijian-bench-complaints-"))
    try:
        if not args.skip_case:
            result.update(case_part(args.case_runs, workdir))
        if not args.skip_portal:
            result.update(portal_part(base, args.complaints, args.clients, args.submits, args.tracks,
                                      args.reuse, args.keep or args.reuse, workdir, args.py_spy, not args.no_redis))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_s"] = round(time.perf_counter() - started, 1)
    result["machine.load_after"] = round(os.getloadavg()[0], 1)  # other work on the machine skews every number
    json.dump(result, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
