"""Which media plane the configuration asks for: unset, the mesh as before; set, Janus."""

from __future__ import annotations

from hearings.config import from_environment
from hearings.sfu.settings import JanusSettings, janus_settings


def test_no_janus_configured_means_the_mesh(app):
    assert app.config["JANUS_URL"] is None and app.config["JANUS_API_SECRET"] is None
    assert janus_settings(app.config) is None
    assert janus_settings({"JANUS_URL": " , ", "JANUS_API_SECRET": "s"}) is None


def test_janus_is_read_from_the_environment():
    config = from_environment(
        {"HEARINGS_JANUS_URL": "http://127.0.0.1:8088/janus", "HEARINGS_JANUS_API_SECRET": "s"}
    )
    assert janus_settings(config) == JanusSettings(("http://127.0.0.1:8088/janus",), "s")
    assert "JANUS_URL" not in from_environment({"HEARINGS_JANUS_URL": ""})


def test_several_janus_servers_share_the_sessions_each_always_on_the_same_one():
    from hearings.rooms.sfu_room import SfuDriver

    config = {"JANUS_URL": "http://10.0.0.5:8088/janus, http://10.0.0.6:8088/janus"}
    settings = janus_settings(config)
    assert settings == JanusSettings(
        ("http://10.0.0.5:8088/janus", "http://10.0.0.6:8088/janus"), None
    )
    assert settings is not None
    driver = SfuDriver(settings)
    try:
        servers = [driver.client_for(session_id).url for session_id in range(1, 101)]
        assert servers.count(settings.urls[0]) == servers.count(settings.urls[1]) == 50
        assert [driver.client_for(7).url for _ in range(3)] == [servers[6]] * 3
    finally:
        driver.stop()


def test_the_recorder_command_refuses_in_sfu_mode(database_url, tmp_path):
    from hearings import create_app
    from hearings.cli import main
    from tests.conftest import base_config

    app = create_app(
        {**base_config(database_url, tmp_path), "JANUS_URL": "http://10.0.0.5:8088/janus"}
    )
    try:
        result = app.test_cli_runner().invoke(main, ["recorder"])
        assert result.exit_code != 0
        assert "Janus records every session" in result.output
    finally:
        app.extensions["hearings.hub"].stop()
