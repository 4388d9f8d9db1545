"""An officer's enforcement certificate has a last valid day (issue 15): the administrator enters it
where the certificate number is entered, a date that is not one is refused with a sentence and
nothing is written; pickers find people by the pinyin initials of their names."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from processes.directory.models import User
from tests.web.conftest import COUNTY_A, ready_task, start_lead
from web.pickers import pinyin_initials


def _edit(certificate_valid_until: str) -> dict[str, Any]:
    return {"display_name": "李娜", "unit_id": COUNTY_A, "roles": ["officer"], "certificate_no": "C-A-2",
            "certificate_valid_until": certificate_valid_until, "password": "", "active": "1"}


def test_the_certificate_validity_is_entered_by_the_administrator_and_a_wrong_date_is_refused(
        as_user: Any, session: Session) -> None:
    admin = as_user("admin")
    refused = admin.post("/admin/users/officer.a2", _edit("2030-02-30"))
    assert refused.status_code == 422
    assert "执法证有效期请按YYYY-MM-DD填写" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, "officer.a2").certificate_valid_until is None  # type: ignore[union-attr]

    assert admin.post("/admin/users/officer.a2", _edit("2030-06-30")).status_code == 302
    session.expire_all()
    assert session.get(User, "officer.a2").certificate_valid_until == date(2030, 6, 30)  # type: ignore[union-attr]
    assert 'value="2030-06-30"' in admin.get("/admin/users/officer.a2").get_data(as_text=True)
    assert "执法证有效至2030-06-30" in admin.get("/admin/users").get_data(as_text=True)

    assert admin.post("/admin/users/officer.a2", _edit("")).status_code == 302  # cleared: not recorded
    session.expire_all()
    assert session.get(User, "officer.a2").certificate_valid_until is None  # type: ignore[union-attr]


def test_names_are_found_by_the_initials_of_each_reading() -> None:
    assert pinyin_initials("张伟") == "zw"
    assert pinyin_initials("李娜") == "ln"
    # 单 is read dan or shan (as a surname, Shan): both initials find 单明
    assert set(pinyin_initials("单明").split()) >= {"dm", "sm"}
    assert pinyin_initials("宝鸡渭滨康宁诊所").startswith("bjwbknzs")


def test_the_reassignment_picker_shows_validity_and_can_be_searched(as_user: Any, session: Session) -> None:
    """The head's 改派 list is a picker like the form's: each person with what finds them and a label
    with certificate, unit and validity (an expired certificate is marked, not hidden)."""
    officer = session.get(User, "officer.a")
    assert officer is not None
    officer.certificate_valid_until = date(2020, 1, 31)
    session.commit()
    task = ready_task(session, start_lead(session).id)
    page = as_user("head.a").get(f"/tasks/{task.id}").get_data(as_text=True)
    assignee = page[page.index('id="assignee"'):]
    assignee = assignee[:assignee.index("</select>")]
    assert "data-picker=" in assignee and "picker.js" in page
    assert 'value="officer.a" data-name="张伟" data-initials="zw" data-codes="officer.a C-A-1"' in assignee
    assert "张伟（C-A-1） · 执法人员 · " in assignee and "执法证已过期" in assignee


def test_the_oversight_bulk_list_labels_people_with_unit_and_validity(as_user: Any, session: Session) -> None:
    officer = session.get(User, "officer.a")
    assert officer is not None
    officer.certificate_valid_until = date(2020, 1, 31)
    session.commit()
    start_lead(session)
    page = as_user("head.a").get("/oversight").get_data(as_text=True)
    bulk = page[page.index('id="bulk-assignee"'):]
    bulk = bulk[:bulk.index("</select>")]
    assert 'data-initials="zw"' in bulk and "张伟（C-A-1） · 执法人员 · " in bulk and "执法证已过期" in bulk
