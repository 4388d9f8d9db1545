"""The legal mechanics as pure functions, on hand-counted dates (National Day 2025: Oct 1-8 off,
Sun Sep 28 and Sat Oct 11 worked)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from engine.calendar import default_calendar
from processes.penalty import law
from processes.penalty.casecard import CARD_FIELDS, case_card, to_csv, to_xlsx
from processes.penalty.deliberation import tally
from processes.penalty.formfields import valid_credit_code
from processes.penalty.law import Penalty
from processes.penalty.models import PenaltyCase
from processes.penalty.rules import load_rules, parse_rules

RULES = load_rules()
CAL = default_calendar()


def test_limitation_counts_from_the_end_of_a_continuing_violation() -> None:
    on_time = law.limitation_status(RULES, date(2023, 9, 1), date(2025, 9, 1))
    assert not on_time.expired and on_time.expires_on == date(2025, 9, 1)
    late = law.limitation_status(RULES, date(2023, 9, 1), date(2025, 9, 2))
    assert late.expired and "不予立案" in late.reason
    continuing = law.limitation_status(RULES, date(2020, 1, 1), date(2025, 9, 2), ended_on=date(2024, 1, 1))
    assert not continuing.expired and continuing.counted_from == date(2024, 1, 1)
    harm = law.limitation_status(RULES, date(2021, 2, 28), date(2025, 9, 2), public_health_harm=True)
    assert harm.years == 5 and not harm.expired


def test_months_clamp_to_the_end_of_the_month() -> None:
    assert law.add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert law.add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)


def test_heavier_names_every_aggravation() -> None:
    notified = Penalty.of({"kinds": ["warning", "fine"], "fine": 5000})
    assert law.heavier(Penalty.of({"kinds": ["fine"], "fine": 3000}), notified) == []
    reasons = law.heavier(Penalty.of({"kinds": ["fine", "suspension"], "fine": 6000}), notified)
    assert reasons == ["增加了处罚种类“责令停产停业”", "罚款由5,000.00元提高到6,000.00元"]


@pytest.mark.parametrize(("party", "kinds", "fine", "ok"), [
    ("person", ["fine"], 200, True), ("person", ["fine"], 200.01, False), ("organisation", ["fine"], 3000, True),
    ("organisation", ["fine"], 3000.5, False), ("person", ["warning"], 0, True),
    ("organisation", ["licence_revocation"], 0, False), ("person", [], 0, False),
])
def test_summary_procedure_limits(party: str, kinds: list[str], fine: float, ok: bool) -> None:
    problems = law.summary_problems(RULES, party, Penalty.of({"kinds": kinds, "fine": fine}))
    assert (problems == []) is ok, problems


def test_deadlines_across_national_day() -> None:
    assert law.earliest_hearing_date(CAL, RULES, date(2025, 9, 30)) == date(2025, 10, 16)
    assert law.service_due(CAL, RULES, date(2025, 9, 30)) == date(2025, 10, 16)
    assert law.payment_due(CAL, RULES, date(2025, 9, 16)) == date(2025, 10, 9)  # Oct 1 rolls past the holiday
    assert law.effective_service_date(CAL, RULES, "public_notice", date(2025, 10, 9)) == date(2025, 11, 10)
    assert law.appeal_deadlines(RULES, date(2025, 9, 30)) == (date(2025, 11, 29), date(2026, 3, 30))


def test_surcharge_is_three_percent_a_day_capped_at_the_fine_and_paused_by_appeals() -> None:
    fine, due = Decimal(5000), date(2025, 10, 15)
    assert law.surcharge(RULES, fine, due, due) == (Decimal("0.00"), 0)
    assert law.surcharge(RULES, fine, due, date(2025, 10, 25)) == (Decimal("1500.00"), 10)
    assert law.surcharge(RULES, fine, due, date(2025, 12, 31))[0] == Decimal("5000.00")
    paused = [(date(2025, 10, 20), date(2025, 11, 19))]
    assert law.surcharge(RULES, fine, due, date(2025, 11, 24), paused) == (Decimal("1350.00"), 9)
    assert law.surcharge(RULES, fine, due, date(2025, 11, 24), [(date(2025, 10, 20), None)]) == (
        Decimal("600.00"), 4)


def test_deliberation_outcome_follows_the_majority() -> None:
    members = [{"user_id": u} for u in ("a", "b", "c")]
    fine = {"outcome": "penalty", "penalty": {"kinds": ["fine"], "fine": 5000}}
    two_to_one = tally(members, [{"user_id": "a", **fine}, {"user_id": "b", **fine},
                                 {"user_id": "c", "outcome": "no_penalty"}])
    assert two_to_one.majority and two_to_one.outcome == "penalty" and two_to_one.votes_for == 2
    assert "3人，2人同意：罚款人民币5,000.00元" in two_to_one.conclusion
    split = tally(members, [{"user_id": "a", **fine}, {"user_id": "b", "outcome": "no_penalty"},
                            {"user_id": "c", "outcome": "penalty", "penalty": {"kinds": ["warning"]}}])
    assert not split.majority and split.outcome is None


def test_rules_file_is_validated() -> None:
    with pytest.raises(ValueError, match="min_officers below 2"):
        parse_rules({**_raw(), "staffing": {"min_officers": 1, "min_deliberation_members": 3,
                                             "min_collective_participants": 2}})
    with pytest.raises(ValueError, match="min_collective_participants below 2"):
        parse_rules({**_raw(), "staffing": {"min_officers": 2, "min_deliberation_members": 3,
                                             "min_collective_participants": 1}})
    with pytest.raises(ValueError, match=r"\[periods\] is missing"):
        parse_rules({**_raw(), "periods": {}})
    assert RULES.process_data()["periods"]["statement_workdays"] == 5
    assert RULES.summary.max_fine("person") == Decimal(200)


def _raw() -> dict[str, object]:
    import tomllib

    from processes.penalty.rules import RULES_FILE

    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


def test_credit_code_check_character() -> None:
    assert valid_credit_code("91440300708461136T")
    assert not valid_credit_code("91440300708461136X")
    assert not valid_credit_code("9144030070846113")


def test_case_card_exports_as_csv_and_xlsx() -> None:
    case = PenaltyCase(id="c1", instance_id="i1", procedure="ordinary", unit_id="U1", unit_name="宝山区卫健委",
                       unit_short_name="宝", case_number="宝卫医罚〔2025〕1号", entity_name="宝山区康宁诊所",
                       credit_code="91440300708461136T", source="complaint", violation="使用非卫生技术人员",
                       legal_basis="《护士条例》第二十八条", decided_penalty={"kinds": ["warning", "fine"]},
                       fine_fen=500000, confiscation_fen=0, decided_on=date(2025, 9, 30), execution_status="paid",
                       closed_on=date(2025, 10, 20))
    card = case_card(case)
    assert card["penalty_kinds"] == "警告、罚款" and card["fine"] == "5000.00" and card["source"] == "投诉举报"
    csv_text = to_csv([card]).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("案件编号,当事人,") and "宝卫医罚〔2025〕1号" in csv_text
    sheet = load_workbook(io.BytesIO(to_xlsx([card]))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(label for _key, label in CARD_FIELDS)
    assert rows[1][0] == "宝卫医罚〔2025〕1号" and rows[1][-2] == "已执行"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","点击")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_exports_never_carry_a_live_formula(name: str) -> None:
    case = PenaltyCase(id="c1", instance_id="i1", procedure="ordinary", unit_id="U1", unit_name="宝山区卫健委",
                       unit_short_name="宝", case_number="宝卫医罚〔2025〕2号", entity_name=name,
                       credit_code="91440300708461136T", source="complaint", violation="违法行为",
                       legal_basis="依据", decided_penalty={"kinds": ["fine"]}, fine_fen=100, confiscation_fen=0,
                       decided_on=date(2025, 9, 30), execution_status="paid", closed_on=date(2025, 10, 20))
    card = case_card(case)
    csv_row = list(csv.reader(io.StringIO(to_csv([card]).decode("utf-8-sig"), newline="")))[1]
    assert csv_row[1] == "'" + name  # shown as typed, never evaluated
    workbook = load_workbook(io.BytesIO(to_xlsx([card])))
    cell = workbook.active["B2"]  # type: ignore[index]
    assert cell.data_type == "s" and cell.value == "'" + name
