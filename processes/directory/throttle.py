"""Slowing down guessing of secrets (passwords, signing passphrases) without a lock anyone can pull.

OWASP ASVS 2.2: anti-automation that works against brute force and does not let an attacker
lock the owner out. So:

* Attempts are counted per key, and a key names what is guessed and from where
  (``login:<name>|<address>``), plus a wider key per account with a larger budget, never
  whether an account exists: an unknown name is throttled exactly like a real one.
* The first ``free`` attempts of a key are checked at once; after that each attempt must wait
  a back-off that doubles (``base_seconds`` · 2^(n - free), at most ``max_seconds``). Attempts
  refused while blocked do not count, so waiting always helps.
* ``reserve`` counts an attempt *before* the secret is checked, in one statement that holds the
  key's row lock until the caller commits (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), so
  forty parallel guesses cannot all slip through the free budget. The caller commits the
  reservation before the slow check, and calls ``clear`` after a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db import utcnow

from .models import Throttle


@dataclass(frozen=True)
class Policy:
    """How many attempts are free, then how the wait grows. [practice] OWASP ASVS 2.2."""

    free: int = 5
    base_seconds: int = 30
    max_seconds: int = 15 * 60

    def wait(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th attempt (none within the free budget)."""
        if attempts < self.free:
            return timedelta(0)
        return timedelta(seconds=min(self.max_seconds, self.base_seconds * 2 ** min(attempts - self.free, 20)))


@dataclass(frozen=True)
class Refused:
    """Too many attempts for one of the keys: try again at ``retry_at``."""

    key: str
    retry_at: datetime


def reserve(session: Session, keys: dict[str, Policy], now: datetime | None = None) -> Refused | None:
    """Count one attempt on every key, or refuse when any key is still waiting out its back-off.

    Nothing is counted on a refusal. The caller commits either way, then checks the secret.
    """
    now = now or utcnow()
    for key in sorted(keys):  # one order everywhere: two keys never lock each other
        blocked = session.scalar(select(Throttle.blocked_until).where(Throttle.key == key))
        if blocked is not None and blocked > now:
            return Refused(key, blocked)
    for key in sorted(keys):
        attempts = _count(session, key, now)
        if attempts is None:  # blocked by a parallel attempt between the look and the count
            blocked = session.scalar(select(Throttle.blocked_until).where(Throttle.key == key))
            return Refused(key, blocked or now)
        wait = keys[key].wait(attempts)
        if wait:
            session.query(Throttle).filter(Throttle.key == key).update(
                {Throttle.blocked_until: now + wait}, synchronize_session=False)
    return None


def _count(session: Session, key: str, now: datetime) -> int | None:
    """attempts + 1 for ``key`` unless it is blocked at ``now``; the new count, or None."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(Throttle).values(key=key, attempts=1, blocked_until=None, updated_at=now)
    statement = upsert.on_conflict_do_update(
        index_elements=[Throttle.key],
        set_={"attempts": Throttle.attempts + 1, "updated_at": now},
        where=Throttle.blocked_until.is_(None) | (Throttle.blocked_until <= now),
    ).returning(Throttle.attempts)
    count = session.execute(statement).scalar_one_or_none()
    return int(count) if count is not None else None


def clear(session: Session, *keys: str) -> None:
    """The secret was right: forget the attempts on these keys."""
    session.execute(delete(Throttle).where(Throttle.key.in_(keys)))


def clear_prefix(session: Session, prefix: str) -> None:
    """An administrator lets someone try again at once (every source of one account)."""
    session.execute(delete(Throttle).where(Throttle.key.startswith(prefix, autoescape=True)))


def forget_older_than(session: Session, age: timedelta, now: datetime | None = None) -> int:
    """Drop keys idle for longer than ``age`` (housekeeping; they would only allow more)."""
    cutoff = (now or utcnow()) - age
    idle = (Throttle.updated_at < cutoff) & (Throttle.blocked_until.is_(None) | (Throttle.blocked_until < cutoff))
    result = session.execute(delete(Throttle).where(idle))
    return int(getattr(result, "rowcount", 0) or 0)
