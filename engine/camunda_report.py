"""What a Camunda import did: the converted files, what was converted, what could not be.

Kept apart from the converters so the BPMN and DMN halves record into the same result and check
what they produce against the sandbox the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .sandbox import SandboxError, check_script

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FOREIGN_NAMESPACES = (CAMUNDA_NS, CAMUNDA_DMN_NS, ZEEBE_NS)


@dataclass
class ImportResult:
    """``files``: converted bytes per file name (for ``engine.deploy`` only when ``problems`` is
    empty); ``converted``: ``{file, element, what}`` per change made; ``problems``:
    ``{file, element, name, message}`` per thing that could not be converted."""

    files: dict[str, bytes] = field(default_factory=dict)
    converted: list[dict[str, str]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FileReport:
    """Records into an ``ImportResult`` on behalf of one file."""

    result: ImportResult
    file: str

    def converted(self, element: str | None, what: str) -> None:
        self.result.converted.append({"file": self.file, "element": element or "", "what": what})

    def problem(self, element: str | None, name: str | None, message: str) -> None:
        """Record a problem once (five ``camunda:in`` mappings are one thing to fix); names drawn on
        several lines in the Modeler are shown on one."""
        entry = {"file": self.file, "element": element or "", "name": " ".join((name or "").split()),
                 "message": message}
        if entry not in self.result.problems:
            self.result.problems.append(entry)


def format_problem(problem: dict[str, str]) -> str:
    """``file: element (name): message``, as the CLI prints it."""
    name = f" ({problem['name']})" if problem.get("name") else ""
    element = problem.get("element") or "-"
    return f"{problem['file']}: {element}{name}: {problem['message']}"


def sandbox_refusal(source: str, mode: str = "eval") -> str | None:
    """Why the sandbox would refuse ``source`` at deploy time, or None."""
    try:
        check_script(source, "exec" if mode == "exec" else "eval")
    except SandboxError as exc:
        return str(exc).splitlines()[0]
    except SyntaxError as exc:
        return f"syntax error: {exc.msg}"
    return None
