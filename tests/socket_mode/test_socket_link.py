"""A Bolt app over Socket Mode, its link watched by `SocketLink`: every envelope is acked in time, every way a link
fails ends in a new connection, /readyz learns whether it is up, and a refused app token is one clear line."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from slack_bolt import Ack, App, Respond, Say
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.config import ConfigError
from bot.socket_link import LinkState, SocketLink
from tests.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fake_socket_mode import DISCONNECT_REASONS, FakeSocketMode
from tests.slack_sender import free_port
from tests.waiting import eventually

PING_SECONDS = 0.5  # 5 s in production (bot.socket_link.PING_INTERVAL_SECONDS): the checks here take seconds
DOWN_LIMIT = 1.5


def echo_app(fake: FakeSlack) -> App:
    """A Bolt app that answers a slash command, a mention and a button, as notesbot's listeners do."""
    app = App(client=WebClient(token=BOT_TOKEN, base_url=fake.base_url))

    @app.command("/notes")
    def command(ack: Ack, respond: Respond, command: dict) -> None:
        ack()
        respond(text=f"searched {command['text']}")

    @app.event("app_mention")
    def mention(event: dict, say: Say, request: object) -> None:
        retry = request.headers.get("x-slack-retry-num", ["0"])[0]  # type: ignore[attr-defined]
        say(text=f"mentioned: {event['text']} (retry {retry})", thread_ts=event["ts"])

    @app.action("next")
    def next_hit(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="the next hit", replace_original=True)

    return app


@dataclass
class Linked:
    handler: SocketModeHandler
    link: SocketLink
    outages: list[LinkState] = field(default_factory=list)


def linked_app(fake: FakeSlack, token: str = APP_TOKEN, down_limit: float = DOWN_LIMIT) -> Linked:
    handler = SocketModeHandler(echo_app(fake), token, ping_interval=PING_SECONDS)
    outages: list[LinkState] = []
    link = SocketLink(handler.client, check_every=0.2, down_limit=down_limit, on_down_too_long=outages.append)
    return Linked(handler, link, outages)


@pytest.fixture
def linked(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> Iterator[Linked]:
    running = linked_app(fake_slack)
    running.link.connect(fake_slack.base_url)
    running.link.start()
    socket_mode.wait_for_links(1)
    yield running
    running.link.stop()
    # Closing joins a thread that waits up to 3 s in a read: let it finish while the next test runs.
    threading.Thread(target=running.handler.close, name="closing-socket-mode", daemon=True).start()


def mention(text: str, event_id: str = "Ev0001") -> dict:
    ts = f"{time.time():.6f}"
    event = {"type": "app_mention", "user": "U0ASKER01", "text": text, "ts": ts, "channel": "C0GENERAL1"}
    return {
        "type": "event_callback",
        "team_id": "T0000001",
        "api_app_id": "A0NOTESBOT",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": event,
    }


def answered(fake: FakeSlack, socket_mode: FakeSocketMode, text: str) -> None:
    """A mention sent now is acked within 3 s and answered in its thread."""
    before = len(fake.calls_to("chat.postMessage"))
    socket_mode.wait_for_ack(socket_mode.send_event(mention(text, f"Ev{time.monotonic_ns()}")))
    [*_, posted] = fake.wait_for("chat.postMessage", count=before + 1)
    assert posted.body["text"].startswith(f"mentioned: {text}")


# ---- the app token -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("token", "code"), [("xapp-1-revoked", "invalid_auth"), (BOT_TOKEN, "not_allowed_token_type")])
def test_a_refused_app_token_is_one_line_naming_slack_app_token(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, token: str, code: str
) -> None:
    running = linked_app(fake_slack, token=token)
    try:
        with pytest.raises(ConfigError) as refused:
            running.link.connect(fake_slack.base_url)
    finally:
        running.handler.close()

    message = str(refused.value)
    assert message.startswith("SLACK_APP_TOKEN was refused by") and f"({code})" in message
    assert "\n" not in message and token not in message
    assert socket_mode.handshakes == 0


def test_a_web_api_that_does_not_answer_is_a_clear_error(fake_slack: FakeSlack) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    handler = SocketModeHandler(echo_app(fake_slack), APP_TOKEN, web_client=WebClient(base_url=nowhere))
    link = SocketLink(handler.client)
    try:
        with pytest.raises(ConfigError, match=r"could not open a Socket Mode connection: .* did not answer"):
            link.connect(nowhere)
    finally:
        handler.close()


# ---- envelopes ---------------------------------------------------------------------------------------------------


def test_every_kind_of_envelope_is_acked_with_its_id_within_3_seconds_and_answered(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked
) -> None:
    command = {
        "command": "/notes",
        "text": "vision",
        "user_id": "U0ASKER01",
        "channel_id": "C0GENERAL1",
        "team_id": "T0000001",
        "response_url": fake_slack.response_url(),
        "trigger_id": "1.2.3",
    }
    button = {
        "type": "block_actions",
        "user": {"id": "U0ASKER01"},
        "team": {"id": "T0000001"},
        "response_url": fake_slack.response_url(),
        "actions": [{"action_id": "next", "value": "1"}],
    }
    sent = [
        socket_mode.send_slash_command(command),
        socket_mode.send_event(mention("what is vision")),
        socket_mode.send_interactive(button),
    ]

    acks = [socket_mode.wait_for_ack(envelope_id) for envelope_id in sent]
    replies = fake_slack.wait_for("response_url", count=2)
    [posted] = fake_slack.wait_for("chat.postMessage")

    assert [a.envelope_id for a in acks] == sent and all(a.seconds < 3 for a in acks)
    assert {r.body["text"] for r in replies} == {"searched vision", "the next hit"}
    assert posted.body["text"] == "mentioned: what is vision (retry 0)"


def test_a_redelivered_event_is_acked_again_and_reaches_the_app_marked_as_a_retry(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked
) -> None:
    first = socket_mode.send_event(mention("hello", "Ev0042"))
    again = socket_mode.send_event(mention("hello", "Ev0042"), retry_attempt=1, retry_reason="timeout")

    socket_mode.wait_for_ack(first)
    socket_mode.wait_for_ack(again)
    posts = fake_slack.wait_for("chat.postMessage", count=2)

    # Answering it once is the app's part (tests/socket_mode/test_serve_socket_mode.py).
    assert sorted(p.body["text"] for p in posts) == ["mentioned: hello (retry 0)", "mentioned: hello (retry 1)"]


# ---- the link failing --------------------------------------------------------------------------------------------


def test_a_fin_without_close_frame_is_noticed_at_once_and_costs_no_core(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked
) -> None:
    cpu_before = time.process_time()
    socket_mode.half_close()
    socket_mode.wait_for_links(2, timeout=1.0)
    cpu_spent = time.process_time() - cpu_before

    assert cpu_spent < 0.3, f"{cpu_spent:.2f} s of CPU"
    assert len(fake_slack.calls_to("apps.connections.open")) == 2  # one new URL, not a burst
    answered(fake_slack, socket_mode, "after a FIN")


def test_a_reset_link_is_replaced_at_once(fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked) -> None:
    socket_mode.reset()

    socket_mode.wait_for_links(2, timeout=1.0)
    answered(fake_slack, socket_mode, "after a reset")


@pytest.mark.parametrize("reason", DISCONNECT_REASONS)
def test_a_disconnect_gets_a_new_connection_and_answers_go_on(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked, reason: str
) -> None:
    socket_mode.disconnect(reason, close_after=1.0)

    socket_mode.wait_for_links(2, timeout=1.0)
    answered(fake_slack, socket_mode, f"after {reason}")
    assert linked.link.state().connected


def test_a_silent_link_reads_as_down_and_is_replaced(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.socket_link")
    socket_mode.go_silent()

    socket_mode.wait_for_links(2, timeout=3 * PING_SECONDS + 2.0)

    assert any("no pong for" in r.getMessage() for r in caplog.records)
    answered(fake_slack, socket_mode, "after a silent link")


# ---- what /readyz learns -----------------------------------------------------------------------------------------


def test_ready_while_connected_and_the_reason_says_how_many_connections(linked: Linked) -> None:
    said = "connected to Slack over Socket Mode (1 connection(s) of this app)"  # once Slack's hello is read

    assert eventually(lambda: linked.link.ready() == (True, said), within=2)
    assert linked.link.state().down_since is None


def test_a_link_down_longer_than_the_limit_fails_readiness_says_why_and_calls_for_a_restart_once(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.socket_link")
    socket_mode.refuse_connections(DOWN_LIMIT + 2.5)
    socket_mode.reset()

    time.sleep(0.5)
    ready_early, _ = linked.link.ready()
    time.sleep(DOWN_LIMIT + 0.2)
    ready_late, reason = linked.link.ready()
    state = linked.link.state()

    assert ready_early  # a reconnect in progress keeps the process ready
    assert not ready_late and not state.connected and state.down_since is not None
    assert re.match(r"Socket Mode link down for \d+ s: .*ConnectionRefusedError", reason), reason
    assert [o.down_since for o in linked.outages] == [state.down_since]
    assert any(r.getMessage().startswith("Socket Mode link down for over") for r in caplog.records)
    # The endpoint back, the link comes back by itself (when nothing restarted the process meanwhile).
    socket_mode.wait_for_links(2, timeout=8.0)
    answered(fake_slack, socket_mode, "after the outage")
    assert linked.link.ready()[0] and len(linked.outages) == 1


def test_reconnects_back_off_while_the_endpoint_refuses(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, linked: Linked
) -> None:
    socket_mode.refuse_connections(4.0)
    socket_mode.reset()

    socket_mode.wait_for_links(2, timeout=4.0 + 5 + 1.0)

    # Tries at 0, 1, 3 and 8 s (the delays 1, 2, 5 s); slack_sdk's own loop would ask every ping (0.5 s here).
    assert len(fake_slack.calls_to("apps.connections.open")) <= 1 + 4
