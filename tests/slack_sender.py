"""The Slack side of a conversation with the bot: signed requests exactly as Slack sends them.

`SlackRequests` builds what Slack sends: slash commands (form bodies with every field Slack sends), Events
API callbacks and block_actions, signed with the signing secret (v0 HMAC-SHA256 of
`v0:{timestamp}:{body}`, computed by slack_sdk's `SignatureVerifier`), with response_urls that point at a
`FakeSlack`. Its subclasses deliver them: `SlackSender` over HTTP to a running bot's `/slack/events` (the
end-to-end tests of tests/slack/ and the benchmarks of bench/), tests/slack/dispatch.py's `BoltDispatcher`
in process to a Bolt app (the listener tests).
"""

from __future__ import annotations

import itertools
import json
import socket
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
APP_ID = "A0NOTESBOT"
CHANNEL = "C0GENERAL1"
USER = "U0ASKER01"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

Answer = TypeVar("Answer")
_TRIGGERS = itertools.count(1000)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SlackRequests(ABC, Generic[Answer]):
    """What Slack would send the bot, signed like Slack signs it; `post` delivers it, returning an `Answer`."""

    fake: FakeSlack
    secret: str = SIGNING_SECRET
    clock: Callable[[], float] = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @abstractmethod
    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Answer:
        """Deliver `body`, signed now unless `headers` say otherwise."""

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
            "trigger_id": self.trigger_id(),
        }
        return urlencode(form | fields)

    def trigger_id(self) -> str:
        """A fresh trigger_id: Slack never gives two uses of a command or a button the same one (the bot de-duplicates
        on it), whichever sender of the tests sends them."""
        return f"{next(self._ids)}.{next(_TRIGGERS)}.{uuid.uuid4().hex[:20]}"

    def command(self, text: str, **fields: str) -> Answer:
        return self.post(self.command_body(text, **fields), FORM)

    def event(
        self, event: dict[str, Any], event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """An Events API callback wrapping `event`."""
        return self.post(self.event_body(event, event_id), JSON, headers)

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
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
        return json.dumps(body)

    def message_event(self, text: str, **fields: Any) -> dict[str, Any]:
        """A message as Slack encodes it in events (the user's text, Slack-escaped)."""
        ts = f"{1_700_000_000 + next(self._ids)}.000200"
        return {"user": USER, "text": text, "ts": ts, "event_ts": ts, "team": TEAM_ID, "channel": CHANNEL} | fields

    def action(self, action_id: str, value: str, response_url: str | None = None, **fields: Any) -> Answer:
        """A block_actions payload: the user clicked a button of an ephemeral result message (or of the
        message `fields` such as `container` and `channel` say)."""
        return self.post(self.action_body(action_id, value, response_url, **fields), FORM)

    def action_body(self, action_id: str, value: str, response_url: str | None = None, **fields: Any) -> str:
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
            "trigger_id": self.trigger_id(),
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
        return urlencode({"payload": json.dumps(payload | fields)})

    def interaction(self, payload: dict[str, Any]) -> Answer:
        """Any interaction payload (shortcuts, views), form-encoded as Slack sends them."""
        return self.post(urlencode({"payload": json.dumps(payload)}), FORM)

    def message_shortcut(self, callback_id: str, message: dict[str, Any], channel: str = CHANNEL) -> Answer:
        """A message shortcut ("message_action") used on `message` (as Slack encodes a message)."""
        return self.interaction(
            self._interaction_base("message_action")
            | {
                "callback_id": callback_id,
                "message_ts": message["ts"],
                "response_url": self.fake.response_url(),
                "channel": {"id": channel, "name": "general"},
                "message": {"type": "message"} | message,
            }
        )

    def global_shortcut(self, callback_id: str) -> Answer:
        return self.interaction(self._interaction_base("shortcut") | {"callback_id": callback_id})

    def view_enter(self, view: dict[str, Any], block_id: str, action_id: str, value: str) -> Answer:
        """Enter pressed in a modal's input with `dispatch_action`: a block_actions payload from the view
        (`view` as Slack gave it back, with its id and hash)."""
        action = {"type": "plain_text_input", "block_id": block_id, "action_id": action_id, "value": value}
        state = {"values": {block_id: {action_id: {"type": "plain_text_input", "value": value}}}}
        return self.interaction(
            self._interaction_base("block_actions")
            | {
                "container": {"type": "view", "view_id": view["id"]},
                "view": view | {"state": state},
                "actions": [action | {"action_ts": f"{int(self.clock())}.000400"}],
            }
        )

    def view_submission(self, view: dict[str, Any], block_id: str, action_id: str, value: str) -> Answer:
        """A modal's submit button pressed with `value` in its input."""
        state = {"values": {block_id: {action_id: {"type": "plain_text_input", "value": value}}}}
        return self.interaction(self._interaction_base("view_submission") | {"view": view | {"state": state}})

    def _interaction_base(self, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": "deprecated-verification-token",
            "action_ts": f"{int(self.clock())}.000300",
            "team": {"id": TEAM_ID, "domain": "fake-team"},
            "user": {"id": USER, "username": "asker", "name": "asker", "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "is_enterprise_install": False,
            "enterprise": None,
            "trigger_id": f"{next(self._ids)}.1234.abcdef",
        }

    def assistant_thread_started(self, channel: str = "D0DIRECT1", thread_ts: str = "1700000100.000100") -> Answer:
        """The person opened the assistant panel: a new assistant thread in their DM with the bot."""
        thread = {"user_id": USER, "context": {"channel_id": CHANNEL, "team_id": TEAM_ID}}
        thread |= {"channel_id": channel, "thread_ts": thread_ts}
        return self.event({"type": "assistant_thread_started", "assistant_thread": thread, "event_ts": thread_ts})

    def assistant_message(self, text: str, thread_ts: str = "1700000100.000100", **fields: Any) -> dict[str, Any]:
        """A person's message in an assistant thread (a DM in a thread), as sent."""
        event = self.message_event(text, type="message", channel="D0DIRECT1", channel_type="im", thread_ts=thread_ts)
        self.event(event | fields)
        return event | fields


class SlackSender(SlackRequests[httpx.Response]):
    """Sends a running bot what Slack would send, over HTTP to its `/slack/events`."""

    def __init__(self, base_url: str, fake: FakeSlack, **options: Any) -> None:
        super().__init__(fake, **options)
        self.base_url = base_url
        self.client = httpx.Client(timeout=10)

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `body` to /slack/events, signed now unless `headers` say otherwise."""
        return self.client.post(
            f"{self.base_url}/slack/events",
            content=body.encode("utf-8"),
            headers={"Content-Type": content_type} | self.signed_headers(body) | (headers or {}),
        )
