"""Process administration pages: each process's versions on the diagram with running cases and
incidents per activity, the modeler with a shared draft validated on every save, deploy with a
reason and a diff, rollback, upload and download.

Every change goes through ``engine.process_admin`` (validated, audited); this module only turns
requests into those calls and answers in the user's language.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from engine import EngineError, latest_definition
from engine.camunda_import import convert, deployable, looks_like_camunda
from engine.models import ProcessDefinition, ProcessInstance
from engine.process_admin import (
    DeployRefused,
    deploy_draft,
    deploy_files,
    discard_draft,
    get_draft,
    note_editor,
    rollback_to,
    save_draft,
)
from engine.validation import validate_bundle
from processes.validation_context import validation_context

from .extensions import dbs
from .process_admin_support import activity_counts, main_file, modeler_lists, problem_view
from .security import current_actor, require_roles

bp = Blueprint("admin_processes", __name__, url_prefix="/admin/processes")
MAX_UPLOAD_FILES = 20
MAX_FILE_BYTES = 5 * 1024 * 1024


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    return None


def _versions(key: str) -> list[ProcessDefinition]:
    rows = list(dbs().scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == key)
                              .order_by(ProcessDefinition.version.desc())))
    if not rows:
        abort(404)
    return rows


@bp.get("/<key>")
def overview(key: str) -> str:
    versions = _versions(key)
    chosen = versions[0]
    if request.args.get("version", "").isdigit():
        chosen = next((v for v in versions if v.version == int(request.args["version"])), None) or abort(404)
    running = dict(dbs().execute(select(ProcessInstance.definition_id, func.count()).where(
        ProcessInstance.process_key == key, ProcessInstance.status.in_(("running", "suspended", "stalled")))
        .group_by(ProcessInstance.definition_id)).all())
    filename, xml = main_file(chosen)
    viewer = {"xml": xml, "counts": activity_counts(dbs(), chosen.id),
              "diff": (chosen.summary or {}).get("diff") or {}}
    draft = get_draft(dbs(), key)
    return render_template("admin/process_overview.html", key=key, versions=versions, chosen=chosen,
                           running=running, viewer=viewer, filename=filename, draft=draft,
                           draft_problems=[problem_view(p) for p in (draft.problems if draft else [])])


@bp.get("/<key>/v<int:version>/download")
def download(key: str, version: int) -> Response:
    definition = next((v for v in _versions(key) if v.version == version), None) or abort(404)
    name = request.args.get("file")
    if name:
        if name not in definition.sources:
            abort(404)
        return send_file(io.BytesIO(definition.sources[name].encode("utf-8")), as_attachment=True,
                         download_name=name, mimetype="application/xml")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, text in sorted(definition.sources.items()):
            archive.writestr(filename, text)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"{key}-v{version}.zip", mimetype="application/zip")


@bp.post("/<key>/rollback")
def rollback(key: str) -> Response:
    target = next((v for v in _versions(key) if str(v.version) == request.form.get("version")), None) or abort(404)
    deployed = _deployed_or_flashed(lambda: rollback_to(dbs(), current_actor(), target.id,
                                                        request.form.get("reason", ""),
                                                        validation_context(dbs(), leaving_out=key)))
    if deployed is None:
        return redirect(url_for(".overview", key=key))
    version = next((d.version for d in deployed if d.process_key == key), target.version)
    flash(_("Version %(old)s deployed again as version %(new)s.", old=target.version, new=version), "success")
    return redirect(url_for(".overview", key=key))


def _deployed_or_flashed(deploy: Callable[[], list[ProcessDefinition]]) -> list[ProcessDefinition] | None:
    """Run a deploy from a form page: committed and returned, or rolled back with its problems
    (the first ten) flashed for the process page and None."""
    try:
        deployed = deploy()
    except DeployRefused as exc:
        dbs().rollback()
        for problem in exc.problems[:10]:
            flash(problem_view(problem)["message"], "error")
        return None
    except EngineError as exc:
        dbs().rollback()
        flash(exc.message, "error")
        return None
    dbs().commit()
    return deployed


@bp.get("/<key>/edit")
def edit(key: str) -> str:
    definition = latest_definition(dbs(), key)
    draft = get_draft(dbs(), key)
    filename, xml = main_file(definition)
    if draft is not None and filename in draft.files:
        xml = draft.files[filename]
    others = note_editor(dbs(), current_actor(), key)
    dbs().commit()
    config: dict[str, Any] = {
        "xml": xml, "file": filename, **modeler_lists(dbs()), "messages": sorted(validation_context(dbs()).catchers),
        "problems": [problem_view(p) for p in (draft.problems if draft else [])],
        "save_url": url_for(".save", key=key), "deploy_url": url_for(".deploy", key=key),
        "csrf_token": generate_csrf(), "labels": _labels(),
    }
    return render_template("admin/process_edit.html", key=key, definition=definition, draft=draft, others=others,
                           config=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"))


def _labels() -> dict[str, str]:
    return {"save": _("Save draft"), "deploy": _("Deploy"), "saved": _("Saved"), "problems": _("Problems"),
            "no_problems": _("No problems"), "deployed": _("Deployed version"),
            "reason_required": _("Give a reason for this deployment."), "added": _("Added"),
            "removed": _("Removed"), "changed": _("Changed"), "formKey": _("Form"),
            "candidateRole": _("Candidate role"), "dueDate": _("Due date expression"),
            "assignee": _("Assignee expression"), "operator": _("Service operator"), "parameters": _("Parameters"),
            "weijian": _("Weijian")}


def _posted_file(key: str) -> dict[str, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) or not isinstance(body.get("file"), str):
        abort(_json_error(400, _("Send JSON with the file name and its XML.")))
    if len(body["xml"].encode("utf-8")) > MAX_FILE_BYTES:
        abort(_json_error(413, _("The file is larger than %(n)s MB.", n=MAX_FILE_BYTES // (1024 * 1024))))
    return {body["file"]: body["xml"]}


def _json_error(status: int, message: str) -> Response:
    response = jsonify({"message": message})
    response.status_code = status
    return response


@bp.post("/<key>/draft")
def save(key: str) -> Response:
    files = _posted_file(key)
    try:
        draft = save_draft(dbs(), current_actor(), key, files, validation_context(dbs(), leaving_out=key))
    except EngineError as exc:
        dbs().rollback()
        return _json_error(422, exc.message)
    others = sorted(u for u in draft.editors if u != current_actor().user_id)
    saved_at = draft.updated_at.isoformat()
    problems = [problem_view(p) for p in draft.problems]
    dbs().commit()
    return jsonify({"problems": problems, "saved_at": saved_at, "editors": others})


@bp.post("/<key>/deploy")
def deploy(key: str) -> Response:
    files = _posted_file(key)
    reason = str((request.get_json(silent=True) or {}).get("reason") or "")
    actor = current_actor()
    context = validation_context(dbs(), leaving_out=key)
    try:
        save_draft(dbs(), actor, key, files, context)
        deployed = deploy_draft(dbs(), actor, key, reason, context)
    except DeployRefused as exc:
        dbs().rollback()
        response = jsonify({"ok": False, "problems": [problem_view(p) for p in exc.problems]})
        response.status_code = 422
        return response
    except EngineError as exc:
        dbs().rollback()
        return _json_error(422, exc.message)
    dbs().commit()
    mine = next((d for d in deployed if d.process_key == key), deployed[0])
    return jsonify({"ok": True, "version": mine.version, "diff": (mine.summary or {}).get("diff") or {},
                    "redirect": url_for(".overview", key=key, version=mine.version)})


@bp.route("/<key>/files/<name>", methods=["GET", "POST"])
def edit_file(key: str, name: str) -> str | Response | tuple[str, int]:
    """Edit one file of the bundle as XML (a DMN table, or BPMN without the modeler) into the draft."""
    definition = latest_definition(dbs(), key)
    draft = get_draft(dbs(), key)
    if name not in definition.sources and not (draft and name in draft.files):
        abort(404)
    text = draft.files.get(name) if draft and name in draft.files else definition.sources[name]
    problems: list[dict[str, Any]] = []
    if request.method == "POST":
        text = request.form.get("xml", "")
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            flash(_("The file is larger than %(n)s MB.", n=MAX_FILE_BYTES // (1024 * 1024)), "error")
            return render_template("admin/process_file.html", key=key, name=name, text=text, problems=[]), 413
        try:
            draft = save_draft(dbs(), current_actor(), key, {name: text}, validation_context(dbs(), leaving_out=key))
        except EngineError as exc:
            dbs().rollback()
            flash(exc.message, "error")
        else:
            problems = [problem_view(p) for p in draft.problems]
            dbs().commit()
            flash(_("Saved in the draft."), "success")
    return render_template("admin/process_file.html", key=key, name=name, text=text, problems=problems)


@bp.post("/<key>/draft/deploy")
def deploy_saved_draft(key: str) -> Response:
    """Deploy the draft as it was saved (from the process page, with a reason)."""
    deployed = _deployed_or_flashed(lambda: deploy_draft(dbs(), current_actor(), key, request.form.get("reason", ""),
                                                         validation_context(dbs(), leaving_out=key)))
    if deployed is None:
        return redirect(url_for(".overview", key=key))
    mine = next((d for d in deployed if d.process_key == key), deployed[0])
    flash(_("Deployed as version %(v)s.", v=mine.version), "success")
    return redirect(url_for(".overview", key=key, version=mine.version))


@bp.post("/<key>/draft/discard")
def discard(key: str) -> Response:
    discard_draft(dbs(), current_actor(), key)
    dbs().commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for(".overview", key=key))


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> str | Response:
    """Upload .bpmn/.dmn files: check them (every problem listed), and deploy when asked and clean."""
    problems: list[dict[str, Any]] = []
    if request.method == "POST":
        files = {}
        for item in request.files.getlist("files")[:MAX_UPLOAD_FILES]:
            name = (item.filename or "").rsplit("/", 1)[-1]
            data = item.read(MAX_FILE_BYTES + 1)
            if not name.endswith((".bpmn", ".dmn")) or len(data) > MAX_FILE_BYTES:
                problems.append({"message": _("'%(name)s' is not a .bpmn or .dmn file under 5 MB.", name=name),
                                 "severity": "error", "element": None})
                continue
            files[name] = data
        if not files and not problems:
            problems.append({"message": _("Choose at least one .bpmn or .dmn file."), "severity": "error",
                             "element": None})
        converted: list[dict[str, str]] = []
        if files and not problems and looks_like_camunda(files):
            files, converted, problems = _from_camunda(files)
        if files and not problems:
            context = validation_context(dbs())
            if request.form.get("action") == "deploy":
                try:
                    deployed = deploy_files(dbs(), current_actor(), files, request.form.get("reason", ""), context)
                except DeployRefused as exc:
                    dbs().rollback()
                    problems = [problem_view(p) for p in exc.problems]
                except EngineError as exc:
                    dbs().rollback()
                    problems = [{"message": exc.message, "severity": "error", "element": None}]
                else:
                    dbs().commit()
                    flash(_("Deployed: %(list)s", list=", ".join(f"{d.process_key} v{d.version}" for d in deployed)),
                          "success")
                    return redirect(url_for(".overview", key=deployed[0].process_key))
            else:
                problems = [problem_view(p) for p in validate_bundle(files, context)]
                if not problems:
                    flash(_("No problems found: the files can be deployed."), "success")
        return render_template("admin/process_upload.html", problems=problems, converted=converted)
    return render_template("admin/process_upload.html", problems=problems, converted=[])


def _from_camunda(files: dict[str, bytes]) -> tuple[dict[str, bytes], list[dict[str, str]], list[dict[str, Any]]]:
    """Files made with Camunda Modeler, converted (``engine.camunda_import``); nothing half-converted
    goes further: any problem stops the check or the deploy and is listed on its element."""
    result = convert(files)
    problems = [{"element": p["element"] or None, "severity": "error", "message": _(
        "%(where)s: %(text)s", where=p["name"] or p["element"] or p["file"], text=p["message"])}
        for p in result.problems]
    return (result.files if deployable(result) else {}), result.converted, problems
