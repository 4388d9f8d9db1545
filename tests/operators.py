"""Service-task operators the engine tests register once (operator names are global)."""

from __future__ import annotations

from typing import Any

from engine import OperatorContext, operator

CALLS: list[dict[str, Any]] = []
FAIL = {"on": False}


@operator("test.echo", "Echo a text back (tests).")
def echo(params: dict[str, Any], ctx: OperatorContext) -> dict[str, Any]:
    CALLS.append(params)
    if FAIL["on"]:
        raise RuntimeError("the document service is down")
    return {"text": params["text"], "job": ctx.job_id}
