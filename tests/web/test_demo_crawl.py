"""Every demo role clicks through the demo (what a new agency sees first after ``make run``).

Signed in as each demo user (clerk, officer, legal reviewer, head, administrator) and as a
citizen on the public site, the test follows every internal link breadth-first from the start
page, at most ``PER_SHAPE`` pages of one URL shape (a case page is a case page, whichever case)
and ``MAX_PAGES`` pages per role, and fails listing every page that:

* answers 5xx, or a link that leads to 403/404 (a link a person is shown but may not follow);
* shows a raw identifier (``doc_filing_report``, ``penalty_ordinary``), a Python repr
  (``{'risk_normal': 1}``, ``None``) in its visible text;
* shows a run of three or more English words on the Chinese UI outside an element marked
  ``lang="en"`` (a string that missed ``_()`` or its translation).

Downloads (PDF, XLSX, CSV, XML, ZIP, JSON) are not fetched: rendering documents is their own
tests' work. Only GET requests: nothing here changes the demo.
"""

from __future__ import annotations

import re
import shutil
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from flask import Flask

from engine.settings import Settings
from tests.web.conftest import Browser

DEMO_PASSWORD = "weijian-demo"
ROLES = ["sun.li", "zhang.wei", "chen.jing", "zhao.lei", "admin"]  # clerk, officer, reviewer, head, admin
MAX_PAGES = 90
PER_SHAPE = 2
SKIP = re.compile(r"\.(pdf|xlsx|csv|xml|zip|json|svg|png|js|css)(\?|$)|/documents/|/export|/download|/static/"
                  r"|/archives/|/record\.|/report\.|/modeler|/api/|/metrics")
IDENTIFIER = re.compile(r"(?<![\w./-])[a-z]+(?:_[a-z0-9]+)+(?![\w.(/-])")
REPR = re.compile(r"\{'|\[\{|\[\]|\{\}|(?<![\w-])(None|True|False)(?![\w-])|<[A-Za-z.]+ object at")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")
# Pages that show text as it was written elsewhere: the process definitions' own files. (The rules
# pages, the decision tables and the draw record speak Chinese now and are checked like any page.)
AUTHORED = re.compile(r"^/admin/processes")
# Defects seen here and left to the engineer whose work in progress they are in: (text on the
# linking page, linked path prefix, status). Each names where it is; remove it once fixed.
KNOWN: list[tuple[str, str, int]] = []  # (marker in the linking page, link prefix, status it explains)
ID_PART = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f-]{27}|\d+|[0-9A-Z]{18}|TS\d+)(?=/|$)")


class VisibleText(HTMLParser):
    """Text a person reads: not scripts, styles, code or raw fields, nor anything marked
    ``lang="en"`` (English on purpose); and the page's links."""

    OPAQUE: ClassVar[set[str]] = {"script", "style", "code", "pre", "textarea", "svg", "kbd", "samp"}
    VOID: ClassVar[set[str]] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                                "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: is the text inside it hidden from the check
        self.texts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in self.VOID:
            return
        hidden = (self.stack[-1] if self.stack else False) or tag in self.OPAQUE or \
            (values.get("lang") or "zh").startswith("en") or "data-raw" in values
        self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data.strip())


@pytest.fixture(scope="module")
def demo_app(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a database with every package deployed and the demo loaded (``make run``)."""
    from celery import current_app as current_celery

    from engine.actor import SYSTEM
    from integrations.celery_app import celery_app
    from processes.demo_data import load_demo
    from processes.registry import deploy_packages
    from web.app import create_app
    from web.extensions import db, dbs

    folder = tmp_path_factory.mktemp("demo-crawl")
    shutil.copyfile(_sqlite_template, folder / "demo.db")
    previous = current_celery._get_current_object()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEIJIAN_PENALTY_PDF", "0")
        app = create_app(Settings(database_url=f"sqlite:///{folder / 'demo.db'}"),
                         {"TESTING": True, "UPLOAD_DIR": str(folder / "uploads")})
        with app.app_context():
            deploy_packages(dbs(), SYSTEM)
            dbs().commit()
            load_demo(dbs())
            dbs().commit()
            db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    (previous if previous is not None else celery_app).set_current()


def shape(url: str) -> str:
    parsed = urlparse(url)
    keys = sorted(p.split("=")[0] for p in parsed.query.split("&") if p)
    return ID_PART.sub("/N", parsed.path) + "?" + "&".join(keys)


def crawl(client: Browser, start: str, stay_under: str = "/") -> list[str]:
    problems: list[str] = []
    seen, shapes = {start}, {shape(start): 1}
    queue: deque[tuple[str, str]] = deque([(start, "start")])
    excused: dict[str, int] = {}  # link -> the status a KNOWN defect of its linking page explains
    visited = 0
    while queue and visited < MAX_PAGES:
        url, came_from = queue.popleft()
        visited += 1
        response = client.get(url)
        where = f"{url} (linked from {came_from})"
        if response.status_code >= 400:
            if excused.get(url) != response.status_code:
                problems.append(f"{where}: HTTP {response.status_code}")
            continue
        if response.status_code in (301, 302, 303):
            moved = urlparse(urljoin(url, response.headers.get("Location", "")))
            local = moved.path + (f"?{moved.query}" if moved.query else "")
            if local not in seen:
                seen.add(local)
                queue.appendleft((local, url))
            continue
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        page = VisibleText()
        page.feed(html)
        authored = AUTHORED.match(urlparse(url).path) is not None
        for text in page.texts:
            if REPR.search(text):
                problems.append(f"{where}: Python value in {text[:100]!r}")
            if authored:
                continue
            for found in IDENTIFIER.findall(text):
                problems.append(f"{where}: raw identifier {found!r} in {text[:100]!r}")
            problems += [f"{where}: English on the Chinese page: {m!r}" for m in ENGLISH.findall(text)]
        known = [(prefix, status) for marker, prefix, status in KNOWN if marker in html]
        for href in page.links:
            target, _ = urldefrag(urljoin(url, href))
            parsed = urlparse(target)
            if parsed.netloc not in ("", "localhost") or parsed.scheme not in ("", "http"):
                continue
            local = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if local in seen or SKIP.search(local) or not parsed.path.startswith(stay_under) \
                    or parsed.path in ("/logout", "/login"):
                continue
            seen.add(local)
            key = shape(local)
            if shapes.get(key, 0) >= PER_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append((local, url))
            for prefix, status in known:
                if local.startswith(prefix):
                    excused[local] = status
    assert visited > 5, f"only {visited} pages reached from {start}"
    print(f"{start}: {visited} pages, {len(seen)} links")
    return problems


@pytest.mark.parametrize("login", ROLES)
def test_every_page_a_demo_user_reaches_works_and_speaks_chinese(demo_app: Flask, login: str) -> None:
    client = Browser(demo_app.test_client())
    response = client.login(login, DEMO_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    problems = crawl(client, "/")
    assert problems == [], "\n".join(dict.fromkeys(problems))


def test_every_public_page_a_citizen_reaches_works_and_speaks_chinese(demo_app: Flask) -> None:
    problems = crawl(Browser(demo_app.test_client()), "/public/", stay_under="/public/")
    assert problems == [], "\n".join(dict.fromkeys(problems))


def test_a_unit_a_complaint_was_forwarded_to_opens_it_from_its_task(demo_app: Flask) -> None:
    """The demo forwards a complaint from 宝鸡市 to 渭滨区: its clerk must read it before receiving
    or objecting (it was a 404), and a legal reviewer who sees the case gets no link to a 403."""
    from sqlalchemy import select

    from engine.models import HumanTask, ProcessInstance
    from processes.complaints.models import Complaint
    from web.extensions import db

    with demo_app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.status == "forwarding"))
        assert complaint is not None and complaint.unit_id == "610300"
        received = db.session.scalar(select(ProcessInstance).where(
            ProcessInstance.business_key == complaint.tracking_no, ProcessInstance.process_key == "complaint_received"))
        assert received is not None and received.unit_id == "610302"
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == received.id,
                                                         HumanTask.status == "ready"))
        assert task is not None
        ids = complaint.id, received.id, task.id
        db.session.remove()
    clerk = Browser(demo_app.test_client())
    clerk.login("sun.li", DEMO_PASSWORD)
    task_page = clerk.get(f"/tasks/{ids[2]}").get_data(as_text=True)
    assert f'href="/complaints/{ids[0]}"' in task_page
    shown = clerk.get(f"/complaints/{ids[0]}")
    assert shown.status_code == 200 and complaint.tracking_no in shown.get_data(as_text=True)
    reviewer = Browser(demo_app.test_client())
    reviewer.login("chen.jing", DEMO_PASSWORD)
    case_page = reviewer.get(f"/cases/{ids[1]}").get_data(as_text=True)
    assert complaint.tracking_no in case_page and f"/complaints/{ids[0]}" not in case_page


def test_staff_and_public_pages_name_an_icon_that_is_served(demo_app: Flask) -> None:
    """Without one every browser asks for /favicon.ico first: a 404 and a console error per visit."""
    client = Browser(demo_app.test_client())
    for url in ("/login", "/public/"):
        found = re.search(r'<link rel="icon" href="([^"]+)"', client.get(url).get_data(as_text=True))
        assert found, url
        icon = client.get(found.group(1))
        icon.close()  # a static file's stream
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
