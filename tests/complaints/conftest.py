"""Fixtures for complaint tests: a template database with both bundles and the units, one copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.complaints.driver import ComplaintWorld, prepare_template, world_fixture


@pytest.fixture(scope="session")
def complaint_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("complaints") / "complaints-template.db"
    shutil.copyfile(_sqlite_template, path)
    prepare_template(path)
    return path


@pytest.fixture
def world(complaint_template: Path, tmp_path: Path) -> Iterator[ComplaintWorld]:
    yield from world_fixture(complaint_template, tmp_path)


class Mailbox:
    """Messages a real local SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 (a free port); deliveries are configured to use it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("WEIJIAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WEIJIAN_SMTP_PORT", str(port))
    monkeypatch.setenv("WEIJIAN_SMTP_FROM", "tousu@weijian.test")
    try:
        yield mailbox
    finally:
        controller.stop()
