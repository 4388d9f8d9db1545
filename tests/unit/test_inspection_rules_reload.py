"""The inspections' rules file is read again when an administrator edits it (no restart), and a
cached read gives what a fresh parse of the same file gives."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from processes.inspections.rules import RULES_FILE, load_rules, parse_rules


def test_an_edited_rules_file_is_read_again(tmp_path: Path) -> None:
    copy = tmp_path / "rules.toml"
    text = Path(RULES_FILE).read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    first = load_rules(copy)
    assert first == parse_rules(tomllib.loads(text))  # the cached read is the plain parse
    assert load_rules(copy) is first
    copy.write_text(text.replace("result_workdays = 20", "result_workdays = 15"), encoding="utf-8")
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_rules(copy).result_workdays == 15
    assert first.result_workdays == 20
