"""How the web app is served: gunicorn in production, Werkzeug's development server otherwise.

``weijian serve --production`` runs gunicorn in-process (``BaseApplication``), so the command,
its options and the environment are the whole configuration; there is no separate gunicorn
config file to drift. Workers are forked processes, each building its own app after the fork
(no ``preload_app``): database pools and Redis clients are never shared across a fork.

Neither server announces itself with a version: Werkzeug's handler drops the ``Server``
header, and gunicorn's response skips it (gunicorn has no setting for that, so the one line
that writes it is filtered here and a socket-level test keeps us honest).

Prometheus counters and histograms live in each worker; in production they are written to a
shared directory (``prometheus_client``'s multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``) and
summed at scrape time, and a dead worker's files are marked in ``child_exit``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from engine.settings import Settings
from integrations.logs import production_mode

DEFAULT_SECRET = Settings.secret_key
MAX_DEFAULT_WORKERS = 8
UNSAFE_KEY_HELP = (
    "SECRET_KEY is not set (or is the development default), and Weijian runs in production mode.\n"
    "Generate one and set it in the environment of every web process (the same value everywhere):\n"
    "    export SECRET_KEY=$(python3 -c \"import secrets; print(secrets.token_hex(32))\")\n"
    "Keep it out of version control; changing it signs everyone out."
)


class ProductionConfigError(RuntimeError):
    """The configuration is unsafe for production; the message says how to fix it."""


def check_production_settings(settings: Settings) -> None:
    """Refuse the development secret outside development (sessions could be forged with it), and
    whatever a process package refuses (the complaints' development encryption key)."""
    from processes.registry import discover, packages

    if not settings.secret_key or settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 16:
        raise ProductionConfigError(UNSAFE_KEY_HELP)
    discover()
    problems = [text for p in packages() if p.production_problems for text in p.production_problems()]
    if problems:
        raise ProductionConfigError("\n".join(problems))


def default_workers() -> int:
    """gunicorn's rule of thumb, 2 × cores + 1, capped: each worker holds the whole engine."""
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def configured_workers() -> int:
    raw = os.environ.get("WEIJIAN_WEB_WORKERS")
    return int(raw) if raw else default_workers()


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the ``Server: Werkzeug/x Python/y`` header."""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "server":
            return
        super().send_header(keyword, value)


def _drop_gunicorn_server_header() -> None:
    """gunicorn writes ``Server: gunicorn`` in ``Response.default_headers``; leave it out."""
    from gunicorn.http import wsgi

    original: Callable[[Any], list[str]] = wsgi.Response.default_headers
    if getattr(original, "_weijian", False):
        return

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers._weijian = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def prepare_metrics_dir() -> str | None:
    """Set up the multiprocess metrics directory before anything imports ``prometheus_client``.

    Returns the directory to remove at exit when we made it (None when the operator chose one,
    which is emptied at start as the client's documentation requires).
    """
    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if chosen:
        os.makedirs(chosen, exist_ok=True)
        for name in os.listdir(chosen):
            if name.endswith(".db"):
                os.unlink(os.path.join(chosen, name))
        return None
    made = tempfile.mkdtemp(prefix="weijian-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


def run_gunicorn(host: str, port: int, workers: int, threads: int = 1, timeout: int = 60) -> None:
    """Serve ``web.app:create_app()`` with gunicorn until SIGTERM/SIGINT (graceful)."""
    from gunicorn.app.base import BaseApplication

    class WeijianGunicorn(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads, "timeout": timeout,
                "graceful_timeout": 30, "worker_class": "gthread" if threads > 1 else "sync",
                "accesslog": None, "errorlog": "-", "proc_name": "weijian-web",
                # gunicorn ≥ 24 opens a control socket under ~/.gunicorn by default: one path for
                # every server of the user, so two servers on a machine would fight over it.
                "control_socket_disable": True,
                "child_exit": _child_exit,
                "forwarded_allow_ips": os.environ.get("WEIJIAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
                "logconfig_dict": _gunicorn_logconfig(),
                "logger_class": _logger_without_access_log(),
            }
            for key, value in options.items():
                if key in self.cfg.settings:  # control_socket_disable is unknown to older releases
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from web.app import create_app

            return create_app(Settings.from_env())

    _drop_gunicorn_server_header()
    WeijianGunicorn().run()


def _logger_without_access_log() -> type:
    """gunicorn's logger with its access log off for good.

    Why: with a logging configuration (ours, for the JSON lines) gunicorn counts its access log as
    enabled and builds every request's line (time, headers, atoms) before the logger drops it,
    about 3 % of a small request. The app logs each request itself (``web.operations``)."""
    from gunicorn.glogging import Logger

    class WeijianGunicornLogger(Logger):
        def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
            return None

    return WeijianGunicornLogger


def _gunicorn_logconfig() -> dict[str, Any]:
    """Logging of the master and (inherited through fork) the workers, applied by gunicorn.

    One root handler on stderr, JSON in production mode, with the request id; gunicorn's own
    messages (worker boot, signals) propagate to it. Its access log stays off: the app logs
    each request itself, with the request id and duration (``web.operations``).
    """
    formatter = ({"()": "integrations.logs.JsonFormatter"} if production_mode()
                 else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"weijian": formatter},
        "filters": {"request_id": {"()": "integrations.logs.RequestIdFilter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "weijian", "filters": ["request_id"]}},
        "root": {"level": os.environ.get("WEIJIAN_LOG_LEVEL") or "INFO", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
                    "apscheduler": {"level": "WARNING"},
                    "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False}},
    }


def start_scheduler_process() -> subprocess.Popen[bytes]:
    """The scheduler as a child process of ``serve --production`` (never inside a web worker)."""
    from integrations.scheduler import PARENT_PID_ENV

    command = [sys.executable, "-c", "from web.cli import main; main()", "scheduler"]
    return subprocess.Popen(command, env={**os.environ, PARENT_PID_ENV: str(os.getpid())})  # noqa: S603 - our CLI


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM (the scheduler releases its lock), then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def remove_dir(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)


def serve_development(host: str, port: int) -> None:
    """``weijian serve`` / ``make run``: Werkzeug with the scheduler thread (one process).

    With ``WEIJIAN_ENV=production`` set it still refuses the development secret: production
    mode is about the configuration, not the server.
    """
    import click

    from engine.tuning import settle_heap
    from integrations.logs import configure_logging
    from integrations.scheduler import start_scheduler
    from web.app import create_app

    settings = Settings.from_env()
    _refuse_unsafe(settings)
    configure_logging()
    app = create_app(settings)
    runner = start_scheduler(settings) if settings.scheduler_enabled else None
    settle_heap()
    click.echo(f"Weijian on http://{host}:{port}")
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, request_handler=QuietRequestHandler)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if runner is not None:
            runner.stop()  # releases the leader lock at once


def serve_production(host: str, port: int, workers: int | None) -> None:
    """``weijian serve --production``: gunicorn, plus the scheduler as a child process."""
    import click

    os.environ["WEIJIAN_ENV"] = "production"  # inherited by workers and the scheduler process
    settings = Settings.from_env()
    _refuse_unsafe(settings)
    metrics_dir = prepare_metrics_dir()  # before any import of prometheus_client
    workers = workers or configured_workers()
    threads = int(os.environ.get("WEIJIAN_WEB_THREADS") or 1)
    timeout = int(os.environ.get("WEIJIAN_WEB_TIMEOUT") or 60)
    scheduler = start_scheduler_process() if settings.scheduler_enabled else None
    click.echo(f"Weijian (production, {workers} workers) on http://{host}:{port}", err=True)
    try:
        run_gunicorn(host, port, workers, threads, timeout)
    finally:
        if scheduler is not None:
            stop_process(scheduler)
        remove_dir(metrics_dir)


def _refuse_unsafe(settings: Settings) -> None:
    import click

    if not production_mode():
        return
    try:
        check_production_settings(settings)
    except ProductionConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
