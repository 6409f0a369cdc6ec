"""hearings: video hearings, mediation, witnessing and liaison between two courts."""

from __future__ import annotations

import logging
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from hearings.browser import shipped_folder, static_folder
from hearings.config import Config, from_environment
from hearings.errors import register_error_handlers
from hearings.extensions import db, login_manager, migrate, sock
from hearings.i18n import weekday_name
from hearings.inputs import init_app as init_inputs
from hearings.keys import check_keys, demo_secret_key
from hearings.timekeeping import isoformat, local
from hearings.tokens import KeyRing

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
#: The domain packages, in the order their imports run (README, "Layout"): each has an
#: ``init_app`` that registers all it brings (words, blueprints, signal receivers).
PACKAGES = (
    "hearings.courts",
    "hearings.scheduling",
    "hearings.rooms",
    "hearings.witness",
    "hearings.notify",
)


def _configure_sqlite(engine: sa.Engine) -> None:
    """SQLite: foreign keys on, WAL, and BEGIN IMMEDIATE so check-then-insert can't race."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A transaction that may write takes the write lock at once: a booking's conflict
        # check and its insert then run under one lock, and it never fails on upgrading a
        # read lock. Safe-method requests only read and need not queue behind writers.
        # (A WebSocket arrives as a GET but records attendance: it takes the lock too, as do
        # views marked ``writes_on_read``, such as a recording's view, which is logged.)
        read_only = (
            has_request_context()
            and request.method in ("GET", "HEAD", "OPTIONS")
            and not request.path.startswith("/ws/")
            and not getattr(
                current_app.view_functions.get(request.endpoint or ""), "writes_on_read", False
            )
        )
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_app(test_config: dict[str, Any] | None = None, *, demo: bool = False) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers.

    Raises ``KeyRefused`` (one line naming the setting) when the keys can't be trusted;
    ``demo`` without a secret key uses the random one kept in the instance folder."""
    settings = {**from_environment(), **(test_config or {})}
    app = Flask(
        __name__,
        instance_path=settings.get("INSTANCE_PATH"),
        instance_relative_config=True,
        template_folder=shipped_folder("templates", "base.html"),
        static_folder=static_folder(),
        static_url_path="/static",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable
    app.config.from_object(Config)
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if demo and not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = demo_secret_key(Path(app.instance_path))
    check_keys(app.config, demo=demo, testing=app.testing)

    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'hearings.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    init_inputs(app)  # the ``id`` path converter, before any route is added
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"timeout": 30, "check_same_thread": False},
        }

    app.extensions["hearings.keyring"] = KeyRing.parse(
        app.config["SIGNING_KEYS"], app.config["SECRET_KEY"]
    )

    if int(app.config["TRUSTED_PROXIES"]) > 0:
        # Only the addresses the trusted proxies appended count: the client's own
        # X-Forwarded-For is never believed (the sign-in limit per address relies on it).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=int(app.config["TRUSTED_PROXIES"])
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "courts.login"
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    for package in PACKAGES:  # every table known before any query
        import_module(f"{package}.models")
    from hearings import api, browser, csrf, health, i18n, logs
    from hearings.page_errors import render_error_page

    # The core first, then each package in the order imports run (each registers its own
    # words, blueprints and signal receivers), then the API they mounted.
    for core in (health, browser, logs, i18n, csrf):
        core.init_app(app)
    sock.init_app(app)
    for package in PACKAGES:
        import_module(package).init_app(app)
    api.init_app(app)
    register_error_handlers(app, render_error_page, db.session.rollback)

    @app.teardown_request
    def _end_transaction(error: BaseException | None) -> None:
        # Release the connection's transaction as soon as the request is done (on SQLite
        # an open transaction may hold the write lock); the app context's teardown would
        # too, but an app context can outlive its requests (tests, long WebSockets).
        session = db.session()
        if error is None and not (session.new or session.dirty or session.deleted):
            session.commit()  # nothing to write: this only ends the read
        else:
            session.rollback()

    app.add_template_filter(isoformat, "iso")

    @app.template_filter("localtime")
    def _localtime(value, fmt: str = "%Y-%m-%d %H:%M"):  # type: ignore[no-untyped-def]
        return local(value).strftime(fmt)

    @app.template_filter("weekday")
    def _weekday(value: datetime) -> str:
        return weekday_name(local(value).date())

    return app
