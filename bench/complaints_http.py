"""bench.complaints: HTTP on loopback (a small keep-alive client, CSRF and proof-of-work for the
public forms, the server process the bench starts and stops)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
