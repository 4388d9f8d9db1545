"""An administrator's edits of a process: a shared draft validated on every save, then a deploy.

The draft holds only the files an administrator changed; the rest of the bundle is the version
the draft started from, so a penalty DMN table edited on its own page and a diagram edited in
the modeler end up in one bundle. Several administrators may open the same draft: each save
and each visit is noted in ``editors`` so the page can say who else is working on it. A
deploy validates the whole bundle again and refuses while any error remains.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .actor import Actor
from .definitions import deploy, latest_definition
from .errors import EngineError, InvalidData
from .models import ProcessDefinition, ProcessDraft
from .validation import Context, Problem, blocking, validate_bundle

EDITOR_SEEN = timedelta(minutes=30)  # an editor seen within this is shown as working on the draft
MAX_REASON = 500


class DeployRefused(EngineError):
    """The bundle has errors: nothing was deployed. ``problems`` lists each on its element."""

    code = "deploy_refused"

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(f"{len(problems)} problem(s), first: {first.message}",
                         problems=[p.as_dict() for p in problems])
        self.problems = problems


def version_files(definition: ProcessDefinition) -> dict[str, bytes]:
    return {n: t.encode("utf-8") for n, t in definition.sources.items()}


def get_draft(session: Session, process_key: str) -> ProcessDraft | None:
    return session.scalar(select(ProcessDraft).where(ProcessDraft.process_key == process_key))


def draft_bundle(session: Session, draft: ProcessDraft) -> dict[str, bytes]:
    base = session.get(ProcessDefinition, draft.base_definition_id)
    files = version_files(base) if base is not None else {}
    files.update({n: t.encode("utf-8") for n, t in draft.files.items()})
    return files


def _checked_file(files: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, text in files.items():
        if name not in base and not name.endswith((".bpmn", ".dmn")):
            raise InvalidData(f"'{name}' is neither a .bpmn nor a .dmn file")
        if "/" in name or "\\" in name or name.startswith("."):
            raise InvalidData(f"'{name}' is not a plain file name")
        if not isinstance(text, str) or not text.strip():
            raise InvalidData(f"'{name}' is empty")
        checked[name] = text
    return checked


def save_draft(session: Session, actor: Actor, process_key: str, files: Mapping[str, str],
               context: Context) -> ProcessDraft:
    """Store the changed files of ``process_key``'s draft and validate the whole bundle."""
    base = latest_definition(session, process_key)
    draft = get_draft(session, process_key)
    now = clock.now()
    if draft is None:
        draft = ProcessDraft(process_key=process_key, base_definition_id=base.id, files={}, problems=[],
                             editors={}, updated_by=actor.user_id, updated_at=now)
        session.add(draft)
    changed = _checked_file(files, base.sources)
    merged = dict(draft.files)
    for name, text in changed.items():
        if base.sources.get(name) == text:
            merged.pop(name, None)
        else:
            merged[name] = text
    draft.files = merged
    problems = validate_bundle(draft_bundle(session, draft), context)
    draft.problems = [p.as_dict() for p in problems]
    draft.updated_by, draft.updated_at = actor.user_id, now
    draft.editors = {**_recent(draft.editors), actor.user_id: now.isoformat()}
    session.flush()
    return draft


def note_editor(session: Session, actor: Actor, process_key: str) -> list[str]:
    """Record that ``actor`` opened the draft; return the other administrators working on it."""
    draft = get_draft(session, process_key)
    if draft is None:
        return []
    others = sorted(u for u in _recent(draft.editors) if u != actor.user_id)
    draft.editors = {**_recent(draft.editors), actor.user_id: clock.now().isoformat()}
    return others


def _recent(editors: Mapping[str, str]) -> dict[str, str]:
    cutoff = clock.now() - EDITOR_SEEN
    kept: dict[str, str] = {}
    for user, seen in editors.items():
        try:
            when = datetime.fromisoformat(seen)
        except ValueError:
            continue
        if (when if when.tzinfo else when.replace(tzinfo=UTC)) >= cutoff:
            kept[user] = seen
    return kept


def discard_draft(session: Session, actor: Actor, process_key: str) -> None:
    draft = get_draft(session, process_key)
    if draft is not None:
        session.delete(draft)
        audit.append(session, actor.user_id, "draft_discarded", data={"process_key": process_key,
                                                                      "files": sorted(draft.files)})


def deploy_files(session: Session, actor: Actor, files: Mapping[str, bytes], reason: str, context: Context,
                 rollback: bool = False) -> list[ProcessDefinition]:
    """Validate and deploy a bundle as an administrator (a reason is required, errors refuse)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData("a reason is required to deploy")
    if len(reason) > MAX_REASON:
        raise InvalidData(f"the reason is longer than {MAX_REASON} characters")
    problems = blocking(validate_bundle(files, context))
    if problems:
        raise DeployRefused(problems)
    return deploy(session, files, actor, reason=reason, rollback=rollback)


def deploy_draft(session: Session, actor: Actor, process_key: str, reason: str,
                 context: Context) -> list[ProcessDefinition]:
    """Deploy the draft of ``process_key``; the draft is gone once it is a version."""
    draft = get_draft(session, process_key)
    if draft is None:
        raise InvalidData(f"there is no draft of '{process_key}' to deploy")
    deployed = deploy_files(session, actor, draft_bundle(session, draft), reason, context)
    session.delete(draft)
    return deployed


def rollback_to(session: Session, actor: Actor, definition_id: int, reason: str,
                context: Context) -> list[ProcessDefinition]:
    """Deploy an older version's files again, as a new version."""
    old = session.get(ProcessDefinition, definition_id)
    if old is None:
        raise InvalidData(f"process definition {definition_id} does not exist")
    return deploy_files(session, actor, version_files(old), reason, context, rollback=True)


def summary_of(definition: ProcessDefinition) -> dict[str, Any]:
    """What a version page shows of a deployment (diff, reason, rollback)."""
    summary = definition.summary or {}
    return {"diff": summary.get("diff"), "reason": summary.get("reason"), "rollback_to": summary.get("rollback_to"),
            "warnings": summary.get("warnings", [])}
