"""The Slack side of a conversation with the bot: signed requests exactly as Slack sends them.

`SlackSender` posts slash commands (form bodies with every field Slack sends), Events API callbacks
and block_actions to a running bot's `/slack/events`, signed with the signing secret (v0 HMAC-SHA256
of `v0:{timestamp}:{body}`, computed by slack_sdk's `SignatureVerifier`), with response_urls that
point at a `FakeSlack`. Used by the end-to-end tests (tests/slack/) and the benchmark (bench/).
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
APP_ID = "A0NOTESBOT"
CHANNEL = "C0GENERAL1"
USER = "U0ASKER01"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SlackSender:
    """Sends the bot what Slack would send, signed like Slack signs it."""

    base_url: str
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    clock: Callable[[], float] = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `body` to /slack/events, signed now unless `headers` say otherwise."""
        return self.client.post(
            f"{self.base_url}/slack/events",
            content=body.encode("utf-8"),
            headers={"Content-Type": content_type} | self.signed_headers(body) | (headers or {}),
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
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
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
