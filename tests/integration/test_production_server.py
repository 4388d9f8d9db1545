"""``weijian serve`` over real sockets: gunicorn in production mode, Werkzeug in development.

Each test starts the real command as a child process on a free 127.0.0.1 port and talks
HTTP to it with ``http.client`` (raw headers, no client-side rewriting), with bounded waits.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

CLI = [sys.executable, "-c", "from web.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def body(self, path: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path)
        text = connection.getresponse().read().decode()
        connection.close()
        return text

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("SECRET_KEY", "WEIJIAN_ENV", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR",
                          "WEIJIAN_SECURE_COOKIES", "WEIJIAN_METRICS_TOKEN")}
    env.update({"DATABASE_URL": db_url, "WEIJIAN_UPLOAD_DIR": str(tmp_path / "uploads"), "WEIJIAN_SCHEDULER": "0",
                "WEIJIAN_COMPLAINT_KEYS": Fernet.generate_key().decode(),
                "WEIJIAN_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock")})
    env.update(extra)
    return env


def _start(args: list[str], env: dict[str, str], tmp_path: Path, name: str) -> Server:
    port = _free_port()
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*CLI, "serve", "--port", str(port), *args], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert process.poll() is None, server.output()
        try:
            if server.get("/healthz").status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"server did not answer /healthz within 40 s: {server.output()}")


def _stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            return server.process.wait(30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)
            pytest.fail("server did not stop within 30 s of SIGTERM")
    return server.process.returncode


@pytest.fixture
def production(db_url: str, tmp_path: Path) -> Iterator[Server]:
    env = _env(db_url, tmp_path, SECRET_KEY=secrets.token_hex(32), WEIJIAN_SCHEDULER="1",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    server = _start(["--production", "--workers", "2"], env, tmp_path, "gunicorn")
    try:
        yield server
    finally:
        assert _stop(server) == 0, server.output()


def _metric(text: str, name: str, labels: str = "") -> float | None:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_gunicorn_serves_without_a_server_header_with_request_ids_and_hsts(production: Server) -> None:
    response = production.get("/login", {"X-Request-ID": "trace-abc-123"})
    assert response.status == 200
    assert response.getheader("Server") is None, response.getheaders()
    assert response.getheader("X-Request-ID") == "trace-abc-123"
    assert response.getheader("Strict-Transport-Security", "").startswith("max-age=")
    assert "Secure" in (response.getheader("Set-Cookie") or "")  # production mode defaults to HTTPS cookies
    generated = production.get("/healthz", {"X-Request-ID": "bad id\twith spaces"}).getheader("X-Request-ID")
    assert generated and re.fullmatch(r"[0-9a-f]{32}", generated)
    assert production.get("/no-such-page").getheader("Server") is None
    assert json.loads(production.body("/readyz"))["status"] == "ready"

    # One JSON object per line, the request's id on its line.
    deadline = time.monotonic() + 10
    entries: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        entries = [json.loads(line) for line in production.output().splitlines() if line.startswith("{")]
        if any(e.get("request_id") == "trace-abc-123" for e in entries):
            break
        time.sleep(0.1)
    line = next(e for e in entries if e.get("request_id") == "trace-abc-123")
    assert line["path"] == "/login" and line["status"] == 200 and line["logger"] == "weijian.request"
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in str(e["message"]) for e in entries)
    # each request is one line, the app's own (gunicorn's access log stays off)
    assert [e for e in entries if e.get("request_id") == "trace-abc-123"] == [line]
    assert not any(e["logger"] == "gunicorn.access" for e in entries)


def test_gunicorn_workers_share_one_view_of_the_metrics(production: Server, tmp_path: Path) -> None:
    # Hold one sync worker on a half-sent request, so the other one must serve the next 20.
    held = socket.create_connection(("127.0.0.1", production.port), timeout=10)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.5)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _i: production.get("/healthz").status, range(20)))
    assert statuses == [200] * 20
    held.sendall(b"\r\n")  # now the first worker serves its request too
    assert held.recv(100).startswith(b"HTTP/1.1 200")
    held.close()
    files = list((tmp_path / "metrics").glob("histogram_*.db"))
    assert len(files) == 2, f"both workers should have served: {files}"
    for _ in range(4):  # whichever worker answers the scrape, it reports every worker's requests
        text = production.body("/metrics")
        labels = '{endpoint="operations.healthz",method="GET",status="200"}'
        assert _metric(text, "weijian_http_request_duration_seconds_count", labels) == 22.0  # + the start probe
    for name in ("weijian_outbox_pending_jobs", "weijian_open_incidents", "weijian_stalled_instances",
                 "weijian_timer_lag_seconds"):
        assert _metric(text, name) == 0.0, name
    deadline = time.monotonic() + 20  # the scheduler child process takes the (file) lock
    while _metric(production.body("/metrics"), "weijian_scheduler_leader") != 1.0:
        assert time.monotonic() < deadline, production.output()
        time.sleep(0.2)


def test_development_server_sends_no_server_header(db_url: str, tmp_path: Path) -> None:
    server = _start([], _env(db_url, tmp_path), tmp_path, "werkzeug")
    try:
        response = server.get("/login", {"X-Request-ID": "dev-1"})
        assert response.status == 200
        assert response.getheader("Server") is None, response.getheaders()
        assert response.getheader("X-Request-ID") == "dev-1"
        assert response.getheader("Strict-Transport-Security") is None
        assert "Secure" not in (response.getheader("Set-Cookie") or "")
    finally:
        assert _stop(server) == 0, server.output()


@pytest.mark.parametrize(("args", "env"), [(["--production"], {}), ([], {"WEIJIAN_ENV": "production"}),
                                           (["--production"], {"SECRET_KEY": "dev-only-change-me"})])
def test_production_mode_refuses_the_development_secret(db_url: str, tmp_path: Path, args: list[str],
                                                        env: dict[str, str]) -> None:
    result = subprocess.run([*CLI, "serve", "--port", str(_free_port()), *args], env=_env(db_url, tmp_path, **env),
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 1
    message = result.stderr.decode()
    assert "SECRET_KEY" in message and "secrets.token_hex(32)" in message


def test_the_cluster_procfile_runs_the_documented_processes() -> None:
    root = Path(__file__).resolve().parents[2]
    honcho = Path(sys.executable).with_name("honcho")
    checked = subprocess.run([str(honcho), "-f", str(root / "Procfile"), "check"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    commands = dict(line.split(": ", 1) for line in (root / "Procfile").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert commands["web"].startswith("weijian serve --production ")
    workers = [c for c in commands.values() if c.startswith("celery -A integrations.celery_app worker ")]
    assert len(workers) == 2 and len({w.split("--hostname ")[1].split()[0] for w in workers}) == 2
    assert [name for name, c in commands.items() if c == "weijian scheduler"] == ["scheduler1", "scheduler2"]


def test_the_scheduler_child_stops_when_the_server_is_killed(db_url: str, tmp_path: Path) -> None:
    import fcntl

    env = _env(db_url, tmp_path, SECRET_KEY=secrets.token_hex(32), WEIJIAN_SCHEDULER="1")
    server = _start(["--production", "--workers", "1"], env, tmp_path, "killed")
    lock = tmp_path / "scheduler.lock"
    try:
        deadline = time.monotonic() + 20
        while _metric(server.body("/metrics"), "weijian_scheduler_leader") != 1.0:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        server.process.kill()  # kill -9: no chance to stop its child
        server.process.wait(10)
        deadline = time.monotonic() + 15
        with lock.open("rb") as handle:
            while True:  # the orphaned scheduler notices and exits, releasing the lock
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, "the scheduler outlived its server"
                    time.sleep(0.2)
        assert "parent process" in server.output() and "gone, stopping" in server.output()
    finally:
        if server.process.poll() is None:
            server.process.kill()
