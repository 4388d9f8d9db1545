"""The portal checks the chosen area with one row (not the whole list the form shows): an unknown
or deactivated unit is refused, nothing is stored, and the form comes back listing the active units."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from processes.complaints.models import Complaint
from processes.directory.models import Unit
from tests.web.conftest import COUNTY_A, COUNTY_B
from tests.web.test_complaints_web import _file, _filed, complaints_db  # noqa: F401 - the fixture


def test_an_unknown_or_deactivated_area_is_refused_and_nothing_stored(app: Flask,
                                                                      complaints_db: Session) -> None:  # noqa: F811
    complaints_db.execute(update(Unit).where(Unit.id == COUNTY_B).values(active=False))
    complaints_db.commit()
    citizen = app.test_client()
    for unit in (COUNTY_B, "999999", ""):
        refused = _file(citizen, unit_id=unit)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "请选择事发地区" in page
        assert f'value="{COUNTY_A}"' in page and f'value="{COUNTY_B}"' not in page  # the active units, again
    complaints_db.expire_all()
    assert complaints_db.scalar(select(func.count()).select_from(Complaint)) == 0
    number, _code = _filed(_file(citizen, unit_id=COUNTY_A))
    assert complaints_db.scalar(select(Complaint.unit_id).where(Complaint.tracking_no == number)) == COUNTY_A
