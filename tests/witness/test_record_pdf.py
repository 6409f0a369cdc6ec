"""The witness record as PDF: the same content as the printable page, Chinese intact,
access-controlled like the record, and every export logged with the document's hash."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pypdf
import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Session
from hearings.witness.models import Recording
from hearings.witness.record_pdf import record_pdf
from hearings.witness.script import POWER_LABELS
from tests.fixtures.witness import valid_id
from tests.witness.test_integrity import write_segment

ZENHEI = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@pytest.fixture
def sealed(app, witness, recording):
    """A complete witnessing of two special powers, two segments, sealed."""
    rid = recording(["admit_claims", "settle"])["id"]
    db.session.commit()
    write_segment(app, rid, 1, os.urandom(4000))
    call = witness["call"]
    steps = [("undertaking", None), ("power", "admit_claims"), ("power", "settle"),
             ("agent_accepts", None), ("attestation", None)]  # fmt: skip
    for step, power in steps:
        marked = call("POST", f"/recordings/{rid}/steps", json={"step": step, "power": power})
        assert marked.status_code == 201, marked.json
    write_segment(app, rid, 2, os.urandom(3000))
    stopped = call("POST", f"/recordings/{rid}/stop", json={})
    assert stopped.status_code == 200, stopped.json
    return stopped.json


def text_of(pdf: bytes) -> str:
    """The PDF's text with all white space removed (table cells wrap long values)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_holds_the_record_and_its_export_is_logged(witness, sealed):
    rid = sealed["id"]
    response = witness["call"]("GET", f"/recordings/{rid}/record.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="witness-record-{rid}.pdf"'
    )
    text = text_of(response.data)
    number = valid_id()
    for expected in (
        "委托代理视频见证笔录",
        "(2026)豫03民初1号",
        "赵六", "钱律师",  # principal, agent
        number[:4] + "*" * 10 + number[-4:],  # the identity check, masked
        "受托人接受委托", "见证人员确认",
        *(POWER_LABELS[p].replace(" ", "") for p in ("admit_claims", "settle")),
        *(s["sha256"] for s in sealed["segments"]),
        sealed["manifest"]["key_id"], sealed["signature"],
    ):  # fmt: skip
        assert expected in text, expected
    assert number not in text
    # Each power with its time mark in the recording.
    for mark in sealed["manifest"]["script"]:
        assert f"开始后{mark['elapsed_seconds']:.1f}safterstart" in text
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    exported = [e for e in log if e["action"] == "exported"]
    assert exported[-1]["detail"] == {
        "document": "witness record", "format": "pdf",
        "sha256": hashlib.sha256(response.data).hexdigest(), "bytes": len(response.data),
    }  # fmt: skip
    assert witness["call"]("GET", f"/recordings/{rid}/verify").json["ok"] is True


def test_the_record_page_links_its_pdf_for_a_signed_in_officer(client, witness, sealed):
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(witness["officer"].id)
    page = client.get(f"/recordings/{sealed['id']}/record")
    assert page.status_code == 200
    assert f'href="/recordings/{sealed["id"]}/record.pdf"' in page.text
    pdf = client.get(f"/recordings/{sealed['id']}/record.pdf")
    assert pdf.status_code == 200 and "(2026)豫03民初1号" in text_of(pdf.data)


def test_parties_and_other_courts_get_403_and_it_is_logged(client, witness, sealed, court_staff):
    rid = sealed["id"]
    path = f"/recordings/{rid}/record.pdf"
    assert witness["call"]("GET", path, as_=court_staff["luohe-clerk1"]).status_code == 403
    token = witness["session"]["tokens"]["principal"]
    by_token = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 403
    assert client.get(f"/api/v1{path}").status_code == 401
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    denied = [e["detail"] for e in log if e["action"] == "access_denied"]
    # The principal is of the session: in custody. The other court's clerk is not: audit only.
    assert [d.get("role") for d in denied] == ["principal"]
    audited = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "access.denied")
    ).all()
    assert any(d.get("what") == f"export recording {rid}" for d in audited)
    assert [e for e in log if e["action"] == "exported"] == []


def test_a_missing_font_file_is_named(app, witness, sealed):
    app.config["RECORD_PDF_FONT"] = "/nonexistent/wqy-zenhei.ttc"
    response = witness["call"]("GET", f"/recordings/{sealed['id']}/record.pdf")
    assert response.status_code == 500
    assert response.json["detail"].startswith(
        "HEARINGS_RECORD_PDF_FONT is /nonexistent/wqy-zenhei.ttc, and there is no such file"
    )


@pytest.mark.skipif(not ZENHEI.is_file(), reason="fonts-wqy-zenhei is not installed")
def test_a_configured_font_is_embedded(app, witness, sealed):
    app.config["RECORD_PDF_FONT"] = str(ZENHEI)
    response = witness["call"]("GET", f"/recordings/{sealed['id']}/record.pdf")
    assert response.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    assert any("/FontFile2" in f["/FontDescriptor"] for f in fonts if "/FontDescriptor" in f)
    assert "(2026)豫03民初1号" in text_of(response.data)


def test_the_signature_line_stays_with_the_seal_on_every_length(app, witness, recording):
    """However far down the page the segments push the record's end, the officer's
    signature line never goes to a page of its own: it stays with the seal it signs."""
    rid = recording()["id"]
    db.session.commit()
    for n in range(1, 41):
        write_segment(app, rid, n, os.urandom(100 + n))
    stopped = witness["call"]("POST", f"/recordings/{rid}/stop", json={"reason": "测试"})
    assert stopped.status_code == 200, stopped.json
    row = db.session.get(Recording, rid)
    session, manifest = db.session.get(Session, row.session_id), json.loads(row.manifest)
    for count in range(1, 41):  # each length moves the end a row further down
        shorter = SimpleNamespace(**{c: getattr(row, c) for c in RECORD_FIELDS},
                                  segments=row.segments[:count], marks=row.marks)  # fmt: skip
        pdf = record_pdf(shorter, session, [], manifest, "test")
        pages = ["".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
        signed = next(i for i, text in enumerate(pages) if "Officer'ssignature" in text)
        assert "Sealandsignature" in pages[signed], (count, len(pages))


RECORD_FIELDS = ("id", "status", "stop_reason", "started_at", "stopped_at", "sealed_at",
                 "signature", "retain_until", "legal_hold", "legal_hold_reason")  # fmt: skip
