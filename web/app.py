"""Flask application factory. Never starts the scheduler (``weijian serve`` does, once)."""

from __future__ import annotations

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from engine.db import Base
from engine.dbconnect import engine_options, install_sqlite_pragmas
from engine.settings import Settings

db = SQLAlchemy(model_class=Base)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=engine_url(settings.database_url),
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        WEIJIAN_SETTINGS=settings,
    )
    db.init_app(app)
    with app.app_context():
        # Same per-dialect settings (SQLite WAL, busy timeout) as workers and the CLI.
        install_sqlite_pragmas(db.engine)

    from .views import bp

    app.register_blueprint(bp)
    return app


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
