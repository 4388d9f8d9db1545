"""Legal checks of the summary procedure's payment: the fine paid at the bank, or collected by the
officers on the spot (当场收缴, 行政处罚法 Arts. 68-71; form ``forms_summary.SummaryPaymentForm``).

A payment is checked like any execution payment (``checks_execution.execution``: nothing above
what is owed that day, surcharge after the due date). On-the-spot collection is allowed only on a
ground of Art. 68/69: a fine up to ``summary.max_on_spot_collection`` (100 yuan, Art. 68(1)), a fine
that would be hard to collect later (Art. 68(2)), or a remote area at the party's request (Art. 69);
it is collected on the day of the decision, against the financial department's receipt (Art. 70),
and the officer hands it to the agency within ``summary.on_spot_pay_in_days`` (2 days, Art. 71).
"""

from __future__ import annotations

from datetime import timedelta

from .checks import Result, Submission, fail, handles
from .checks_execution import execution
from .law import Penalty, cn


@handles("penalty.summary_payment")
def summary_payment(sub: Submission) -> Result:
    f, case = sub.form, sub.case
    f["kind"] = f.get("kind") or "payment"  # reconsideration/litigation: recorded like the ordinary procedure's
    if f.get("on_spot"):
        limits = sub.rules.summary
        fine = Penalty.of(case.decided_penalty).fine
        if f["on_spot_ground"] == "small_fine" and fine > limits.max_on_spot_collection:
            fail("on_spot_ground", f"依法给予{limits.max_on_spot_collection:,.0f}元以下罚款的，方可据此当场收缴"
                                   f"（行政处罚法第六十八条第一项），本案罚款{fine:,.2f}元；请当事人到指定银行或者"
                                   f"通过电子支付系统缴纳")
        if case.decided_on is not None and f["paid_on"] != case.decided_on:
            fail("paid_on", f"当场收缴罚款应当在当场作出处罚决定时收缴（{cn(case.decided_on)}），"
                            f"事后缴纳的请登记为银行缴款")
        handed_in = f["handed_in_on"]
        last_day = f["paid_on"] + timedelta(days=limits.on_spot_pay_in_days)
        if handed_in > sub.today:
            fail("handed_in_on", "交至行政机关的日期不能晚于今天")
        if handed_in < f["paid_on"]:
            fail("handed_in_on", "交至行政机关的日期不能早于收缴日期")
        if handed_in > last_day and not (f.get("late_reason") or "").strip():
            fail("late_reason", f"执法人员当场收缴的罚款应当自收缴之日起{limits.on_spot_pay_in_days}日内交至"
                                f"行政机关（行政处罚法第七十一条），最迟{cn(last_day)}；已逾期，请说明原因")
    result = execution(sub)
    if f.get("on_spot"):
        result.payload.update(on_spot_late=f["handed_in_on"] > f["paid_on"] + timedelta(
            days=sub.rules.summary.on_spot_pay_in_days))
    return result
