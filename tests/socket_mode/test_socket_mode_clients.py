"""Which Socket Mode client survives what: slack_sdk's clients run directly (no Bolt, no notesbot) against the fake.

The clients a synchronous Bolt app can use are compared: slack_sdk's built-in one, its websocket-client one, and the
built-in one watched by `bot.socket_link.SocketLink` (what notesbot runs). The asyncio clients (aiohttp,
websockets) need an `AsyncApp` and aiohttp, so they are not among them. A client marked `xfail(strict=True)` fails
that check today; if slack_sdk fixes it, the test passes and fails the run, saying it is time to look again:

- built-in: after a FIN without a close frame it reads b'' in a loop, a core at 100 %, and reconnects only when its
  ping check gives up 4 pings later (slack_sdk #1246, reverted by #1269); a reset, a disconnect (the new connection
  opens before the old one closes), refused connections and a silent link (after 4 pings) are handled.
- websocket-client: a FIN and a reset are noticed at once, but its reconnects race each other: each asks for 2-4
  URLs, and now and then (here 1 run in 8 after a reset or a FIN, 2 in 3 after refused connections) it ends with a
  connection open that it does not read, so the envelopes Slack sends there are never acked; it is left out of those
  checks, which it would fail at random. On a disconnect it closes the old connection before the new one connects
  (about one time in three nothing is connected for 10 s, its read loop's timeout); a silent link is never noticed
  (it pings but sets no pong deadline).
- built-in + SocketLink: all of it, a FIN in milliseconds; refused connections are retried with a growing delay.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient as BuiltinClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.socket_mode.websocket_client import SocketModeClient as WebSocketClientClient

from bot.socket_link import SocketLink
from tests.fake_slack import APP_TOKEN, FakeSlack
from tests.fake_socket_mode import DISCONNECT_REASONS, FakeSocketMode
from tests.waiting import eventually

PING_SECONDS = 0.5  # the clients' ping interval here (5-10 s in production), so that checks take seconds
SPIN_CPU_SECONDS = 0.5  # CPU a process may spend over an outage of a few seconds without spinning a core


@dataclass
class Running:
    client: BaseSocketModeClient
    stop_reconnecting: Callable[[], None] = lambda: None


def ack(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
    client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))


def builtin(web: WebClient) -> Running:
    client = BuiltinClient(APP_TOKEN, web_client=web, ping_interval=PING_SECONDS)
    client.socket_mode_request_listeners.append(ack)
    client.connect()
    return Running(client)


def websocket_client(web: WebClient) -> Running:
    client = WebSocketClientClient(APP_TOKEN, web_client=web, ping_interval=PING_SECONDS)
    client.socket_mode_request_listeners.append(ack)
    client.connect()
    return Running(client)


def watched_builtin(web: WebClient) -> Running:
    client = BuiltinClient(APP_TOKEN, web_client=web, ping_interval=PING_SECONDS)
    client.socket_mode_request_listeners.append(ack)
    link = SocketLink(client, check_every=0.2)
    link.connect()
    link.start()
    return Running(client, link.stop)


CLIENTS = {"builtin": builtin, "websocket_client": websocket_client, "builtin+SocketLink": watched_builtin}


def fails(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


def clients(*names: str, **failing: str) -> list:
    """`names` (all clients if none) as parameters, those in `failing` expected to fail for the reason given."""
    chosen = names or tuple(CLIENTS)
    return [pytest.param(name, marks=fails(failing[name])) if name in failing else name for name in chosen]


# The clients whose reconnects after a lost connection end in one connection that they read (see above).
RECONNECTING = ("builtin", "builtin+SocketLink")


@pytest.fixture
def connected(request: pytest.FixtureRequest, fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> Iterator[str]:
    running = CLIENTS[request.param](WebClient(base_url=fake_slack.base_url))
    socket_mode.wait_for_links(1)
    yield request.param
    # No reconnect may reach the fake Web API once the endpoint is gone; closing joins the clients' threads, which
    # sit in a read for up to 10 s (websocket-client) or 3 s (built-in): they finish while the next test runs.
    running.stop_reconnecting()
    running.client.auto_reconnect_enabled = False
    threading.Thread(target=running.client.close, name="closing-socket-mode-client", daemon=True).start()


def answers(socket_mode: FakeSocketMode) -> bool:
    """Whether an event sent now over the newest connection is acked within Slack's 3 s."""
    envelope_id = socket_mode.send_event({"event_id": f"Ev{time.monotonic_ns()}", "event": {"type": "app_mention"}})
    return socket_mode.wait_for_ack(envelope_id).link == socket_mode.open_links()[-1].number


def reconnects_within(socket_mode: FakeSocketMode, seconds: float) -> bool:
    try:
        socket_mode.wait_for_links(2, timeout=seconds)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize(
    "connected",
    clients(*RECONNECTING, builtin="reads b'' in a loop after a FIN (slack_sdk #1246 reverted by #1269)"),
    indirect=True,
)
def test_a_fin_without_close_frame_is_noticed_within_seconds_without_spinning(
    socket_mode: FakeSocketMode, connected: str
) -> None:
    cpu_before = time.process_time()
    socket_mode.half_close()
    back = reconnects_within(socket_mode, 2.0)
    cpu_spent = time.process_time() - cpu_before

    assert back and cpu_spent < SPIN_CPU_SECONDS, f"reconnected: {back}, {cpu_spent:.2f} s of CPU"
    assert answers(socket_mode)


@pytest.mark.parametrize("connected", clients(*RECONNECTING), indirect=True)
def test_a_reset_connection_is_replaced(socket_mode: FakeSocketMode, connected: str) -> None:
    socket_mode.reset()

    assert reconnects_within(socket_mode, PING_SECONDS + 2.0)
    assert answers(socket_mode)
    # No second connection left open that nothing reads: Slack would send it its share of the envelopes.
    assert eventually(lambda: len(socket_mode.open_links()) == 1, within=2)


@pytest.mark.parametrize(
    ("connected", "reason"),
    [
        *[("builtin+SocketLink", reason) for reason in DISCONNECT_REASONS],  # slack_sdk treats every reason alike
        ("builtin", "refresh_requested"),
        pytest.param(
            "websocket_client",
            "refresh_requested",
            marks=fails("closes the old connection before the new one connects (no make-before-break)"),
        ),
    ],
    indirect=["connected"],
)
def test_a_disconnect_opens_the_new_connection_before_the_old_one_closes(
    socket_mode: FakeSocketMode, connected: str, reason: str
) -> None:
    old = socket_mode.disconnect(reason, close_after=2.0)

    new = socket_mode.wait_for_links(2, timeout=1.5)

    assert old.closed_at is None or old.closed_at > new.opened_at
    assert answers(socket_mode)


@pytest.mark.parametrize("connected", clients(*RECONNECTING), indirect=True)
def test_connections_refused_for_a_while_are_retried_until_one_opens(
    socket_mode: FakeSocketMode, connected: str
) -> None:
    socket_mode.refuse_connections(1.5)
    socket_mode.reset()

    assert reconnects_within(socket_mode, 1.5 + PING_SECONDS + 3.0)  # SocketLink's second retry comes 3 s in
    assert answers(socket_mode)


@pytest.mark.parametrize(
    "connected", clients(websocket_client="sends pings but never checks for a pong (no ping_timeout)"), indirect=True
)
def test_a_silent_link_is_replaced(socket_mode: FakeSocketMode, connected: str) -> None:
    socket_mode.go_silent()

    assert reconnects_within(socket_mode, 4 * PING_SECONDS + 2.0)  # the built-in client's own limit is 4 pings
    assert answers(socket_mode)
