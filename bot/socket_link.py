"""Socket Mode's link to Slack, kept alive, and what /readyz needs to know about it.

notesbot runs slack_sdk's built-in Socket Mode client (the one `slack_bolt.adapter.socket_mode.SocketModeHandler`
drives; tests/socket_mode/test_socket_mode_clients.py compares it with the websocket-client one). It answers
`disconnect` by opening the new connection before it drops the old one, and it needs no other package. What it
gets wrong, `SocketLink` guards against, from a thread of its own:

- A connection ended by a FIN without a close frame (a proxy or load balancer going away): the client's receive loop
  reads b"" in a loop, one core at 100 % and no events until its ping check gives up 4 pings later (20-60 s).
  slack_sdk treated an empty read as a closed connection in #1246, then reverted it in #1269; #1727 is the same spin
  under gevent. `SocketLink` waits on the socket with ``poll(POLLRDHUP)``, which wakes on the peer's FIN without
  reading anything, closes that connection and reconnects: noticed in milliseconds, no core spent.
- A connection that is up but dead, the "silent death" reported as slack_sdk #1701 (no events after a reconnect),
  bolt-js #1061 and node-slack-sdk #1243 (fixed there by #1465 with client pings and a pong deadline): no pong to the
  client's pings for `pong_timeout` seconds closes the connection and reconnects.
- Reconnecting: slack_sdk's own loop (every ping interval, a fresh apps.connections.open each time, none of it visible)
  is switched off; `SocketLink` reconnects at once when the link is lost, then backs off, so that an outage does not
  turn into a stream of apps.connections.open calls (a Tier 1 method). Slack's `disconnect` messages are still
  handled by the client itself (a new connection first).

`state()` says whether the link is up, since when it is down and why; `ready()` turns false once it has been down
for longer than `down_limit`, and `on_down_too_long` is called then, once per outage: `notesbot serve` exits, so that
systemd, Docker or Kubernetes start it again, as no load balancer sends a Socket Mode process anything to notice a dead
one by. `connect()` opens the first connection and turns an app token that Slack refuses into a one-line
`ConfigError`.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection

from bot.config import ConfigError

log = logging.getLogger(__name__)

PING_INTERVAL_SECONDS = 5.0  # slack_sdk's built-in client's default: give it to Bolt's handler, whose default is 10
CHECK_SECONDS = 1.0  # how often the link is looked at when nothing wakes the watch earlier (and how long stop() takes)
DOWN_LIMIT_SECONDS = 60.0  # a reconnect takes well under a second; a link still down after a minute needs a restart
PONGS_MISSED = 3  # pings in a row without a pong: one lost pong is noise, three in a row is a dead link
# Seconds to wait after each failed reconnect, the last repeating: apps.connections.open is a Tier 1 method.
RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
MAX_CONNECTIONS = 10  # Slack's limit per app; each envelope goes to one of them
_HUNG_UP = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR  # POLLRDHUP: Linux only


@dataclass(frozen=True)
class LinkState:
    connected: bool
    down_since: float | None  # the clock's time when the link went down (or started), None while it is up
    reason: str  # for /readyz and the log


class SocketLink:
    """Watches `client`'s connection, reconnects it when it is lost or dead, and reports its state."""

    def __init__(
        self,
        client: SocketModeClient,
        *,
        down_limit: float = DOWN_LIMIT_SECONDS,
        pong_timeout: float | None = None,
        check_every: float = CHECK_SECONDS,
        on_down_too_long: Callable[[LinkState], None] = lambda _state: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._down_limit = down_limit
        self._pong_timeout = pong_timeout if pong_timeout is not None else PONGS_MISSED * client.ping_interval
        self._check_every = check_every
        self._on_down_too_long = on_down_too_long
        self._clock = clock
        self._state = LinkState(False, clock(), "not connected yet")
        self._watched: Connection | None = None
        self._watched_since = 0.0  # wall-clock time (slack_sdk stamps pongs with time.time()) it was first seen
        self._failures = 0
        self._next_attempt = 0.0
        self._gave_up = False  # on_down_too_long called for this outage
        self._last_error = ""
        self._hello_note = "no hello yet"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notesbot-socket-link", daemon=True)
        # Reconnecting is done here, once and visibly; slack_sdk's own loop would race it (see the module's doc).
        client.default_auto_reconnect_enabled = client.auto_reconnect_enabled = False
        client.on_error_listeners.append(self._record_error)
        client.message_listeners.append(self._read_hello)

    # --- what /readyz asks ---

    def state(self) -> LinkState:
        return self._state

    def ready(self) -> tuple[bool, str]:
        """Ready while connected, and through a reconnect shorter than `down_limit`."""
        state = self._state
        if state.connected or state.down_since is None:
            return True, state.reason
        down_for = self._clock() - state.down_since
        return down_for < self._down_limit, f"Socket Mode link down for {down_for:.0f} s: {state.reason}"

    # --- running ---

    def connect(self, api_url: str = "the Slack Web API") -> None:
        """Open the first connection; a refused app token, or no Web API to ask, is a `ConfigError`."""
        try:
            self._client.connect()
        except SlackApiError as error:
            code = error.response.get("error", "refused")
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by {api_url} ({code}): it must be the app-level token (xapp-...) "
                "of this app, with the connections:write scope"
            ) from None
        except OSError as error:
            raise ConfigError(
                f"could not open a Socket Mode connection: {api_url} did not answer apps.connections.open "
                f"({type(error).__name__}: {str(error)[:200]})"
            ) from None
        self.check()

    def start(self) -> SocketLink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def check(self) -> LinkState:
        """Look at the link once: note whether it is up, end a dead one, reconnect a lost one when due."""
        session = self._client.current_session
        if session is not None and session.is_active():
            if self._pong_overdue(session):
                self._end(session, f"no pong for {self._pong_timeout:.0f} s: the connection is dead")
            else:
                self._up()
                return self._state
        self._down(self._last_error or "not connected")
        self._reconnect_when_due()
        self._give_up_when_too_long()
        return self._state

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                session = self._client.current_session
                if self._hung_up(session):
                    self._end(session, "Slack ended the connection without a close frame")
                self.check()
            except Exception:  # the watch must outlive any surprise: it is what reconnects
                log.exception("checking the Socket Mode link failed; checking again")
                self._stopping.wait(self._check_every)

    # --- the steps ---

    def _hung_up(self, session: Connection | None) -> bool:
        """Wait up to `check_every` seconds for the peer to end `session`'s socket (FIN, reset)."""
        sock = session.sock if session is not None else None
        if sock is None:
            self._stopping.wait(self._check_every)
            return False
        poller = select.poll()
        try:
            poller.register(sock.fileno(), _HUNG_UP)
        except (OSError, ValueError):  # closed by the client meanwhile: check() sees it
            return False
        events = poller.poll(self._check_every * 1000)
        return bool(events) and session is self._client.current_session and session.sock is sock

    def _pong_overdue(self, session: Connection) -> bool:
        now = time.time()
        if session is not self._watched:
            self._watched, self._watched_since = session, now
        last_pong = session.last_ping_pong_time or self._watched_since
        return now - max(last_pong, self._watched_since) > self._pong_timeout

    def _end(self, session: Connection | None, reason: str) -> None:
        if session is None:
            return
        log.warning("Socket Mode: %s; reconnecting", reason)
        self._last_error = reason
        session.disconnect()  # the client's receive loop idles (no longer spins) until the new connection replaces it

    def _up(self) -> None:
        if not self._state.connected:
            log.info("Socket Mode link up (session %s)", self._client.session_id())
        self._state = LinkState(True, None, f"connected to Slack over Socket Mode ({self._hello_note})")
        self._failures, self._next_attempt, self._gave_up, self._last_error = 0, 0.0, False, ""

    def _down(self, reason: str) -> None:
        state = self._state
        if state.connected or state.reason != reason:
            down_since = self._clock() if state.connected else state.down_since
            self._state = LinkState(False, down_since, reason)
            if state.connected:
                log.warning("Socket Mode link down: %s", reason)

    def _reconnect_when_due(self) -> None:
        now = self._clock()
        if now < self._next_attempt:
            return
        try:
            self._client.connect_to_new_endpoint()
        except Exception as error:  # refused token, Web API or WebSocket endpoint unreachable: try again later
            self._last_error = f"reconnecting failed ({type(error).__name__}: {str(error)[:200]})"
        if self._client.is_connected():
            self._up()
            return
        delay = RECONNECT_DELAYS[min(self._failures, len(RECONNECT_DELAYS) - 1)]
        self._failures += 1
        self._next_attempt = now + delay
        self._down(self._last_error or "could not reconnect")
        log.info("Socket Mode: still not connected (%s); next try in %.0f s", self._state.reason, delay)

    def _give_up_when_too_long(self) -> None:
        state = self._state
        if self._gave_up or state.down_since is None or self._clock() - state.down_since < self._down_limit:
            return
        self._gave_up = True
        log.error("Socket Mode link down for over %.0f s (%s)", self._down_limit, state.reason)
        self._on_down_too_long(state)

    # --- listeners on the client ---

    def _record_error(self, error: Exception) -> None:
        self._last_error = f"{type(error).__name__}: {str(error)[:200]}"

    def _read_hello(self, _client: Any, message: dict[str, Any], _raw: str | None) -> None:
        if message.get("type") != "hello":
            return
        count = message.get("num_connections")
        self._hello_note = f"{count} connection(s) of this app"
        if isinstance(count, int) and count >= MAX_CONNECTIONS:
            log.warning(
                "Slack counts %d Socket Mode connections of this app, its limit: another process on this app token "
                "(another environment?) takes its share of the events",
                count,
            )
