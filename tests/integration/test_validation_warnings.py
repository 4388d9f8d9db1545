"""The validation an administrator sees before a deploy lists what the deploy would ignore or
never complete as warnings (code ``ignored``), the same ones the deployed version records."""

from __future__ import annotations

from engine.definitions import bundle_warnings
from engine.validation import blocking, validate_bundle
from tests.integration.test_bpmn_tolerance import CAMUNDA_STYLE


def test_ignored_parts_are_warnings_on_their_elements_and_do_not_block() -> None:
    files = {"check.bpmn": CAMUNDA_STYLE.encode()}
    problems = validate_bundle(files)
    assert blocking(problems) == []
    ignored = [p for p in problems if p.code == "ignored"]
    assert {p.severity for p in ignored} == {"warning"}
    assert sorted((p.file or "", p.element or "", p.message) for p in ignored) == sorted(
        (w["file"], w["element"] or "", w["message"]) for w in bundle_warnings(files))
    elements = {p.element for p in ignored}
    assert {"DataStoreReference_1", "clinic"} <= elements
    assert any("label" in p.message for p in ignored)


def test_a_bundle_without_an_executable_process_is_an_error() -> None:
    xml = CAMUNDA_STYLE.replace('isExecutable="true"', 'isExecutable="false"')
    problems = blocking(validate_bundle({"check.bpmn": xml.encode()}))
    assert [p.code for p in problems] == ["invalid"]
    assert "executable" in problems[0].message
