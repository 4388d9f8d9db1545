"""Minimal pages until the web issue lands: what is deployed and what is running."""

from __future__ import annotations

from flask import Blueprint, render_template_string
from sqlalchemy import func, select

from engine.models import HumanTask, ProcessDefinition, ProcessInstance

from .app import db

bp = Blueprint("home", __name__)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>卫监 Weijian</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;max-width:60rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}</style></head>
<body><h1>卫监 · 卫生监督执法工作流</h1>
<p>运行中的案件：{{ running }}，待办任务：{{ ready }}</p>
<h2>已部署流程</h2>
<table><tr><th>流程</th><th>名称</th><th>版本</th><th>部署时间</th></tr>
{% for d in definitions %}<tr><td>{{ d.process_key }}</td><td>{{ d.name }}</td><td>{{ d.version }}</td>
<td>{{ d.deployed_at.strftime('%Y-%m-%d %H:%M') }}</td></tr>{% endfor %}
</table></body></html>"""


@bp.get("/")
def index() -> str:
    session = db.session
    definitions = session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_key,
                                                                     ProcessDefinition.version)).all()
    running = session.scalar(select(func.count()).select_from(ProcessInstance)
                             .where(ProcessInstance.status == "running"))
    ready = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
    return render_template_string(PAGE, definitions=definitions, running=running, ready=ready)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    db.session.execute(select(1))
    return {"status": "ok"}
