"""The witness record (见证笔录) as a PDF: the content of ``witness_record.html``, on paper.

reportlab draws it. Chinese needs a font: by default the PDF names the standard CID font
STSong-Light, which needs no font file on the server (the reader supplies the glyphs, as
every PDF reader with Chinese support does, and the text stays searchable);
``RECORD_PDF_FONT`` embeds a TTF/TTC with Chinese glyphs instead (e.g. Debian's
``fonts-wqy-zenhei``), for readers without Asian fonts. The output is byte-for-byte the
same for the same record and moment, so its hash in the custody log names one document.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hearings.errors import HearingsError
from hearings.timekeeping import local
from hearings.witness.models import IdentityCheck, Recording
from hearings.witness.script import POWER_LABELS, ROLE_LABELS, STEP_LABELS

BUILT_IN_FONT = "STSong-Light"
EMBEDDED_FONT = "RecordFont"


class RecordFontMissing(HearingsError):
    """The configured font file for the PDF is not there (a deployment fault)."""

    status = 500


def font_name() -> str:
    """Register the record's font (once per process and file); its name for styles."""
    path = current_app.config.get("RECORD_PDF_FONT")
    if not path:
        if BUILT_IN_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(BUILT_IN_FONT))
        return BUILT_IN_FONT
    if not Path(path).is_file():
        raise RecordFontMissing(
            "record-font-missing",
            title="Witness record font missing",
            path=path,
            built_in=BUILT_IN_FONT,
        )
    name = f"{EMBEDDED_FONT}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    return name


def _time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return local(value).strftime(fmt) if value else "—"


class _Styles:
    def __init__(self, font: str) -> None:
        self.title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20,
                                    spaceAfter=2 * mm)  # fmt: skip
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=15,
                                      spaceBefore=4 * mm, spaceAfter=1.5 * mm)  # fmt: skip
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12,
                                   wordWrap="CJK")  # fmt: skip
        self.code = ParagraphStyle("code", parent=self.cell, fontSize=6.8, leading=9)
        self.note = ParagraphStyle("note", parent=self.cell, textColor=colors.HexColor("#616e7c"))


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("—" if text is None or text == "" else str(text)), style)


def _table(rows: list[list[Any]], widths: Sequence[float], font: str, header: bool) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#d9e2ec")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f1f5f9")))
    table.setStyle(TableStyle(style))
    return table


def record_pdf(
    recording: Recording,
    session: Any,
    checks: Sequence[IdentityCheck],
    manifest: dict[str, Any] | None,
    generated: str,
) -> bytes:
    """The witness record as PDF bytes; ``generated`` says when and for whom (footer)."""
    font = font_name()
    s = _Styles(font)
    court = session.host_court
    stop = _time(recording.stopped_at, "%H:%M:%S") if recording.stopped_at else "进行中 in progress"
    status = recording.status + (
        f" — 停止原因 reason: {recording.stop_reason}" if recording.stop_reason else ""
    )
    story: list[Any] = [
        _p("委托代理视频见证笔录  Power-of-attorney video witnessing record", s.title),
        _p(f"录像编号 Recording {recording.id}", s.note),
        _p("案件与会议 Case and session", s.heading),
        _table(
            [[_p(k, s.cell), _p(v, s.cell)] for k, v in (
                ("案号 Case", session.case_number),
                ("事项 Title", session.title),
                ("法院 Court", f"{court.name_zh}  {court.name_en}"),
                ("时间 Time", f"{_time(recording.started_at)} – {stop} (北京时间 Beijing time)"),
                ("状态 Status", status),
            )],
            (35, 135), font, header=False,
        ),
        _p("参加人员 Participants", s.heading),
        _table(
            [[_p(h, s.cell) for h in ("角色 Role", "姓名 Name", "法院 Court")]]
            + [[_p(ROLE_LABELS.get(p.role, p.role), s.cell), _p(p.display_name, s.cell),
                _p(p.court_id, s.cell)] for p in session.participants],
            (70, 60, 40), font, header=True,
        ),
        _p("身份核验 Identity check", s.heading),
        _table(
            [[_p(h, s.cell) for h in ("姓名 Name", "公民身份号码 ID number", "方式 Method",
                                      "人证一致 Face matches", "时间 Checked at")]]
            + [[_p(c.name, s.cell), _p(c.masked_id_number, s.cell), _p(c.method, s.cell),
                _p("是 yes" if c.face_confirmed else "否 no", s.cell),
                _p(_time(c.checked_at), s.cell)] for c in checks],
            (28, 45, 25, 30, 42), font, header=True,
        ),
        _p("见证过程 The witnessing, with time marks in the recording", s.heading),
        _table(
            [[_p(h, s.cell) for h in ("步骤 Step", "时间 Time", "录像位置 Position")]]
            + ([_mark_row(m, s) for m in recording.marks] or [[_p("无 none", s.cell), "", ""]]),
            (80, 35, 55), font, header=True,
        ),
        _p("录像分段 Recording segments", s.heading),
        _table(
            [[_p(h, s.cell) for h in ("#", "文件 File", "SHA-256", "字节 Bytes", "状态 Status")]]
            + [[_p(g.n, s.cell), _p(g.filename, s.code), _p(g.sha256, s.code),
                _p(g.bytes, s.cell), _p(g.status, s.cell)] for g in recording.segments],
            (8, 30, 90, 22, 20), font, header=True,
        ),
    ]  # fmt: skip
    # The seal and the officer's signature line go on one page: a signature alone on a
    # page of its own would sign nothing you can see.
    seal: list[Any] = [_p("封存与签名 Seal and signature", s.heading)]
    if manifest:
        hold = (
            f" · 诉讼保全 legal hold: {recording.legal_hold_reason}" if recording.legal_hold else ""
        )
        seal.append(_table(
            [[_p(k, s.cell), _p(v, s.code if code else s.cell)] for k, v, code in (
                ("封存时间 Sealed", _time(recording.sealed_at), False),
                ("密钥 Key id", manifest.get("key_id"), True),
                ("公钥 Public key (Ed25519)", manifest.get("public_key"), True),
                ("签名 Signature", recording.signature, True),
                ("保存至 Kept until", _time(recording.retain_until, "%Y-%m-%d") + hold, False),
            )],
            (40, 130), font, header=False,
        ))  # fmt: skip
        seal.append(_p(f"核验 Verify: hearings verify-recording <folder>  或 or  "
                       f"GET /api/v1/recordings/{recording.id}/verify", s.note))  # fmt: skip
    else:
        seal.append(_p("尚未封存 Not sealed yet.", s.cell))
    seal += [
        Spacer(1, 14 * mm),
        _p("见证人员（签名） Officer's signature：______________    日期 Date：______________",
           s.cell),
    ]  # fmt: skip
    story.append(KeepTogether(seal))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#616e7c"))
        canvas.drawString(18 * mm, 10 * mm, generated)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页 page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"见证笔录 Witness record {recording.id}",
        author=court.name_zh, invariant=1,
    )  # fmt: skip
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _mark_row(mark: Any, s: _Styles) -> list[Paragraph]:
    step = STEP_LABELS[mark.step] + (f"：{POWER_LABELS[mark.power]}" if mark.power else "")
    if mark.note:
        step += f"（{mark.note}）"
    position = f"开始后 {mark.elapsed_seconds:.1f} s after start"
    if mark.segment_n:
        offset = mark.segment_offset_seconds or 0.0
        position = f"第 {mark.segment_n} 段 segment {mark.segment_n}, {offset:.1f} s; " + position
    return [_p(step, s.cell), _p(_time(mark.at, "%H:%M:%S"), s.cell), _p(position, s.cell)]
