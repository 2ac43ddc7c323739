"""The real app under uvicorn on loopback, and a Slack stand-in that sends it signed requests.

`slack` (a `SlackSender`) posts slash commands, event callbacks and block_actions to the running bot
exactly as Slack does: form or JSON bodies with every field Slack sends, signed with the signing
secret (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`), and response_urls that point at the fake Web API.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings, load_settings
from bot.server import build_bolt_app, create_asgi_app
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack

SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
VAULT = Path(__file__).resolve().parent.parent / "fixtures" / "slack_vault"
APP_ID = "A0NOTESBOT"
CHANNEL = "C0GENERAL1"
USER = "U0ASKER01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """uvicorn serving the ASGI app in a thread, on a free loopback port."""

    def __init__(self, asgi_app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-under-test", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bot_settings(fake: FakeSlack, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "notes_dir": VAULT,
        "cache_dir": tmp_path / "cache",
        "database_url": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    return load_settings(**(values | overrides))


@dataclass
class SlackSender:
    """Sends the bot what Slack would send, signed like Slack signs it."""

    base_url: str
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    clock: Callable[[], float] = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `body` to /slack/events, signed now unless `headers` say otherwise."""
        return httpx.post(
            f"{self.base_url}/slack/events",
            content=body.encode("utf-8"),
            headers={"Content-Type": content_type} | self.signed_headers(body) | (headers or {}),
            timeout=10,
        )

    def signed_headers(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    def command_body(self, text: str, **fields: str) -> str:
        """A `/notes` slash command form body with every field Slack sends."""
        form = {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake-team",
            "channel_id": CHANNEL,
            "channel_name": "general",
            "user_id": USER,
            "user_name": "asker",
            "command": "/notes",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(),
            "trigger_id": f"{next(self._ids)}.1234.abcdef",
        }
        return urlencode(form | fields)

    def command(self, text: str, **fields: str) -> httpx.Response:
        return self.post(self.command_body(text, **fields), "application/x-www-form-urlencoded")

    def event(
        self, event: dict[str, Any], event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """An Events API callback wrapping `event`."""
        body = {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):010d}",
            "event_time": int(self.clock()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": "UBOT0001", "is_bot": True}],
            "is_ext_shared_channel": False,
            "event_context": "4-fake-event-context",
        }
        return self.post(json.dumps(body), "application/json", headers)

    def message_event(self, text: str, **fields: Any) -> dict[str, Any]:
        """A message as Slack encodes it in events (the user's text, Slack-escaped)."""
        ts = f"{1_700_000_000 + next(self._ids)}.000200"
        return {"user": USER, "text": text, "ts": ts, "event_ts": ts, "team": TEAM_ID, "channel": CHANNEL} | fields

    def action(self, action_id: str, value: str, response_url: str | None = None) -> httpx.Response:
        """A block_actions payload: the user clicked a button of an ephemeral result message."""
        payload = {
            "type": "block_actions",
            "user": {"id": USER, "username": "asker", "name": "asker", "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": CHANNEL,
                "is_ephemeral": True,
            },
            "trigger_id": f"{next(self._ids)}.1234.abcdef",
            "team": {"id": TEAM_ID, "domain": "fake-team"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": CHANNEL, "name": "general"},
            "state": {"values": {}},
            "response_url": response_url or self.fake.response_url(),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "text": {"type": "plain_text", "text": "button", "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{int(self.clock())}.000300",
                }
            ],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def start_bot(settings: Settings) -> RunningServer:
    clock = lambda: datetime.now(UTC)  # noqa: E731
    return RunningServer(create_asgi_app(build_bolt_app(settings, clock=clock)))


@pytest.fixture
def bot_server(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[RunningServer]:
    with start_bot(bot_settings(fake_slack, tmp_path)) as server:
        yield server


@pytest.fixture
def slack(bot_server: RunningServer, fake_slack: FakeSlack) -> SlackSender:
    return SlackSender(bot_server.url, fake_slack)
