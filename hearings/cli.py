"""The ``hearings`` command: serve, demo, and the ``db`` migrations of Flask-Migrate."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from hearings import create_app
from hearings.extensions import db


def prepare_database() -> None:
    """Bring the schema up to date and make sure the agreement's courts exist."""
    from hearings.courts.seed import ensure_courts

    upgrade()
    ensure_courts()


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Video hearings, mediation, witnessing and liaison for the Luoyang and Luohe courts."""


@main.command("serve")
@click.option("--demo", is_flag=True, help="Seed both courts with demo staff, rooms, sessions.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(demo: bool, host: str, port: int) -> None:
    """Run the service (embedded SQLite by default; migrations applied at start)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    prepare_database()
    if demo:
        from hearings.demo import seed_demo

        password = app.config["DEMO_PASSWORD"]
        if seed_demo(password):
            click.echo("Demo data seeded: both courts, their staff, rooms and a week of sessions.")
        click.echo(f"Sign in at http://{host}:{port}/login")
        click.echo("  users: luoyang-judge1 … luoyang-judge3, luoyang-clerk1, luoyang-mediator1,")
        click.echo("         luoyang-liaison1, luoyang-admin1, and the same for luohe-…")
        click.echo(f"  password: {password!r} (HEARINGS_DEMO_PASSWORD)")
        click.echo(f"API: http://{host}:{port}/api/v1/openapi.json")
    # Release this command's connection: on SQLite an open transaction holds the write lock.
    db.session.remove()
    # Flask's app.run() refuses to run under its own CLI; serve with werkzeug directly.
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command("demo")
@with_appcontext
def demo() -> None:
    """Seed the demo data without serving."""
    from hearings.demo import seed_demo

    prepare_database()
    if seed_demo(current_app.config["DEMO_PASSWORD"]):
        click.echo("Demo data seeded.")
    else:
        click.echo("The database already has staff; nothing seeded.")
