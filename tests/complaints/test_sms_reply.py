"""A complainant who chose SMS reads the reply itself in the message (a PDF letter cannot travel
by SMS), delivered to a real HTTP gateway listening on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import now as clock_now
from processes.complaints.feedback import queue, send_pending
from processes.complaints.models import FeedbackDelivery
from processes.penalty.documents import pdf_rendering
from tests.complaints.driver import ComplaintWorld

REPLY = "经核查，已责令该诊所停止使用过期药品。\n如对本答复不服，可以自收到之日起30日内请求复查。"


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("WEIJIAN_SMS_URL", f"http://127.0.0.1:{server.server_address[1]}/sms")
    yield received
    server.shutdown()
    server.server_close()


def test_an_sms_reply_carries_the_reply_text(world: ComplaintWorld, gateway: list[dict[str, Any]]) -> None:
    world.file_public(identity={"name": "王五", "phone": "13800000000"}, reply_channel="sms")
    with world.factory() as session:
        complaint = world.complaint()
        complaint = session.merge(complaint)
        with pdf_rendering(True):  # the letter is a PDF, as in production
            row = queue(session, complaint, "reply", REPLY, world.today)
        assert row is not None and row.channel == "sms"
        send_pending(session, complaint, clock_now())
        session.commit()
        sent = session.scalars(select(FeedbackDelivery).where(FeedbackDelivery.id == row.id)).one()
        assert sent.status == "sent"
    assert [m["to"] for m in gateway] == ["13800000000"]
    assert "停止使用过期药品" in gateway[0]["text"] and "请求复查" in gateway[0]["text"]
