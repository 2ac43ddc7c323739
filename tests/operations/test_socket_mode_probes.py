"""In Socket Mode, Slack's requests come over the socket, yet the probes and metrics are still served over HTTP,
and nothing else is."""

from __future__ import annotations

import argparse
import time

import httpx
import pytest
from slack_bolt import App

from bot.slack.server import serve_command
from tests.fake_slack import FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack_sender import free_port

APP_TOKEN = "xapp-1-fake-app-token"


def test_socket_mode_serves_healthz_readyz_and_metrics_but_not_slack_events(
    fake_slack: FakeSlack, tmp_path, vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    seen: dict[str, int] = {}

    class ProbingSocketMode:
        """Stands for the WebSocket connection: while it is "connected", ask the probes as Kubernetes would."""

        def __init__(self, app: App, app_token: str) -> None:
            assert app_token == APP_TOKEN

        def start(self) -> None:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and "/healthz" not in seen:
                try:
                    seen["/healthz"] = httpx.get(f"{base}/healthz", timeout=2).status_code
                except httpx.TransportError:
                    time.sleep(0.05)
            for path in ("/readyz", "/metrics"):
                seen[path] = httpx.get(f"{base}{path}", timeout=5).status_code
            seen["POST /slack/events"] = httpx.post(f"{base}/slack/events", content=b"{}", timeout=5).status_code

    monkeypatch.setattr("slack_bolt.adapter.socket_mode.SocketModeHandler", ProbingSocketMode)
    settings = bot_settings(
        fake_slack,
        tmp_path,
        notes_dir=vault,
        slack_app_token=APP_TOKEN,
        slack_signing_secret=None,
        host="127.0.0.1",
        port=port,
        notes_watch="off",
    )

    assert serve_command(argparse.Namespace(), settings) == 0

    assert seen == {"/healthz": 200, "/readyz": 200, "/metrics": 200, "POST /slack/events": 404}
