"""`notesbot serve`: the Slack app over HTTP (Starlette under uvicorn) or over Socket Mode.

HTTP: `POST /slack/events` takes events, slash commands and interactivity; `GET /healthz` answers 200;
`GET /readyz` 200 once the index is loaded and the database answers; `GET /metrics` is for Prometheus;
`/slack/install` and `/slack/oauth_redirect` install the app in a workspace (OAuth mode).
Bolt's own `app.start()` is a development server (one request at a time), hence the ASGI app.
Socket Mode (when SLACK_APP_TOKEN is set) needs no public URL: bot.slack.socket_mode.

Stopping (SIGTERM, as Docker, systemd and Kubernetes send; or SIGINT): from that moment `/slack/events` answers
503, so that Slack sends the events elsewhere or again, and `/readyz` 503; every answer already acknowledged is
finished within SHUTDOWN_GRACE_SECONDS (uvicorn's own graceful shutdown waits for the open requests, which are only
acks, not for the answer pool); what is still left then is handed to the other processes (bot.slack.durable), and
the process exits 0. A second signal stops at once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import ConfigError, Settings
from bot.digest.commands import slack_hooks
from bot.digest.scheduler import start_digest_scheduler
from bot.slack.app import create_app
from bot.slack.channel_scopes import ChannelScopes
from bot.slack.delivery import make_web_client
from bot.slack.deps import Clock, ListenerDeps, SearcherSource
from bot.slack.durable import workspace_clients
from bot.slack.operations import Operations
from bot.slack.probes import healthz
from bot.slack.socket_mode import serve_socket_mode

log = logging.getLogger("notesbot.server")

EVENTS_PATH = "/slack/events"


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_bolt_app(
    settings: Settings,
    clock: Clock = utc_now,
    progress: bool = False,
    start_digest: bool = False,
    ops: Operations | None = None,
    recover: bool = False,
) -> App:
    """Load the vault, prepare the database and build the Bolt app for `settings`; `start_digest` also starts
    this process's digest scheduler, `recover` its heartbeat and the answering of questions stopped processes
    left (`notesbot serve` does both, tests of the app do not). `ops` (the live vault, the migrated database,
    metrics, OAuth, the deferred answers) is made here unless given."""
    settings.require_slack()
    ops = ops or Operations.start(settings, clock, progress)
    engine = ops.engine
    client = ops.instrument_client(make_web_client(settings))
    searcher_source: SearcherSource = ops.searcher_source  # the live vault's current index
    digest_command, today_topic = slack_hooks(settings, engine, searcher_source, clock)
    channel_scopes = ChannelScopes(engine)  # what each channel draws from: its answers, previews and digest
    if start_digest:
        start_digest_scheduler(
            settings,
            lambda: searcher_source().index,
            engine,
            client_for=ops.digest_client_for(),
            on_result=ops.record_digest,
            scope_for=channel_scopes.scope_for,
        )
    answers = ops.answers
    deps = ListenerDeps(
        searcher_source,
        engine,
        clock,
        answers.pool,
        digest_command,
        today_topic,
        channel_scopes=channel_scopes,
        site=settings.note_site,
        durable=answers,
    )
    app = create_app(settings, client, deps, ops.oauth_settings)
    ops.prepare(app)
    if recover:
        answers.start(deps, workspace_clients(app.client, app.installation_store))
    return app


# --- HTTP ---------------------------------------------------------------------------------------


async def slack_events(request: Request) -> Response:
    """Hand a request from Slack to Bolt, which verifies its signature, dispatches it and acks it.

    Bolt's dispatch blocks until the listener has returned (it records its work first: bot.slack.app): run it
    in a worker thread so that one slow request never holds up the others on the event loop.
    """
    ops: Operations | None = request.app.state.ops
    if ops is not None and ops.stopping.is_set():
        # Stopping: not acknowledged here, so that Slack retries the event (another replica takes it).
        return PlainTextResponse("stopping", status_code=503, headers={"Retry-After": "1"})
    if not request.headers.get("x-slack-request-timestamp", "").isdigit():
        # Bolt's verifier raises (an error, not a refusal) on a timestamp that is not a number.
        return PlainTextResponse("invalid request", status_code=401)
    arrived = time.perf_counter()
    bolt_app: App = request.app.state.bolt_app
    bolt_request = to_bolt_request(request, await request.body())
    response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
    if ops is not None:
        ops.observer.after_dispatch(bolt_request, response.status, arrived)
    return to_starlette_response(response)


def routes() -> list[BaseRoute]:
    """The HTTP routes; add new ones here."""
    return [
        Route(EVENTS_PATH, slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def create_asgi_app(bolt_app: App, extra_routes: Sequence[BaseRoute] = (), ops: Operations | None = None) -> Starlette:
    """The ASGI app serving `bolt_app` (run it under uvicorn); with `ops`, also /readyz, /metrics and the
    OAuth install pages, and a log line per request."""
    asgi = Starlette(routes=[*routes(), *(ops.routes() if ops else ()), *extra_routes])
    asgi.state.bolt_app = bolt_app
    asgi.state.ops = ops
    return asgi


class DrainingServer(uvicorn.Server):
    """uvicorn, stopping as a replica must: on the first SIGTERM or SIGINT, requests are refused (503, with
    `ops.stopping`) while the answer pool finishes, and only then does uvicorn close; a second signal stops at once.
    The signal is not raised again once uvicorn is done (as uvicorn does), so the process exits 0 after cleaning up."""

    def __init__(self, config: uvicorn.Config, ops: Operations) -> None:
        super().__init__(config)
        self.ops = ops

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.ops.stopping.is_set():
            log.warning("%s again: stopping without waiting for the answers", signal.Signals(sig).name)
            self.should_exit = self.force_exit = True
            return
        log.info("%s: refusing new requests; finishing the answers under way", signal.Signals(sig).name)
        self.ops.begin_stopping()
        threading.Thread(target=self._drain_then_exit, name="notesbot-drain", daemon=True).start()

    def _drain_then_exit(self) -> None:
        self.ops.answers.drain(self.ops.grace_left())
        self.should_exit = True


# --- `notesbot serve` ---------------------------------------------------------------------------


def _verified_bolt_app(settings: Settings, ops: Operations) -> App:
    """The Bolt app; Bolt checks the bot token with Slack (auth.test) as it is built, and a token Slack
    refuses, or a Slack that cannot be reached, is a clear error rather than a traceback."""
    try:
        return build_bolt_app(settings, progress=sys.stderr.isatty(), start_digest=True, ops=ops, recover=True)
    except (BoltError, SlackApiError, OSError) as error:
        raise ConfigError(
            f"could not verify SLACK_BOT_TOKEN with the Slack Web API at {settings.slack_api_url} "
            f"({type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else 'no answer'})"
        ) from None


def serve_command(_args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is needed to serve HTTP (or set SLACK_APP_TOKEN for Socket Mode)")
    # Migrates the database, loads the vault and watches NOTES_DIR for changes from here on.
    ops = Operations.start(settings, utc_now, progress=sys.stderr.isatty(), watch=True)
    try:
        bolt_app = _verified_bolt_app(settings, ops)
        if settings.slack_app_token is not None:
            return serve_socket_mode(bolt_app, settings, ops)
        log.info("serving Slack requests on http://%s:%d%s", settings.host, settings.port, EVENTS_PATH)
        config = uvicorn.Config(
            create_asgi_app(bolt_app, ops=ops),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
        )
        server = DrainingServer(config, ops)
        server.run()
        if not server.force_exit:  # uvicorn answered the requests it had: answers they handed on are waited for too
            ops.finish_answers()
        return 0
    finally:
        ops.answers.stop()
        ops.close()
