"""加处罚款: steps for surcharge.feature (all steps are shared, in conftest)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("surcharge.feature")
