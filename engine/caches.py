"""Everything an engine process keeps between commands, and the one way to forget it.

A process keeps warm: committed workflows (``state.WORKFLOW_CACHE``), parsed specs per
definition version (``definitions``) and the working-day calendar per database (``scripting``).
Any process may run any step of any instance, so a state loaded cold must run exactly as a warm
one; ``clear_caches`` lets a test (``tests/integration/test_cold_warm.py``) run every step cold,
and lets an operator drop what a process holds after restoring a database under it.
"""

from __future__ import annotations

from .definitions import clear_spec_cache
from .scripting import invalidate_calendar
from .state import WORKFLOW_CACHE


def clear_caches() -> None:
    """Forget every cached workflow, spec and calendar of this process."""
    WORKFLOW_CACHE.clear()
    clear_spec_cache()
    invalidate_calendar()
