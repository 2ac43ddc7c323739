"""The fake Socket Mode endpoint behaves as Slack's does, seen by a plain WebSocket client, and fails on demand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fake_socket_mode import APP_ID, FakeSocketMode


def open_url(fake: FakeSlack, token: str = APP_TOKEN) -> dict:
    answer = httpx.post(f"{fake.base_url}apps.connections.open", headers={"Authorization": f"Bearer {token}"})
    return answer.json()


@contextmanager
def dial(fake: FakeSlack) -> Iterator[tuple[ClientConnection, dict]]:
    """Connect as a client does: ask for a URL with the app token, open it, read the hello."""
    with connect(open_url(fake)["url"], open_timeout=3, close_timeout=0.5) as connection:
        yield connection, json.loads(connection.recv(timeout=3))


# ---- apps.connections.open ---------------------------------------------------------------------------------------


def test_the_app_token_gets_a_loopback_websocket_url(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    answer = open_url(fake_slack)

    assert answer["ok"] is True
    assert answer["url"].startswith(f"ws://127.0.0.1:{socket_mode.port}/link/?ticket=")
    assert f"app_id={APP_ID}" in answer["url"]


@pytest.mark.parametrize(("token", "error"), [("xapp-1-wrong", "invalid_auth"), (BOT_TOKEN, "not_allowed_token_type")])
def test_a_wrong_app_token_is_refused(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, token: str, error: str
) -> None:
    assert open_url(fake_slack, token) == {"ok": False, "error": error}


def test_every_url_asked_for_is_counted(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    open_url(fake_slack)
    open_url(fake_slack)

    assert len(fake_slack.calls_to("apps.connections.open", answered_ok=True)) == 2


# ---- connecting --------------------------------------------------------------------------------------------------


def test_a_connection_is_greeted_with_hello_as_slack_does(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (_connection, hello):
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": APP_ID}
        assert {"host", "build_number", "approximate_connection_time"} <= set(hello["debug_info"])
        assert socket_mode.handshakes == 1


def test_hello_counts_the_connections_open_at_once(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack), dial(fake_slack) as (_second, hello):
        assert hello["num_connections"] == 2


def test_a_url_opens_one_connection_only(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    url = open_url(fake_slack)["url"]
    with connect(url, open_timeout=3), pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=3)

    assert refused.value.response.status_code == 401
    assert socket_mode.refused_handshakes == 1


# ---- envelopes and acks ------------------------------------------------------------------------------------------


def test_each_envelope_has_a_fresh_id_and_its_ack_is_timed(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (connection, _hello):
        sent = [
            socket_mode.send_slash_command({"command": "/notes", "text": "vision"}),
            socket_mode.send_event({"event_id": "Ev1", "event": {"type": "app_mention"}}),
            socket_mode.send_interactive({"type": "block_actions", "actions": []}),
        ]
        received = [json.loads(connection.recv(timeout=3)) for _ in sent]
        for envelope in received:
            connection.send(json.dumps({"envelope_id": envelope["envelope_id"]}))
        acks = [socket_mode.wait_for_ack(envelope_id) for envelope_id in sent]

    assert len(set(sent)) == 3
    assert [e["type"] for e in received] == ["slash_commands", "events_api", "interactive"]
    assert [e["accepts_response_payload"] for e in received] == [True, False, False]
    assert (received[1]["retry_attempt"], received[1]["retry_reason"]) == (0, "")
    assert all(0 <= ack.seconds < 3 and ack.link == 1 for ack in acks)


def test_a_redelivered_event_keeps_its_event_id_under_a_new_envelope(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    with dial(fake_slack) as (connection, _hello):
        first = socket_mode.send_event({"event_id": "Ev9", "event": {}})
        again = socket_mode.send_event({"event_id": "Ev9", "event": {}}, retry_attempt=1, retry_reason="timeout")
        envelopes = [json.loads(connection.recv(timeout=3)) for _ in range(2)]

    assert first != again
    assert [e["payload"]["event_id"] for e in envelopes] == ["Ev9", "Ev9"]
    assert (envelopes[1]["retry_attempt"], envelopes[1]["retry_reason"]) == (1, "timeout")


def test_what_is_no_ack_is_kept_apart(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (connection, _hello):
        connection.send('{"envelope_id": "never-sent"}')
        socket_mode.wait_until(lambda: bool(socket_mode.unknown_messages))

    assert socket_mode.acks == []


@pytest.mark.parametrize("reason", ["refresh_requested", "link_disabled", "warning"])
def test_disconnect_carries_its_reason_and_the_connection_closes_after(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, reason: str
) -> None:
    with dial(fake_slack) as (connection, _hello):
        socket_mode.disconnect(reason, close_after=0.2)
        message = json.loads(connection.recv(timeout=3))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=3)

    assert message["type"] == "disconnect" and message["reason"] == reason and "host" in message["debug_info"]
    assert closed.value.rcvd is not None  # a close frame, unlike half_close and reset


# ---- failing -----------------------------------------------------------------------------------------------------


def test_half_close_sends_a_fin_without_a_close_frame(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (connection, _hello):
        socket_mode.half_close()
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=3)

    assert closed.value.rcvd is None  # the stream ended, no close frame came
    assert socket_mode.open_links() == []


def test_reset_sends_a_tcp_reset(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (connection, _hello):
        socket_mode.reset()
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=3)

    assert isinstance(closed.value.__cause__, ConnectionResetError)


def test_refused_connections_come_back_after_the_given_time(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (kept, _hello):
        socket_mode.refuse_connections(0.5)
        with pytest.raises(ConnectionRefusedError):
            connect(open_url(fake_slack)["url"], open_timeout=3)
        assert kept.ping().wait(3)  # the connection already open stays up meanwhile
        time.sleep(0.6)
        with dial(fake_slack) as (_again, hello):
            assert hello["type"] == "hello"


def test_a_silent_connection_answers_no_ping(fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    with dial(fake_slack) as (connection, _hello):
        assert connection.ping().wait(3)
        socket_mode.go_silent()

        assert not connection.ping().wait(1)
        assert socket_mode.open_links() == []  # nothing is sent to it any more
