"""The witnessing's pages: the printable witness record (见证笔录), on screen and as PDF."""

from __future__ import annotations

import json

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from hearings.extensions import db, writes_on_read
from hearings.witness import archive, script, services
from hearings.witness.access import require_recording_access
from hearings.witness.views import identity_checks_of, record_pdf_response
from hearings.witness.words import record_label

pages = Blueprint("witness", __name__)


@pages.get("/recordings/<id:recording_id>/record")
@writes_on_read
@login_required
def witness_record(recording_id: int):
    """The printable witness record (见证笔录) of a sealed recording."""
    recording = services.load_recording(recording_id)
    session = require_recording_access(current_user, recording, f"view recording {recording_id}")
    services.witness_record_of(session, recording_id)
    archive.log_access(recording, current_user, "viewed", page="witness record")
    db.session.commit()
    return render_template(
        "witness_record.html", recording=recording, session=session,
        manifest=json.loads(recording.manifest) if recording.manifest else None,
        power_labels=script.POWER_LABELS, step_labels=script.STEP_LABELS,
        role_labels=script.ROLE_LABELS, checks=identity_checks_of(session),
        record_label=record_label,
    )  # fmt: skip


@pages.get("/recordings/<id:recording_id>/record.pdf")
@writes_on_read
@login_required
def witness_record_pdf(recording_id: int):
    """The witness record as PDF (the export enters the custody log with its hash)."""
    return record_pdf_response(current_user, recording_id)
