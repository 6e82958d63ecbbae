"""manifest.json creates the app the bot needs: the command and buttons at one path, the scopes export uses, and the
Messages tab where exported files arrive."""

from __future__ import annotations

import json
from pathlib import Path

from bot.wsgi import EVENTS_PATH

MANIFEST = json.loads((Path(__file__).resolve().parents[1] / "manifest.json").read_text())


def test_the_command_and_the_buttons_go_to_the_events_path() -> None:
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/numbers" and command["url"].endswith(EVENTS_PATH)
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["request_url"].endswith(EVENTS_PATH)


def test_export_has_its_scopes_and_a_messages_tab_to_arrive_in() -> None:
    assert {"commands", "files:write", "im:write"} <= set(MANIFEST["oauth_config"]["scopes"]["bot"])
    app_home = MANIFEST["features"]["app_home"]
    # without the Messages tab the app's DM, where exports arrive, may not show; read-only: nobody types to the bot there
    assert app_home["messages_tab_enabled"] is True and app_home["messages_tab_read_only_enabled"] is True
