"""抽取检查对象: steps for draw.feature (most steps are shared, in conftest)."""

from __future__ import annotations

from pytest_bdd import scenarios, then

from processes.inspections.rules import load_rules
from processes.inspections.sampling import Snapshot, run

scenarios("draw.feature")


@then("在100家单位中一半为高风险时，抽取200次高风险单位占抽中总数的六成以上")
def weights_matter() -> None:
    weights = load_rules().weights
    entities = [{"category": "public_place", "credit_code": f"C{n:03d}",
                 "weight": weights.weight("high" if n % 2 else "normal", None, 0)} for n in range(100)]
    snapshot = Snapshot(entities, [], {"pairs": [], "previous": {}})
    params = {**load_rules().as_params(), "categories": {"public_place": {"ratio": "0.1"}}}
    high = total = 0
    for seed in range(200):
        for entity in run(snapshot, f"seed-{seed}", params)["entities"]:
            total += 1
            high += int(entity["credit_code"][1:]) % 2
    assert total == 2000
    assert high / total > 0.6, high / total
