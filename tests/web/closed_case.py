"""A database with a real closed ordinary penalty case (and one still under investigation) for the
case-page tests: driven through the engine by ``tests.penalty.driver`` (every step, its service
tasks and generated documents, from the lead to the archive), then given the driver's unit and
staff as directory rows (when the driver's template has not already) so they can sign in and see
the cases.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from engine.dbconnect import make_engine
from processes.directory.models import Unit, User
from processes.directory.services import create_unit, create_user, set_password
from tests.penalty.driver import NAMES, UNIT, UNIT_NAME, PenaltyWorld, officer, prepare_template
from tests.web.conftest import PASSWORD

ROLES = {"head1": ["head", "officer"], "reviewer1": ["legal_reviewer"]}


@dataclass(frozen=True)
class CaseDatabase:
    url: str
    closed: str  # instance id of the closed case
    running: str  # instance id of a case waiting for its investigation


def build(sqlite_template: Path, folder: Path) -> CaseDatabase:
    path = folder / "cases.db"
    shutil.copyfile(sqlite_template, path)
    signers = prepare_template(path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        world = PenaltyWorld(sessionmaker(engine, expire_on_commit=False), signers)
        world.set_day("2025-09-01")
        closed = world.start()
        world.run_until(closed, "approve_closing")
        world.submit(closed, "approve_closing")
        world.set_day("2025-09-08")
        running = world.start()
        world.run_until(running, "investigate")
        with Session(engine) as session:
            if session.get(Unit, UNIT) is None:
                create_unit(session, "SH", "上海市卫生健康委员会", "province", "310000", None, "沪")
                session.flush()
                create_unit(session, UNIT, UNIT_NAME, "county", "310113", "SH", "宝")
                session.flush()
            for user_id, name in NAMES.items():
                roles = ROLES.get(user_id, ["officer"])
                user = session.get(User, user_id)
                if user is None:
                    create_user(session, user_id, name, UNIT, roles, PASSWORD,
                                officer(user_id)["certificate_no"] if "officer" in roles else None)
                else:  # the driver's template already lists its staff: let them sign in
                    set_password(user, PASSWORD)
            session.commit()
        return CaseDatabase(f"sqlite:///{path}", world.case(closed).instance_id, world.case(running).instance_id)
    finally:
        engine.dispose()
