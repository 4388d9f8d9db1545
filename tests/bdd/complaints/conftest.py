"""Fixtures of the complaint features: the complaint world and the local SMTP server."""

from __future__ import annotations

from tests.complaints.conftest import complaint_template, smtp_server, world

__all__ = ["complaint_template", "smtp_server", "world"]
