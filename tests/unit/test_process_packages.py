"""Process packages plug in (``processes.registry``, ``web.packages``): the generic web, forms and
integrations import no process package by name, and a fresh worker process sees every
package's service-task operators."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from processes.registry import (
    ProcessPackage,
    discover,
    operators_named,
    package_for_folder,
    package_for_form,
    package_for_process,
    packages,
    register,
    unregister,
    unregistered_operators,
)

ROOT = Path(__file__).resolve().parents[2]
GENERIC = ["web/tasks.py", "web/cases.py", "web/inbox.py", "web/case_list.py", "web/case_query.py",
           "web/api/routes.py", "web/api/__init__.py",
           "web/api/schemas.py", "web/app.py", "web/cli.py", "web/filters.py", "processes/demo_data.py",
           *(str(p.relative_to(ROOT)) for d in ("forms", "integrations") for p in sorted((ROOT / d).rglob("*.py")))]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, module: str | None = None) -> set[str]:
    """Every module ``path`` (the module named ``module``) imports, anywhere in it (lazy imports
    too), relative ones resolved; ``from a import b`` counts as ``a`` and ``a.b`` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden_modules() -> list[str]:
    """Each registered process package, its web module, and the old ``web.penalty``."""
    names = [p.name for p in discover()]
    return ["web.penalty", *(f"processes.{n}" for n in names), *(f"web.packages.{n}" for n in names)]


@pytest.mark.parametrize("relative", GENERIC)
def test_generic_modules_import_no_process_package(relative: str) -> None:
    forbidden = forbidden_modules()
    assert "processes.penalty" in forbidden and "web.packages.penalty" in forbidden
    bad = sorted(m for m in imported_modules(ROOT / relative)
                 if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert not bad, f"{relative} imports {bad}: ask processes.registry / web.packages instead"


def test_the_import_check_sees_every_form_of_import(tmp_path: Path) -> None:
    """The checker itself: absolute, from-, relative and lazy imports are all found."""
    probe = tmp_path / "probe.py"
    sources = {
        "import processes.penalty.models\n": "processes.penalty.models",
        "from processes import penalty\n": "processes.penalty",
        "from .packages import penalty\n": "web.packages.penalty",
        "from .packages.penalty import bp\n": "web.packages.penalty",
        "def f():\n    from web.packages.penalty import WEB_PACKAGE\n": "web.packages.penalty",
    }
    for source, module in sources.items():
        probe.write_text(source, encoding="utf-8")
        assert module in imported_modules(probe, "web.probe"), source


def test_a_fresh_worker_process_registers_every_package_operator() -> None:
    """``celery -A integrations.celery_app worker`` imports only that module: it must load every
    package's operators (no mocks: a new interpreter)."""
    code = ("import json, integrations.celery_app; from engine import registered_operators; "
            "print(json.dumps([o.name for o in registered_operators()]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    names = set(json.loads(result.stdout.strip().splitlines()[-1]))
    penalty = next(p for p in discover() if p.name == "penalty")
    named = set().union(*(operators_named(f.read_bytes(), f.name) for f in penalty.folder.glob("*.bpmn")))
    assert {"penalty.allocate_case_number", "penalty.generate_document", "penalty.archive_case"} <= named
    assert named <= names, f"not registered in a fresh worker: {sorted(named - names)}"


def test_the_registry_answers_by_form_process_and_folder() -> None:
    discover()
    penalty = package_for_form("penalty.lead")
    assert penalty is not None and penalty.name == "penalty"
    assert package_for_process("penalty_summary") is penalty and package_for_process("penalty_deliberation") is penalty
    assert package_for_form("lead.register") is None and package_for_form(None) is None
    assert package_for_process("case_lead") is None
    assert package_for_folder(penalty.folder) is penalty
    assert "directory" not in {p.name for p in packages()}  # the directory is no process package
    assert penalty.submit is not None and penalty.deploy is not None and penalty.load_demo is not None
    assert penalty.case_kind("penalty_ordinary") == "行政处罚（一般程序）"
    assert discover() == packages()  # idempotent


def test_two_packages_cannot_claim_the_same_process_or_name(tmp_path: Path) -> None:
    discover()
    thief = ProcessPackage(name="thief", folder=tmp_path, process_keys=frozenset({"penalty_ordinary"}))
    with pytest.raises(ValueError, match="penalty_ordinary"):
        register(thief)
    twin = ProcessPackage(name="penalty", folder=tmp_path, process_keys=frozenset({"other"}))
    with pytest.raises(ValueError, match="already registered"):
        register(twin)
    own = ProcessPackage(name="own", folder=tmp_path, process_keys=frozenset({"own_process"}),
                         form_prefixes=("own.",), order=5)
    try:
        assert register(own) is own and register(own) is own  # again: no change
        assert packages()[0] is own  # lower order first
        assert package_for_form("own.x") is own
    finally:
        unregister("own")
    assert package_for_form("own.x") is None


def test_every_bundled_operator_is_registered() -> None:
    assert unregistered_operators() == {}


def test_a_package_catalog_adds_english_for_its_domain_text(tmp_path: Path) -> None:
    from web.i18n import domain_catalog, domain_text

    po = tmp_path / "domain.en.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "投诉举报受理"\nmsgstr "Complaint intake"\n\n'
                  'msgid "已受理{n}件"\nmsgstr "{n} accepted"\n\n'
                  'msgid "一般程序"\nmsgstr "not this one"\n', encoding="utf-8")
    register(ProcessPackage(name="catalogued", folder=tmp_path, process_keys=frozenset({"catalogued_p"}),
                            catalogs={"en": po}))
    domain_catalog.cache_clear()
    try:
        assert domain_text("投诉举报受理", "en") == "Complaint intake"
        assert domain_text("已受理3件", "en") == "3 accepted"
        assert domain_text("一般程序", "en") == "Ordinary procedure"  # web/translations wins on a clash
        assert domain_text("投诉举报受理", "zh") == "投诉举报受理"
    finally:
        unregister("catalogued")
        domain_catalog.cache_clear()
    assert domain_text("投诉举报受理", "en") == "投诉举报受理"
