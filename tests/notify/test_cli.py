"""`hearings scheduler`: the scheduler alone, as a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYS_ENV
from tests.notify.conftest import WAIT


@pytest.mark.slow
def test_scheduler_command_sends_the_outbox(tmp_path: Path):
    env = {**os.environ, **TEST_KEYS_ENV, "HEARINGS_INSTANCE_PATH": str(tmp_path)}
    env.pop("HEARINGS_DATABASE_URL", None)
    env.pop("HEARINGS_SMTP_URL", None)
    hearings = str(Path(sys.executable).with_name("hearings"))
    seeded = subprocess.run(
        [hearings, "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr
    assert not (tmp_path / "outbox").exists()  # booking only stores the invites

    process = subprocess.Popen([hearings, "scheduler"], env=env, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(WAIT * 3, process.kill)  # a hung scheduler fails, not hangs
    killer.start()
    try:
        for line in process.stderr:
            if "outbox:" in line:
                break
        assert "sent" in line, line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 0
    finally:
        killer.cancel()
        process.kill()
        process.wait()
        process.stderr.close()
    written = list((tmp_path / "outbox").glob("*.eml"))
    assert written
    assert 'text/calendar; charset="utf-8"; method="REQUEST"' in written[0].read_text()
