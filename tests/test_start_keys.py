"""Start-up keys: outside the demo and tests the service refuses keys anyone could know."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa

from hearings import create_app
from hearings.cli import prepare_database
from hearings.courts.models import Staff
from hearings.extensions import db
from hearings.keys import EX_CONFIG, SHIPPED_KEYS, start_refusal
from tests.conftest import TEST_KEYS_ENV

BIN = Path(sys.executable).parent
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
OLD_DEFAULT = "dev-secret-key-change-me-0123456789abcdef"


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a fresh deployment: no HEARINGS_* but these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARINGS_")}
    return env | {"HEARINGS_INSTANCE_PATH": str(tmp_path / "instance"), **settings}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def assert_refused(done: subprocess.CompletedProcess[str], setting: str) -> str:
    """Exit 78 with one line naming ``setting``, no traceback; the line."""
    assert done.returncode == EX_CONFIG, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(setting + " "), lines[0]
    return lines[0]


def test_serve_without_a_key_refuses_in_one_line(tmp_path):
    line = assert_refused(
        run([str(BIN / "hearings"), "serve"], clean_env(tmp_path)), "HEARINGS_SECRET_KEY"
    )
    assert "not set" in line and "secrets.token_urlsafe" in line


@pytest.mark.parametrize("command", [["scheduler"], ["recorder"], ["migrate"]])
def test_other_commands_without_a_key_refuse(tmp_path, command):
    assert_refused(
        run([str(BIN / "hearings"), *command], clean_env(tmp_path)), "HEARINGS_SECRET_KEY"
    )


@pytest.mark.parametrize("secret", [*sorted(SHIPPED_KEYS), "short-key"])
def test_the_old_default_or_a_short_key_is_refused(tmp_path, secret):
    env = clean_env(tmp_path, **TEST_KEYS_ENV) | {"HEARINGS_SECRET_KEY": secret}
    assert_refused(run([str(BIN / "hearings"), "serve"], env), "HEARINGS_SECRET_KEY")


@pytest.mark.parametrize("missing", ["HEARINGS_WITNESS_ID_KEY", "HEARINGS_MANIFEST_SIGNING_KEY"])
def test_production_needs_its_own_id_and_manifest_keys(tmp_path, missing):
    env = clean_env(tmp_path, **TEST_KEYS_ENV)
    del env[missing]
    line = assert_refused(run([str(BIN / "hearings"), "serve"], env), missing)
    assert "derived from HEARINGS_SECRET_KEY" in line


def test_malformed_id_key_is_refused():
    config = {k.removeprefix("HEARINGS_"): v for k, v in TEST_KEYS_ENV.items()}
    assert start_refusal(config, demo=False, testing=False) is None
    refusal = start_refusal(config | {"WITNESS_ID_KEY": "abc"}, demo=False, testing=False)
    assert refusal and refusal.startswith("HEARINGS_WITNESS_ID_KEY is not 32 bytes")
    # The demo and the tests derive them from the secret key.
    assert start_refusal({"SECRET_KEY": TEST_KEYS_ENV["HEARINGS_SECRET_KEY"]}, demo=True,
                         testing=False) is None  # fmt: skip


def test_gunicorn_without_a_key_refuses_before_serving(tmp_path):
    """docs/deploy.md's start: the master exits 78 with the one line, no worker booted."""
    done = run(
        [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "-b", "127.0.0.1:0",
         "hearings:create_app()"],
        clean_env(tmp_path),
    )  # fmt: skip
    assert done.returncode == EX_CONFIG, done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr
    # gunicorn's own "[…] [INFO] Starting gunicorn" log line comes first; then ours alone.
    ours = [line for line in done.stderr.splitlines() if not line.startswith("[")]
    assert len(ours) == 1 and ours[0].startswith("HEARINGS_SECRET_KEY is not set"), done.stderr


def test_gunicorn_with_the_old_default_refuses(tmp_path):
    env = clean_env(tmp_path, **TEST_KEYS_ENV) | {"HEARINGS_SECRET_KEY": OLD_DEFAULT}
    done = run([str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "hearings:create_app()"], env)
    assert done.returncode == EX_CONFIG, done.stderr
    assert "HEARINGS_SECRET_KEY is the development key once shipped" in done.stderr


def demo_app(instance: Path, monkeypatch: pytest.MonkeyPatch):
    for name in [k for k in os.environ if k.startswith("HEARINGS_")]:
        monkeypatch.delenv(name)
    database = f"sqlite:///{instance / 'demo.sqlite3'}"
    return create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database}, demo=True)


def test_demo_keeps_a_random_key_in_its_instance_folder(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    first = demo_app(instance, monkeypatch)
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32 and first.config["SECRET_KEY"] != OLD_DEFAULT
    again = demo_app(instance, monkeypatch)
    assert again.config["SECRET_KEY"] == first.config["SECRET_KEY"]  # reused after a restart
    other = demo_app(tmp_path / "elsewhere", monkeypatch)
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]  # not a constant


def test_a_token_forged_with_the_old_default_is_refused_by_a_demo(tmp_path, monkeypatch):
    app = demo_app(tmp_path / "instance", monkeypatch)
    with app.app_context():
        prepare_database()
        admin = Staff(court_id="luoyang", role="admin", username="a", name="管理员",
                      password_hash="x")  # fmt: skip
        db.session.add(admin)
        db.session.commit()
        admin_id = db.session.scalar(sa.select(Staff.id).where(Staff.username == "a"))
        db.session.remove()
    now = int(time.time())
    claims = {"iss": "hearings", "aud": "hearings-api", "sub": str(admin_id), "iat": now,
              "nbf": now, "exp": now + 3600, "jti": "forged", "role": "admin"}  # fmt: skip

    def bearer(key: str) -> dict[str, str]:
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": "k0"})
        return {"Authorization": f"Bearer {token}"}

    client = app.test_client()
    forged = client.get("/api/v1/sessions", headers=bearer(OLD_DEFAULT))
    assert forged.status_code == 401, forged.json
    # The same claims signed with the demo's own key are let in: only the key was wrong.
    genuine = client.get("/api/v1/sessions", headers=bearer(app.config["SECRET_KEY"]))
    assert genuine.status_code == 200, genuine.json
    with app.app_context():
        db.engine.dispose()
