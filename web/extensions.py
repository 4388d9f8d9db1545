"""Flask extensions shared by the blueprints (one module, so no blueprint imports the factory)."""

from __future__ import annotations

from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

# Only the session and engine are used: models live on ``engine.db.Base`` (SQLAlchemy 2.1 refuses
# to subclass a base that has its own type_annotation_map, which ``model_class=Base`` would do).
db = SQLAlchemy()
csrf = CSRFProtect()
babel = Babel()


def dbs() -> Session:
    """The current request's (or app context's) SQLAlchemy session, typed as a plain ``Session``:
    ``db.session`` is a scoped proxy, while services and engine verbs take a ``Session``."""
    return db.session()
