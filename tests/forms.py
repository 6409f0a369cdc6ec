"""The staff's pages as tests post to them: the booking form filled in, and what a page says."""

from __future__ import annotations

import html
import re


def alerts(page) -> list[str]:
    """The refusals a page shows (booking problems and flashed messages)."""
    return [html.unescape(t) for t in re.findall(r'role="alert">([^<]*)<', page.text)]


def hearing_form(cast, **fields: str) -> dict[str, str]:
    """The booking form filled in for a hearing of Luoyang's first judge and clerk."""
    form = {
        "kind": "hearing", "title": "买卖合同纠纷", "host_court": "luoyang", "duration": "60",
        "staff_role_0": "presiding_judge", "staff_id_0": str(cast["luoyang-judge1"].id),
        "staff_role_1": "clerk", "staff_id_1": str(cast["luoyang-clerk1"].id),
        "action": "book", "starts_at": "2026-09-10T09:00",
    }  # fmt: skip
    form.update(fields)
    return form
