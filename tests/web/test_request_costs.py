"""What a request costs stays what it costs (issue 10, item 4: where the time goes), and every
shortcut taken for it answers exactly as the long way does.

* each shortcut against the code it replaced: the one-query unit subtree against the path-prefix
  walk, the narrow inbox's one-pass counts against one count per tab, the token and its user
  read together against the two reads, the kept form descriptions and parsed locales against
  fresh ones (cold and warm, the same answers);
* the statements each hot request issues are counted, so a change that adds a round trip to the
  inbox, a task page or a completion fails here instead of only under load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from babel import Locale
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine import Actor
from engine.db import utcnow
from engine.models import HumanTask
from forms import describe, registered_forms
from processes.directory.models import Unit, User
from processes.directory.services import create_unit, subtree_ids
from tests.web.conftest import COUNTY_A, PROVINCE, ready_task, start_lead
from tests.web.test_api import api_for  # noqa: F401 - the fixture

# -- the code each shortcut replaced --------------------------------------------------------


def subtree_walk(session: Session, unit_id: str) -> list[str]:
    """Before: the unit, then every unit whose path starts with its path (escaped LIKE)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return []
    return list(session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))))


def counts_per_tab(session: Session, actor: Actor, now: Any) -> dict[str, int]:
    """Before: one count per tab (the wide scope's halves are unchanged and not repeated here)."""
    from engine.tasks import visible_condition

    ready = HumanTask.status == "ready"
    counts = {scope: session.scalar(select(func.count()).select_from(HumanTask)
                                    .where(ready, visible_condition(actor, scope))) or 0
              for scope in ("assigned", "claimable", "delegated")}
    counts["overdue"] = session.scalar(select(func.count()).select_from(HumanTask).where(
        ready, visible_condition(actor, "all"), HumanTask.due_sort < now)) or 0
    counts["completed"] = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.completed_by == actor.user_id)) or 0
    return counts


# -- the shortcuts answer as the long way does ------------------------------------------------

def test_the_unit_subtree_in_one_query_is_the_path_prefix_walk(session: Session) -> None:
    # ids with LIKE's wildcard characters: "61_9" must not see "6109"'s units, nor "61%" all
    create_unit(session, "61_9", "下划线所", "city", "610300", PROVINCE)
    create_unit(session, "6109", "相似所", "city", "610900", PROVINCE)
    session.flush()
    create_unit(session, "6109A", "相似所下级", "county", "610901", "6109")
    create_unit(session, "61_9B", "下划线所下级", "county", "610302", "61_9")
    session.flush()
    for unit in [*session.scalars(select(Unit.id)), "no-such-unit", "61%", ""]:
        assert sorted(subtree_ids(session, unit)) == sorted(subtree_walk(session, unit)), unit
    assert sorted(subtree_ids(session, "61_9")) == ["61_9", "61_9B"]
    assert subtree_ids(session, "no-such-unit") == []


def test_the_narrow_inbox_counts_in_one_pass_are_the_per_tab_counts(session: Session) -> None:
    from engine import claim, complete_task, inbox_counts
    from tests.web.conftest import actor

    for n in range(4):
        start_lead(session, key=f"L-{n}")
    officer = actor(session, "officer.a")
    first = ready_task(session, start_lead(session, key="L-mine").id)
    claim(session, first.id, officer)
    second = ready_task(session, start_lead(session, key="L-done").id)
    complete_task(session, second.id, officer, {"amount": 1, "facts": "x"})
    session.commit()
    now = utcnow()
    people = [actor(session, u.id) for u in session.scalars(select(User))]
    people += [Actor.of("nobody", [], [COUNTY_A]), Actor.of("no.units", ["officer"], [])]
    for when in (now, now + timedelta(days=400), now - timedelta(days=400)):
        for who in people:
            assert inbox_counts(session, who, when) == counts_per_tab(session, who, when), (who.user_id, when)
    assert inbox_counts(session, officer, now)["assigned"] == 1


def test_a_token_and_its_user_read_together_refuse_what_the_two_reads_refused(app: Flask, api_for: Any,  # noqa: F811
                                                                              session: Session) -> None:
    from web.models import ApiToken

    api = api_for("officer.a")
    assert api.call("GET", "/me").status_code == 200
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == "officer.a"))
    assert row is not None
    user = session.get(User, "officer.a")
    assert user is not None
    user.active = False
    session.commit()
    assert api.call("GET", "/me").status_code == 401  # an inactive user's token
    user.active = True
    row.revoked_at = utcnow()
    session.commit()
    assert api.call("GET", "/me").status_code == 401  # a revoked token of an active user
    row.revoked_at, row.expires_at = None, utcnow() - timedelta(seconds=1)
    session.commit()
    assert api.call("GET", "/me").status_code == 401  # an expired one
    row.expires_at = None
    session.commit()
    assert api.call("GET", "/me").status_code == 200


def test_kept_form_descriptions_are_fresh_descriptions() -> None:
    from web.app import load_form_modules
    from web.casework import schema_specs

    load_form_modules()
    schema_specs.cache_clear()
    for form in registered_forms():
        cold = schema_specs(form.schema)
        assert cold == {s.name: s for s in describe(form.schema)}, form.key
        assert schema_specs(form.schema) is cold  # warm: the same object, not rebuilt
        for spec in cold.values():  # plain values: nothing that depends on the request's language
            assert type(spec.label) is str and all(type(label) is str for _v, label in spec.choices), form.key


def test_a_kept_locale_is_a_parsed_locale(app: Flask) -> None:
    from web.app import parsed_locale
    from web.config import LANGUAGES

    parsed_locale.cache_clear()
    for name in LANGUAGES:
        assert parsed_locale(name) == Locale.parse(name) and str(parsed_locale(name)) == str(Locale.parse(name))
        assert parsed_locale(name) is parsed_locale(name)


def test_pages_and_answers_are_the_same_with_every_kept_value_forgotten(app: Flask, api_for: Any,  # noqa: F811
                                                                        session: Session, as_user: Any) -> None:
    """Cold (every kept description and locale forgotten before each request) answers as warm."""
    from web.app import parsed_locale
    from web.casework import schema_specs

    instance = start_lead(session)
    task = ready_task(session, instance.id)
    api = api_for("officer.a")
    browser = as_user("officer.a")
    english = as_user("officer.a2")
    english.post("/lang", {"lang": "en", "next": "/inbox"})

    def answers() -> list[Any]:
        return [api.call("GET", f"/cases/{instance.id}").json, api.call("GET", f"/tasks/{task.id}").json,
                api.call("GET", "/inbox?tab=claimable").json,
                _strip_tokens(browser.get(f"/cases/{instance.id}").get_data(as_text=True)),
                _strip_tokens(english.get(f"/cases/{instance.id}").get_data(as_text=True)),
                _strip_tokens(english.get("/inbox?tab=claimable").get_data(as_text=True))]

    warm = answers()
    warm_again = answers()
    schema_specs.cache_clear()
    parsed_locale.cache_clear()
    cold = answers()
    assert cold == warm == warm_again
    assert "Inbox" in warm[-1] and "Inbox" not in warm[3]  # the English session saw English


def _strip_tokens(html: str) -> str:
    import re

    return re.sub(r'(csrf[-_]token"? (?:content|value)=")[^"]+"', r"\1-\"", html)


# -- statements per request -------------------------------------------------------------------

@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    from web.extensions import db

    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(("request_kind", "most"), [("inbox", 7), ("task", 5), ("case", 13), ("complete", 16)])
def test_statements_per_api_request(app: Flask, api_for: Any, session: Session,  # noqa: F811
                                    request_kind: str, most: int) -> None:
    """Bearer-token requests of one officer: the inbox, a task, a case and a completion read
    the token with its user (1), the unit subtree (1), then their own rows."""
    instance = start_lead(session)
    task = ready_task(session, instance.id)
    api = api_for("officer.a")
    call = {"inbox": ("GET", "/inbox?limit=20", None), "task": ("GET", f"/tasks/{task.id}", None),
            "case": ("GET", f"/cases/{instance.id}", None),
            "complete": ("POST", f"/tasks/{task.id}/complete",
                         {"data": {"source": "complaint", "summary": "投诉", "facts": "无证行医",
                                   "kinds": ["unlicensed"], "amount": 20000}})}[request_kind]
    api.call("GET", "/inbox")  # warm: the engine's spec and calendar caches are not what is counted
    with statements(app) as seen:
        answer = api.call(call[0], call[1], call[2])
    assert answer.status_code == 200, answer.json
    reads = [s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA"))]
    assert len(reads) <= most, "\n".join(reads)
