"""Settings read from environment variables, documented in the README's configuration table.

Plain dataclass so the engine, the Celery worker, the scheduler and the web app all read the
same values without importing Flask.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = PROJECT_ROOT / "instance" / "weijian.db"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE}")
    redis_url: str | None = None
    secret_key: str = "dev-only-change-me"  # noqa: S105 - development default, README says to set it
    xml_max_bytes: int = 5 * 1024 * 1024
    job_max_retries: int = 5
    job_retry_base_seconds: int = 10
    scheduler_enabled: bool = True
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}",
            redis_url=os.environ.get("REDIS_URL") or None,
            secret_key=os.environ.get("SECRET_KEY") or cls.secret_key,
            xml_max_bytes=_env_int("WEIJIAN_XML_MAX_BYTES", cls.xml_max_bytes),
            job_max_retries=_env_int("WEIJIAN_JOB_MAX_RETRIES", cls.job_max_retries),
            job_retry_base_seconds=_env_int("WEIJIAN_JOB_RETRY_BASE_SECONDS", cls.job_retry_base_seconds),
            scheduler_enabled=os.environ.get("WEIJIAN_SCHEDULER", "1") not in ("0", "false", "no"),
            timezone=os.environ.get("WEIJIAN_TIMEZONE") or cls.timezone,
        )
