"""The reasons a head may give for not disclosing a penalty decision are data in rules.toml
([disclosure] decision_withhold_reasons, [unconfirmed]): a list in the file, or one text separated
by "；" as the administrators' rules page stores it; an empty or malformed entry is refused."""

from __future__ import annotations

import tomllib

import pytest

from processes.inspections.rules import RULES_FILE, load_rules, parse_rules


def _raw(value: object) -> dict[str, object]:
    with open(RULES_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    raw["disclosure"]["decision_withhold_reasons"] = value
    return raw


def test_the_file_lists_the_reasons_with_an_unconfirmed_label() -> None:
    assert "不具有一定社会影响（简易程序作出的警告或者小额罚款）" in load_rules().decision_withhold_reasons
    line = next(line for line in RULES_FILE.read_text(encoding="utf-8").splitlines()
                if line.startswith("decision_withhold_reasons"))
    assert "[unconfirmed]" in line and "第四十八条" in line


def test_a_text_from_the_rules_page_is_split_into_reasons() -> None:
    assert parse_rules(_raw("不具有一定社会影响；涉及商业秘密")).decision_withhold_reasons == (
        "不具有一定社会影响", "涉及商业秘密")


@pytest.mark.parametrize("value", [[], [""], "；", 5])
def test_an_empty_or_malformed_list_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="decision_withhold_reasons"):
        parse_rules(_raw(value))
