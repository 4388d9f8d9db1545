"""The public site's own guards: no sign-in, per-address limits (memory, or Redis shared by every
worker), and a proof-of-work challenge that is good once."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

from altcha import solve_challenge_v1
from flask import Flask

from engine.settings import Settings


def _solved(client) -> str:  # type: ignore[no-untyped-def]
    challenge = client.get("/public/challenge").json
    solution = solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                  challenge["maxNumber"])
    assert solution is not None
    return base64.b64encode(json.dumps({"algorithm": challenge["algorithm"], "challenge": challenge["challenge"],
                                        "number": solution.number, "salt": challenge["salt"],
                                        "signature": challenge["signature"]}).encode()).decode()


def test_the_public_home_needs_no_sign_in(app: Flask) -> None:
    page = app.test_client().get("/public/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "卫生监督公共服务" in text and "退出" not in text  # nothing of the staff layout


def test_a_challenge_is_solved_once(app: Flask) -> None:
    from web.public import check_challenge

    client = app.test_client()
    payload = _solved(client)
    with app.test_request_context("/public/"):
        assert check_challenge(payload)
        assert not check_challenge(payload)  # replayed
        tampered = json.loads(base64.b64decode(payload))
        tampered["number"] += 1
        assert not check_challenge(base64.b64encode(json.dumps(tampered).encode()).decode())
        assert not check_challenge("not base64 at all")
        assert not check_challenge(None)


def test_pages_beyond_the_limit_answer_429_with_a_wait(web_db_url: str, tmp_path: Path) -> None:
    from web.app import create_app

    app = create_app(Settings(database_url=web_db_url), {"TESTING": True, "UPLOAD_DIR": str(tmp_path / "u"),
                                                        "PUBLIC_LIMITS": {"challenge": "3/minute"}})
    client = app.test_client()
    assert [client.get("/public/challenge").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/public/challenge")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    page = client.get("/public/challenge", headers={"Accept": "text/html"})
    assert page.status_code == 429 and "请求过于频繁" in page.get_data(as_text=True)
    other = app.test_client().get("/public/challenge", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another address has its own budget


def test_redis_counts_for_every_worker(redis_url: str, web_db_url: str, tmp_path: Path) -> None:
    from web.app import create_app

    settings = Settings(database_url=web_db_url, redis_url=redis_url)
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    workers = [create_app(settings, {"TESTING": True, "UPLOAD_DIR": str(tmp_path / "u"),
                                     "PUBLIC_LIMITS": {"challenge": "4/minute"}}) for _ in range(2)]
    answers = [workers[n % 2].test_client().get("/public/challenge", environ_base={"REMOTE_ADDR": address}).status_code
               for n in range(6)]
    assert answers == [200, 200, 200, 200, 429, 429]


def test_the_in_memory_limits_decide_as_the_library_s_own_storage_and_still_free_memory() -> None:
    """The embedded default's storage drops expired entries once a second instead of after every
    hit (web.public.PeriodicExpiryMemoryStorage); the same hits get the same answers from the
    library's own MemoryStorage, and the entries still go once their window has passed."""
    import time

    from limits import parse
    from limits.storage import MemoryStorage, storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    from web.public import PeriodicExpiryMemoryStorage

    ours = storage_from_string("weijian-memory://")
    assert isinstance(ours, PeriodicExpiryMemoryStorage)
    rate = parse("3/second")
    answers = []
    for storage in (MemoryStorage(), ours):
        limiter = MovingWindowRateLimiter(storage)
        first = [limiter.hit(rate, "page", "10.0.0.1") for _ in range(4)]
        other = limiter.hit(rate, "page", "10.0.0.2")
        time.sleep(1.05)  # the window has moved on
        later = [limiter.hit(rate, "page", "10.0.0.1") for _ in range(4)]
        answers.append((first, other, later))
    assert answers[0] == answers[1] == ([True, True, True, False], True, [True, True, True, False])
    deadline = time.monotonic() + 5
    while any(ours.events.values()) and time.monotonic() < deadline:  # entries expire within a second or so
        time.sleep(0.2)
    assert not any(ours.events.values())
