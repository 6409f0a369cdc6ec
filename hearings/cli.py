"""The ``hearings`` command: serve, demo, and the ``db`` migrations of Flask-Migrate."""

from __future__ import annotations

import os
import signal
from datetime import datetime, time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from flask_migrate import upgrade

from hearings import create_app
from hearings.errors import HearingsError
from hearings.extensions import db
from hearings.keys import EX_CONFIG, KeyRefused
from hearings.logs import configure as configure_logs
from hearings.serving import serve as serve_forever


def prepare_database() -> None:
    """Bring the schema up to date and make sure the agreement's courts exist."""
    from hearings.courts.seed import ensure_courts

    upgrade()
    ensure_courts()


def _app_for_command() -> Flask:
    """The app for the command being run: ``serve --demo`` and ``demo`` may use the
    instance folder's random key; every other command needs the configured keys."""
    ctx = click.get_current_context(silent=True)
    name = ctx.command.name if ctx is not None else None
    demo = name == "demo" or (name == "serve" and bool(ctx and ctx.params.get("demo")))
    try:
        return create_app(demo=demo)
    except KeyRefused as refused:
        if ctx is not None and ctx.command is main:
            # Only listing the commands (``--help``): say why, without a traceback.
            raise NoAppException(str(refused)) from None
        raise


class ServiceGroup(FlaskGroup):
    """Refused keys end any command with their one line and status 78 (EX_CONFIG)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyRefused as refused:
            click.echo(str(refused), err=True)
            ctx.exit(EX_CONFIG)


@click.group(cls=ServiceGroup, create_app=_app_for_command, add_version_option=False)
def main() -> None:
    """Video hearings, mediation, witnessing and liaison for the Luoyang and Luohe courts."""


@main.command("serve")
@click.option("--demo", is_flag=True, help="Seed both courts with demo staff, rooms, sessions.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Don't run reminders and the outbox here (a `hearings scheduler` process does).",
)
@with_appcontext
def serve(demo: bool, host: str, port: int, no_scheduler: bool) -> None:
    """Run the service (embedded SQLite by default; migrations applied at start)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    configure_logs(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    if not os.environ.get("HEARINGS_SITE_URL"):
        # Join links, invites and the WebSocket origin check name the address served here.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        app.config["SITE_URL"] = f"http://{shown}:{port}"
        if shown != host:
            click.echo(
                f"Links name {app.config['SITE_URL']}; set HEARINGS_SITE_URL to the address "
                "others reach this machine at.",
                err=True,
            )
    site = app.config["SITE_URL"].rstrip("/")
    prepare_database()
    if demo:
        from hearings.demo import seed_demo

        password = app.config["DEMO_PASSWORD"]
        if seed_demo(password):
            click.echo("Demo data seeded: both courts, their staff, rooms and a week of sessions.")
        click.echo(f"Sign in at {site}/login")
        click.echo("  users: luoyang-judge1 … luoyang-judge3, luoyang-clerk1, luoyang-mediator1,")
        click.echo("         luoyang-liaison1, luoyang-admin1, and the same for luohe-…")
        click.echo(f"  password: {password!r} (HEARINGS_DEMO_PASSWORD)")
        click.echo(f"API: {site}/api/v1/openapi.json")
    # Release this command's connection: on SQLite an open transaction holds the write lock.
    db.session.remove()
    from hearings.notify.reminders import start_scheduler, stop_scheduler
    from hearings.rooms import shutdown_rooms

    if not no_scheduler:
        start_scheduler(app)
    if app.config["RECORDER_MODE"] == "embedded" and app.config["RECORDER_ENABLED"]:
        from hearings.witness.worker import sweep_when_serving

        sweep_when_serving(app, host, port)  # resume recordings a dead process left
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        # Flask's app.run() refuses to run under its own CLI; serve with werkzeug directly.
        serve_forever(app, host, port)
    finally:
        # Rooms are told to reconnect (1012); running jobs (an outbox pass) finish first.
        shutdown_rooms(app)
        stop_scheduler(app)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops the server like Ctrl-C, through the ``finally`` that shuts down."""
    raise SystemExit(0)


@main.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run reminders and the outbox alone (for several web workers started with
    `--no-scheduler`); stops on Ctrl-C or SIGTERM."""
    import threading

    from hearings.notify.reminders import start_scheduler, stop_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    configure_logs(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    prepare_database()
    db.session.remove()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    start_scheduler(app)
    click.echo("Scheduler running: reminders and the outbox. Ctrl-C stops it.")
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop_scheduler(app)
        click.echo("Scheduler stopped.")


@main.command("recorder")
@with_appcontext
def recorder() -> None:
    """Run the witness recorders (for HEARINGS_RECORDER_MODE=external): take recordings
    from the database, resume those a dead recorder left; stops on Ctrl-C or SIGTERM."""
    import logging
    import threading

    from hearings.witness.services import at_the_sfu, recorder_mode
    from hearings.witness.worker import RecorderService

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if at_the_sfu():
        raise click.ClickException(
            "HEARINGS_JANUS_URL is set: Janus records every session, driven by the app "
            "process holding the room's media; there is nothing for `hearings recorder` to do."
        )
    configure_logs(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    for chatty in ("aioice", "aiortc"):  # every ICE check at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if recorder_mode() != "external":
        click.echo("Note: HEARINGS_RECORDER_MODE is embedded: the app records too.", err=True)
    db.session.remove()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("Recorder running: witness recordings from the database. Ctrl-C stops it.")
    RecorderService(app).run(stop)
    click.echo("Recorder stopped.")


@main.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Bring the database schema up to date and load the courts (run once per release,
    before the app instances start)."""
    prepare_database()
    click.echo("Database up to date.")


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


class CourtGroup(click.Group):
    """Commands whose domain errors print as one clear line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HearingsError as error:
            raise click.ClickException(error.detail) from None


@main.group("court", cls=CourtGroup)
def court_group() -> None:
    """Edit a court's calendar: seasonal hours and closures."""


def _parse_span(text: str) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not HH:MM-HH:MM") from None
    return opens, closes


@court_group.command("hours")
@click.argument("court_id")
@click.argument("season", type=click.Choice(["summer", "winter"]))
@click.option("--from", "starts", required=True, help="First day of the season, MM-DD.")
@click.option("--morning", required=True, help="HH:MM-HH:MM")
@click.option("--afternoon", required=True, help="HH:MM-HH:MM")
@with_appcontext
def court_hours(court_id: str, season: str, starts: str, morning: str, afternoon: str) -> None:
    """Set a court's summer or winter timetable."""
    from hearings.courts.services import get_court, set_timetable

    try:
        month, day = (int(part) for part in starts.split("-"))
    except ValueError:
        raise click.BadParameter(f"{starts!r} is not MM-DD", param_hint="--from") from None
    set_timetable(
        get_court(court_id), season, (month, day), _parse_span(morning), _parse_span(afternoon)
    )
    db.session.commit()
    click.echo(f"{court_id}: {season} from {month:02d}-{day:02d}, {morning}, {afternoon}")


@court_group.command("close")
@click.argument("court_id")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("reason")
@with_appcontext
def court_close(court_id: str, day: datetime, reason: str) -> None:
    """Close a court for a day (besides the national holidays)."""
    from hearings.courts.services import close_court, get_court

    close_court(get_court(court_id), day.date(), reason)
    db.session.commit()
    click.echo(f"{court_id} closed on {day.date().isoformat()}: {reason}")


@court_group.command("reopen")
@click.argument("court_id")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@with_appcontext
def court_reopen(court_id: str, day: datetime) -> None:
    """Lift a court's closure on a day."""
    from hearings.courts.services import get_court, reopen_court

    found = reopen_court(get_court(court_id), day.date())
    db.session.commit()
    click.echo(f"{court_id} reopened on {day.date().isoformat()}" if found else "no closure then")


@main.command("verify-recording")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def verify_recording(path: Path) -> None:
    """Verify a witness recording's folder: segment hashes, custody chain, signature."""
    from hearings.witness.archive import tsa_ca
    from hearings.witness.manifest import manifest_keys
    from hearings.witness.verify import verify_folder

    result = verify_folder(path, manifest_keys().verifying, tsa_ca())
    for fault in result["faults"]:
        click.echo(f"FAULT {fault['code']}: {fault['message']}")
    if not result["ok"]:
        raise click.ClickException(f"{path}: {len(result['faults'])} fault(s); not verified")
    segments = len(result["manifest"]["segments"])
    click.echo(f"OK {path}: {segments} segment(s), custody chain and signature verified")
