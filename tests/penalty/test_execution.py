"""Execution mechanics as pure functions: the surcharge over a payment history and an instalment
schedule, the instalment-plan field and its case checks, the case-card report deadlines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError

from engine.calendar import default_calendar
from processes.penalty import reporting
from processes.penalty.execution import Instalment, execution_state, schedule_for, surcharge_over_history
from processes.penalty.instalments import instalment_plan, plan_problems, stored_plan
from processes.penalty.models import ExecutionEvent
from processes.penalty.rules import load_rules

RULES = load_rules()
FINE = Decimal("5000.00")
DUE = date(2025, 10, 15)


def event(kind: str, on: str, amount: str = "0", **extra: object) -> ExecutionEvent:
    return ExecutionEvent(kind=kind, occurred_on=date.fromisoformat(on), amount_fen=int(Decimal(amount) * 100),
                          **extra)


def test_a_partial_payment_lowers_the_base_from_the_next_day() -> None:
    payments = [(date(2025, 10, 20), Decimal(2000))]
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], payments, date(2025, 10, 20)) == \
        (Decimal("750.00"), 5)
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], payments, date(2025, 10, 25)) == \
        (Decimal("1200.00"), 10)


def test_without_partial_payments_it_matches_the_whole_fine_rule() -> None:
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], [], date(2025, 10, 25)) == \
        (Decimal("1500.00"), 10)


def test_days_are_summed_exactly_and_rounded_once_to_the_fen() -> None:
    fine = Decimal("333.33")  # 3% = 9.9999 a day
    amount, days = surcharge_over_history(RULES, fine, [Instalment(DUE, fine)], [], date(2025, 10, 18))
    assert (amount, days) == (Decimal("30.00"), 3)  # 29.9997 -> 30.00, not 3 x 10.00 rounded per day


def test_each_instalment_is_late_from_its_own_due_date() -> None:
    schedule = [Instalment(date(2025, 10, 31), Decimal(2000)), Instalment(date(2025, 11, 30), Decimal(3000))]
    assert surcharge_over_history(RULES, FINE, schedule, [], date(2025, 11, 5))[0] == Decimal("300.00")
    # from Dec 1 both are due: 2 days on 5,000 after 30 days on 2,000
    assert surcharge_over_history(RULES, FINE, schedule, [], date(2025, 12, 2))[0] == Decimal("2100.00")


def test_pauses_and_the_cap() -> None:
    pauses = [(date(2025, 10, 18), date(2025, 10, 19))]
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], [], date(2025, 10, 20), pauses) == \
        (Decimal("450.00"), 3)
    open_pause = [(date(2025, 10, 17), None)]
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], [], date(2026, 1, 1), open_pause)[0] == \
        Decimal("150.00")
    assert surcharge_over_history(RULES, FINE, [Instalment(DUE, FINE)], [], date(2026, 1, 1))[0] == FINE


def test_a_changed_fine_trims_the_plan_from_the_end() -> None:
    plan = event("instalments", "2025-10-10", approved=True,
                 plan=stored_plan([{"due_on": date(2025, 10, 31), "amount": Decimal(2000)},
                                   {"due_on": date(2025, 11, 30), "amount": Decimal(3000)}]))
    assert [i.amount for i in schedule_for(Decimal(1500), DUE, plan)] == [Decimal(1500), Decimal(0)]
    assert [i.amount for i in schedule_for(Decimal(6000), DUE, plan)] == [Decimal(2000), Decimal(4000)]


def test_state_follows_the_instalment_payments() -> None:
    plan = event("instalments", "2025-10-10", approved=True,
                 plan=[{"due_on": "2025-10-31", "amount_fen": 200000}, {"due_on": "2025-11-30", "amount_fen": 300000}])
    events = [plan, event("payment", "2025-10-31", "2000")]
    state = execution_state(RULES, FINE, Decimal(0), DUE, date(2025, 9, 30), events, date(2025, 11, 1))
    assert (state.status, state.payment_due, state.next_due, state.in_instalments) == \
        ("partially_paid", date(2025, 11, 30), date(2025, 11, 30), True)
    assert state.as_data()["instalments"][0] == {"due_on": "2025-10-31", "amount": 2000.0, "paid": 2000.0,
                                                 "remaining": 0.0}
    refused = event("instalments", "2025-10-10", approved=False, plan=plan.plan)
    state = execution_state(RULES, FINE, Decimal(0), DUE, date(2025, 9, 30), [refused], date(2025, 10, 16))
    assert (state.status, state.payment_due, state.surcharge) == ("overdue", DUE, Decimal("150.00"))


class PlanForm(Schema):
    plan = instalment_plan("分期计划")


@pytest.mark.parametrize(("raw", "message"), [
    ("2025-10-31 2000", "至少分两期"),
    ("2025-10-31 2000\n2025-10-31 3000", "第2期的缴款日期应晚于第1期"),
    ("2025-10-31 2000\n2025-11-31 3000", "第2期：“2025-11-31”不是有效日期"),
    ("2025-10-31 -5\n2025-11-30 3000", "第1期：金额应大于零"),
    ("2025-10-31 20.001\n2025-11-30 3000", "金额最多精确到分"),
    ("2025-10-31\n2025-11-30 3000", "请按“缴款日期 金额”填写"),
    ([{"due_on": "2025-10-31"}], "应包含缴款日期（due_on）和金额（amount）"),
])
def test_the_plan_field_refuses_bad_lines(raw: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PlanForm().load({"plan": raw})
    assert message in str(caught.value.messages)


def test_the_plan_field_reads_lines_and_json() -> None:
    text = PlanForm().load({"plan": "2025-10-31 2,000元\n\n2025-11-30，3000.50"})["plan"]
    api = PlanForm().load({"plan": [{"due_on": "2025-10-31", "amount": 2000},
                                    {"due_on": "2025-11-30", "amount": "3000.50"}]})["plan"]
    assert text == api == [{"due_on": date(2025, 10, 31), "amount": Decimal(2000)},
                           {"due_on": date(2025, 11, 30), "amount": Decimal("3000.50")}]


def test_plan_problems_hold_the_plan_to_the_fine_and_the_limits() -> None:
    ok = [{"due_on": date(2025, 10, 31), "amount": Decimal(2000)},
          {"due_on": date(2026, 4, 13), "amount": Decimal(3000)}]
    assert plan_problems(RULES, ok, fine=FINE, original_due=DUE, applied_on=date(2025, 10, 10)) == []
    late = [ok[0], {"due_on": date(2026, 4, 14), "amount": Decimal(3000)}]
    assert "最后一期不能晚于2026年4月13日" in plan_problems(RULES, late, fine=FINE, original_due=DUE,
                                                         applied_on=date(2025, 10, 10))[0]
    early = plan_problems(RULES, ok, fine=FINE, original_due=DUE, applied_on=date(2025, 11, 1))
    assert early == ["第1期缴款日期不能早于申请日期2025年11月1日"]


def test_report_deadlines_count_working_days() -> None:
    calendar = default_calendar()
    assert reporting.first_report_due(calendar, RULES, date(2025, 9, 30)) == date(2025, 10, 14)
    assert reporting.second_report_due(calendar, RULES, date(2025, 10, 15)) == date(2025, 10, 22)
    assert reporting.card_sha256({"b": 1, "a": "卡"}) == reporting.card_sha256({"a": "卡", "b": 1})


def test_remedy_windows_close_by_what_the_party_lodged() -> None:
    """行政复议法 Art. 20 / 行政诉讼法 Arts. 45, 46 as the court-application timer counts them."""
    from processes.penalty.execution import earliest_enforcement_application, remedy_windows_close

    served = date(2025, 9, 30)
    assert remedy_windows_close(RULES, served, []) == date(2026, 3, 30)  # 6 months, longer than 60 days
    reconsidered = [event("reconsideration", "2025-10-20"), event("appeal_upheld", "2025-11-19")]
    assert remedy_windows_close(RULES, served, reconsidered) == date(2025, 12, 4)  # 15 days after the decision
    sued = [*reconsidered, event("litigation", "2025-12-01"), event("appeal_upheld", "2026-05-10")]
    assert remedy_windows_close(RULES, served, sued) == date(2026, 5, 10)  # the judgment, not the 6 months
    state = execution_state(RULES, FINE, Decimal(0), DUE, served, reconsidered, date(2025, 11, 20))
    assert state.enforcement_from == date(2025, 12, 5) and state.enforcement_due == date(2026, 3, 5)
    assert earliest_enforcement_application(RULES, date(2026, 4, 1)) == date(2026, 4, 12)
