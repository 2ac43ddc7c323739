"""A fake Slack Socket Mode endpoint on loopback, for tests that run a real Socket Mode client over a real WebSocket.

`FakeSocketMode(fake_slack)` is a WebSocket server (the `websockets` package, its event loop in a thread) on
127.0.0.1, wired to a `FakeSlack` (tests/fake_slack.py): the fake Web API's ``apps.connections.open`` checks the
app token (``xapp-...``) and answers ``{"ok": true, "url": "ws://127.0.0.1:PORT/link/?ticket=...&app_id=..."}``
(slack_sdk connects without TLS to a port other than 443). Each ticket opens one connection, as Slack's do: a
client that reconnects with an old URL is refused (HTTP 401), which is how slack_sdk issue #1379 (the
websocket-client client reusing its URL and failing forever) shows here. Like Slack, it:

- greets each connection with ``hello`` (``num_connections``, ``debug_info``, ``connection_info.app_id``);
- sends envelopes (`send_slash_command`, `send_event`, `send_interactive`, or any type with `send`) with a fresh
  ``envelope_id``, to the newest live connection (each envelope goes to one connection), and records each ack
  (`Ack`: its ``envelope_id``, its payload, the seconds it took, on which connection);
- sends ``disconnect`` with a reason (``refresh_requested``, ``link_disabled``, ``warning``), optionally closing the
  connection (with a close frame) some time after, as Slack does once a replacement could connect.

And it fails the ways a network and a server fail (each on the newest live connection unless given one):

- `half_close`: a FIN without a close frame (``shutdown(SHUT_WR)``), and nothing read or answered after it;
- `reset`: a TCP reset (``SO_LINGER`` 0, then close);
- `refuse_connections(seconds)`: nothing listens on the port for that long (connecting gets ECONNREFUSED),
  connections already open stay up;
- `go_silent`: the connection stays up but the server stops reading, so pings get no pong and acks go unread
  (the "silent death" of a link that is connected yet dead).

`SocketModeSender` sends the requests tests/slack_sender.py builds (slash commands, buttons, events) as envelopes.

Counting: ``fake_slack.calls_to("apps.connections.open")`` for the URLs asked for, `handshakes` for WebSocket
connections opened, `links` for each connection and whether it is still open. Tests wait with `wait_for_ack`,
`wait_for_links` or `wait_until` rather than sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.fake_slack import FakeSlack
from tests.slack_sender import SlackRequests

APP_ID = "A0NOTESBOT"
DISCONNECT_REASONS = ("refresh_requested", "link_disabled", "warning")
_CONTROL_TIMEOUT = 5.0  # seconds a test waits for the server's own loop to carry out an instruction


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None  # what the client answered with (slash commands may carry a message)
    seconds: float  # from the envelope sent to its ack received
    link: int  # the connection it came over (1 for the first handshake)


@dataclass
class Link:
    """One WebSocket connection, seen from the server."""

    number: int
    connection: ServerConnection
    opened_at: float  # time.monotonic()
    closed_at: float | None = None
    silent: bool = False  # no longer read from (go_silent, half_close)

    @property
    def open(self) -> bool:
        return self.closed_at is None and not self.silent


@dataclass
class FakeSocketMode:
    slack: FakeSlack
    app_id: str = APP_ID
    ping_interval: float | None = None  # the server's own pings; None: it only answers the client's
    links: list[Link] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    unknown_messages: list[str] = field(default_factory=list)  # what a client sent that is no ack

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._tickets: set[str] = set()
        self._sent: dict[str, tuple[float, int]] = {}  # envelope_id -> (perf_counter when sent, link)
        self._trace_ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-socket-mode", daemon=True)
        self._server: Server | None = None
        self.port = 0
        self.refused_handshakes = 0  # URLs used twice or never issued

    # --- lifecycle ---

    def start(self) -> FakeSocketMode:
        self._thread.start()
        self._control(self._listen())
        self.slack.socket_mode_url = self.issue_url
        return self

    def stop(self) -> None:
        self.slack.socket_mode_url = None
        self._control(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_CONTROL_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_url(self) -> str:
        """A fresh one-connection URL, as apps.connections.open gives (called by the fake Web API)."""
        ticket = str(uuid.uuid4())
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # --- reading what happened ---

    @property
    def handshakes(self) -> int:
        with self._lock:
            return len(self.links)

    def open_links(self) -> list[Link]:
        with self._lock:
            return [link for link in self.links if link.open]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds (checked on every change); AssertionError after `timeout` seconds."""
        with self._lock:
            if not self._lock.wait_for(condition, timeout):
                raise AssertionError(
                    f"fake Socket Mode: condition not met within {timeout}s; {len(self.links)} handshakes, "
                    f"{len(self.open_links())} open, acks {[a.envelope_id for a in self.acks]}"
                )

    def wait_for_links(self, count: int = 1, timeout: float = 10.0) -> Link:
        """Wait until `count` connections were opened in all, and at least one is live; return the newest live."""
        self.wait_until(lambda: len(self.links) >= count and bool(self.open_links()), timeout)
        return self.open_links()[-1]

    def wait_for_ack(self, envelope_id: str, timeout: float = 3.0) -> Ack:
        """The ack of `envelope_id`, once it arrives; AssertionError after `timeout` seconds (3: Slack's limit)."""
        self.wait_until(lambda: any(a.envelope_id == envelope_id for a in self.acks), timeout)
        return next(a for a in self.acks if a.envelope_id == envelope_id)

    # --- sending what Slack sends ---

    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        link: Link | None = None,
        accepts_response_payload: bool = False,
        **fields: Any,
    ) -> str:
        """Send an envelope of `envelope_type` carrying `payload`; return its fresh envelope_id."""
        target = link or self._newest()
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        } | fields
        with self._lock:
            self._sent[envelope_id] = (time.perf_counter(), target.number)
        self._control(target.connection.send(json.dumps(envelope)))
        return envelope_id

    def send_slash_command(self, payload: dict[str, Any], link: Link | None = None) -> str:
        """A slash command (`payload` as Slack's JSON: command, text, response_url, user_id, ...)."""
        return self.send("slash_commands", payload, link=link, accepts_response_payload=True)

    def send_event(
        self, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = "", link: Link | None = None
    ) -> str:
        """An Events API callback (`payload` with its `event_id`); a redelivery keeps the event_id and counts up
        `retry_attempt` (with a `retry_reason` such as ``timeout``), under a new envelope_id."""
        return self.send("events_api", payload, link=link, retry_attempt=retry_attempt, retry_reason=retry_reason)

    def send_interactive(self, payload: dict[str, Any], link: Link | None = None) -> str:
        """A button press or other interaction (`payload`: block_actions, view_submission, ...)."""
        accepts = payload.get("type") == "view_submission"  # the only kind Slack lets answer in the ack
        return self.send("interactive", payload, link=link, accepts_response_payload=accepts)

    def disconnect(self, reason: str, *, link: Link | None = None, close_after: float | None = None) -> Link:
        """Ask the client to reconnect, as Slack does before it moves or ends a connection; with `close_after`,
        close that connection (with a close frame) so many seconds later."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"Slack sends no disconnect reason {reason!r}")
        target = link or self._newest()
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": self._host()}}
        self._control(target.connection.send(json.dumps(message)))
        if close_after is not None:
            self._loop.call_soon_threadsafe(self._loop.call_later, close_after, self._close_later, target)
        return target

    # --- failing ---

    def half_close(self, link: Link | None = None) -> Link:
        """End the connection with a FIN and no close frame; the server reads and answers nothing after."""
        target = link or self._newest()
        self._go_quiet(target)
        self._loop.call_soon_threadsafe(target.connection.transport.write_eof)
        return target

    def reset(self, link: Link | None = None) -> Link:
        """End the connection with a TCP reset (RST), as a crashed proxy or a dropped NAT entry does."""
        target = link or self._newest()
        self._loop.call_soon_threadsafe(_abort_with_reset, target.connection)
        return target

    def go_silent(self, link: Link | None = None) -> Link:
        """Keep the connection up but stop reading it: the client's pings get no pong, its acks go unread."""
        target = link or self._newest()
        self._go_quiet(target)
        return target

    def refuse_connections(self, seconds: float) -> None:
        """Stop listening for `seconds` (new connections are refused; open ones stay), then listen again."""
        self._control(self._stop_listening())
        self._loop.call_soon_threadsafe(self._loop.call_later, seconds, self._listen_again)

    # --- the server's loop ---

    def _control(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(_CONTROL_TIMEOUT)

    def _newest(self) -> Link:
        live = self.open_links()
        if not live:
            raise AssertionError("fake Socket Mode: no live connection to send to")
        return live[-1]

    def _host(self) -> str:
        return f"applink-fake-{next(self._trace_ids)}"

    def _go_quiet(self, link: Link) -> None:
        with self._lock:
            link.silent = True
            self._lock.notify_all()
        self._loop.call_soon_threadsafe(link.connection.transport.pause_reading)

    async def _listen(self) -> None:
        sock = socket.create_server(("127.0.0.1", self.port))  # port 0 the first time: any free one
        self.port = sock.getsockname()[1]
        self._server = await serve(
            self._serve,
            sock=sock,
            process_request=self._check_ticket,
            compression=None,
            ping_interval=self.ping_interval,
        )

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=False)
            self._server = None

    def _listen_again(self) -> None:
        self._loop.create_task(self._listen())

    async def _shutdown(self) -> None:
        await self._stop_listening()
        for link in list(self.links):
            if link.closed_at is None:
                link.connection.transport.abort()
        # Let every handler and server task end before the loop stops, rather than be destroyed pending.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _close_later(self, link: Link) -> None:
        self._loop.create_task(link.connection.close())

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        tickets = parse_qs(urlsplit(request.path).query).get("ticket", [])
        with self._lock:
            if len(tickets) == 1 and tickets[0] in self._tickets:
                self._tickets.remove(tickets[0])
                return None
            self.refused_handshakes += 1
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket: call apps.connections.open\n")

    async def _serve(self, connection: ServerConnection) -> None:
        with self._lock:
            link = Link(len(self.links) + 1, connection, time.monotonic())
            self.links.append(link)
            live = len(self.open_links())
            self._lock.notify_all()
        await connection.send(json.dumps(self._hello(live)))
        try:
            async for message in connection:
                self._received(link, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                link.closed_at = time.monotonic()
                self._lock.notify_all()

    def _hello(self, num_connections: int) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {"host": self._host(), "build_number": 42, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _received(self, link: Link, message: str | bytes) -> None:
        arrived = time.perf_counter()
        try:
            body = json.loads(message)
        except ValueError:
            body = None
        with self._lock:
            sent = self._sent.get(body.get("envelope_id")) if isinstance(body, dict) else None
            if sent is None:
                self.unknown_messages.append(message if isinstance(message, str) else message.decode())
            else:
                self.acks.append(Ack(body["envelope_id"], body.get("payload"), arrived - sent[0], link.number))
            self._lock.notify_all()


def _abort_with_reset(connection: ServerConnection) -> None:
    sock = connection.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST, not FIN
    connection.transport.abort()


class SocketModeSender(SlackRequests[str]):
    """Sends what Slack would send (tests/slack_sender.py builds it) over the fake endpoint instead of HTTP: a slash
    command's form as a `slash_commands` envelope, a button's payload as `interactive`, an event as `events_api`
    (an `X-Slack-Retry-Num` header becomes the envelope's `retry_attempt`, as Slack re-delivers). Returns the
    envelope_id."""

    def __init__(self, endpoint: FakeSocketMode, **options: Any) -> None:
        super().__init__(endpoint.slack, **options)
        self.endpoint = endpoint

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> str:
        if content_type.startswith("application/json"):
            retry = {k.lower(): v for k, v in (headers or {}).items()}
            attempt = int(retry.get("x-slack-retry-num", 0))
            reason = retry.get("x-slack-retry-reason", "timeout" if attempt else "")
            return self.endpoint.send_event(json.loads(body), retry_attempt=attempt, retry_reason=reason)
        form = {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}
        if "payload" in form:
            return self.endpoint.send_interactive(json.loads(form["payload"]))
        return self.endpoint.send_slash_command(form)
