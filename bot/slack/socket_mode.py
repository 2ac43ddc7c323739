"""`notesbot serve` over Socket Mode: Bolt's Socket Mode handler, its link watched, and a stop that drops nothing.

The handler is Bolt's (`slack_bolt.adapter.socket_mode`, slack_sdk's built-in client), its link to Slack kept by
bot.socket_link.SocketLink: a refused SLACK_APP_TOKEN is one line at start, a lost or dead connection is replaced,
`/readyz` (served on PORT beside it with /healthz and /metrics) says whether the link is up, and a link down for
longer than SOCKET_MODE_DOWN_SECONDS ends the process with status 1, so that systemd, compose or Kubernetes start it
again (no load balancer sends a Socket Mode process traffic that would show it dead).

Not `handler.start()`, which blocks until the process is killed (bolt-python #558: `connect()` and `close()`
instead). On SIGTERM or SIGINT: `/readyz` fails, the link is no longer repaired, the envelopes being handled are
acked (for at most Slack's 3 s), then the connection is closed. Slack sends each envelope to one of the app's open
connections, at most 10 (bolt-python #462, #1105), so from then on everything goes to the other processes; an event
this process received and recorded, but could not ack, is re-delivered there and found recorded: it is answered
here, once. Then the answers under way are finished within SHUTDOWN_GRACE_SECONDS,
what is left is handed to the other processes (bot.slack.durable), and the process exits 0. A second signal stops
at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.config import Settings
from bot.slack.operations import Operations
from bot.slack.probes import probe_app, serve_in_background
from bot.socket_link import PING_INTERVAL_SECONDS, LinkState, SocketLink

log = logging.getLogger(__name__)

ACK_SECONDS = 3.0  # Slack's limit for an ack: what an envelope already being handled may take at most
EXIT_LINK_DOWN = 1


class CountingHandler(SocketModeHandler):
    """Bolt's Socket Mode handler, counting the envelopes it is handling (dispatched, not yet acked)."""

    def __init__(self, app: App, app_token: str) -> None:
        super().__init__(app, app_token, ping_interval=PING_INTERVAL_SECONDS)
        self._handling = 0
        self._idle = threading.Condition()

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with self._idle:
            self._handling += 1
        try:
            super().handle(client, req)
        finally:
            with self._idle:
                self._handling -= 1
                self._idle.notify_all()

    def settle(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the envelopes received so far to be acked."""
        queue = self.client.message_queue
        with self._idle:
            self._idle.wait_for(lambda: self._handling == 0 and queue.empty(), timeout)


def serve_socket_mode(app: App, settings: Settings, ops: Operations) -> int:
    """Serve `app` over Socket Mode until SIGTERM or SIGINT (0), or until the link stays down too long (1)."""
    assert settings.slack_app_token is not None
    handler = CountingHandler(app, settings.slack_app_token.get_secret_value())
    stop = threading.Event()
    exit_code = 0

    def down_too_long(state: LinkState) -> None:
        nonlocal exit_code
        log.error("exiting so that the process is started again: %s", state.reason)
        exit_code = EXIT_LINK_DOWN
        stop.set()

    link = SocketLink(handler.client, down_limit=settings.socket_mode_down_seconds, on_down_too_long=down_too_long)
    try:
        log.info("connecting to Slack over Socket Mode")
        link.connect(settings.slack_api_url)  # a refused app token: ConfigError, one line
        ops.link = link.start()
        probes = serve_in_background(probe_app(ops), settings)
        with _stopping_on_signals(stop):
            stop.wait()
            ops.begin_stopping()
            link.stop()  # no more reconnects
            handler.settle(min(ACK_SECONDS, ops.grace_left()))
            handler.client.close()  # Slack routes what comes next to the app's other connections
            log.info("Socket Mode connection closed; finishing the answers under way")
            ops.finish_answers()
        probes.should_exit = True
        return exit_code
    finally:
        link.stop()
        handler.close()


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM or SIGINT sets `stop`; a second one stops at once. Handlers are restored when the block ends.
    Signals reach only the main thread: elsewhere (a test), nothing is installed."""

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("%s again: stopping without waiting for the answers", signal.Signals(sig).name)
            raise SystemExit(1)
        log.info("%s: closing the Socket Mode connection; finishing the answers under way", signal.Signals(sig).name)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
