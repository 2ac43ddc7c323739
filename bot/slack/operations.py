"""What a running server holds besides the Bolt app: the live vault, the database, metrics, and OAuth.

`Operations.start(settings)` migrates the database, loads the vault (and, for `notesbot serve`, starts
watching it), and sets up metrics; `prepare(app)` has the Bolt app's requests observed; `routes()` are
the HTTP endpoints for Kubernetes, Prometheus and the OAuth install flow. The listeners themselves are
registered by bot.slack.listeners, not here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import ConfigError, Settings
from bot.digest.poster import Result
from bot.digest.scheduler import digest_client
from bot.engine.live import POLL_SECONDS, LiveVault, NotesWatcher
from bot.engine.search import Searcher
from bot.metrics import CONTENT_TYPE, Metrics
from bot.migrate import create_schema
from bot.slack import oauth, pending
from bot.slack.deps import new_answer_pool
from bot.slack.durable import DurableAnswers
from bot.slack.observe import Observer
from bot.socket_link import SocketLink
from bot.storage import make_engine

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0  # a readiness probe must answer even while the database hangs


@dataclass
class Operations:
    settings: Settings
    engine: Engine
    live: LiveVault
    metrics: Metrics
    observer: Observer
    oauth_settings: OAuthSettings | None
    answers: DurableAnswers  # the deferred answers, recorded in `engine` and run on the (observed) answer pool
    watcher: NotesWatcher | None = None
    link: SocketLink | None = None  # Socket Mode's link to Slack, once connected: /readyz asks it too
    stopping: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM: no new requests
    _grace_ends: float | None = None  # time.monotonic() when the answers under way must be done
    _was_ready: bool | None = None

    @classmethod
    def start(
        cls, settings: Settings, clock: Callable[[], datetime], progress: bool = False, watch: bool = False
    ) -> Operations:
        """Migrate DATABASE_URL, load NOTES_DIR (watching it for changes if `watch`), count from now on."""
        if not settings.notes_dir.is_dir():
            raise ConfigError(f"NOTES_DIR: no folder at {settings.notes_dir}")
        engine = make_engine(settings.database_url)
        create_schema(engine)  # the migrations, to head
        live = LiveVault(settings.notes_dir, settings.cache_dir, progress=progress)
        metrics = Metrics()
        metrics.track_index(live)
        observer = Observer(metrics, engine, clock)
        answers = DurableAnswers(engine, observer.answer_pool(new_answer_pool()), clock)
        metrics.track_answers(functools.partial(pending.counts, engine), [status.value for status in pending.Status])
        watcher = _watcher(live, settings) if watch else None
        return cls(settings, engine, live, metrics, observer, oauth.oauth_settings(settings, engine), answers, watcher)

    def searcher_source(self) -> Searcher:
        """The `searcher_source` of the Slack app: the current index, its searches observed."""
        return self.observer.searcher(self.live.current())

    def instrument_client(self, client: WebClient) -> WebClient:
        """Count the client's Slack API errors and retries; in OAuth mode, drop any static token (each
        request then gets its workspace's token from the installation store)."""
        client.retry_handlers = self.metrics.counted(client.retry_handlers)
        if self.oauth_settings is not None:
            client.token = None
        return client

    def digest_client_for(self) -> Callable[[str], WebClient] | None:
        """The digest's Web API client for a workspace, its errors and retries counted: the one bot
        token, or in OAuth mode the workspace's installed token. None without any token."""
        if self.oauth_settings is None:
            client = digest_client(self.settings)
            if client is None:
                return None
            client.retry_handlers = self.metrics.counted(client.retry_handlers)
            return lambda _team_id: client
        store = self.oauth_settings.installation_store

        def installed_client(team_id: str) -> WebClient:
            bot = store.find_bot(enterprise_id=None, team_id=team_id or None)
            if bot is None or not bot.bot_token:
                raise LookupError(f"no installation of the app in workspace {team_id or '(none given)'}")
            # As digest_client: only rate limits are retried (a reset connection may have posted).
            handlers = self.metrics.counted([RateLimitErrorRetryHandler(max_retry_count=2)])
            return WebClient(token=bot.bot_token, base_url=self.settings.slack_api_url, retry_handlers=handlers)

        return installed_client

    def record_digest(self, result: Result) -> None:
        """`on_result` of the digest scheduler: posts and failures counted (skips are neither)."""
        if result.posted or result.failed:
            self.metrics.record_digest(posted=result.posted)

    def prepare(self, app: App) -> None:
        """Count, time and log `app`'s requests (bot.slack.observe)."""
        self.observer.instrument(app)

    def ready(self) -> tuple[bool, str]:
        """Ready when the index is loaded, the database answers and (Socket Mode) the link to Slack is up or down for
        less than its limit; not ready once stopping. A change of readiness is logged with its reason."""
        ready, reason = self._readiness()
        if ready != self._was_ready:
            log.log(logging.INFO if ready else logging.WARNING, "/readyz: %s", reason)
            self._was_ready = ready
        return ready, reason

    def _readiness(self) -> tuple[bool, str]:
        link_up, link_state = self.link.ready() if self.link is not None else (True, "")
        if self.stopping.is_set():
            stopping = "stopping: finishing the answers under way, taking no new requests"
            return False, stopping if link_up else f"{stopping} ({link_state})"  # say why, when the link is why
        if not link_up:
            return False, link_state
        snapshot = self.live.snapshot
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure to reach the database means: send no traffic here
            return False, f"database unreachable: {error.__class__.__name__}"
        ready = f"ready: {snapshot.note_count} notes, {snapshot.section_count} sections"
        return True, f"{ready}; {link_state}" if link_state else ready

    def begin_stopping(self) -> None:
        """From now on no new requests (`/slack/events` and `/readyz` answer 503), and SHUTDOWN_GRACE_SECONDS for the
        answers under way."""
        if self._grace_ends is None:
            self._grace_ends = time.monotonic() + self.settings.shutdown_grace_seconds
        self.stopping.set()

    def grace_left(self) -> float:
        return 0.0 if self._grace_ends is None else max(0.0, self._grace_ends - time.monotonic())

    def finish_answers(self) -> None:
        """Wait out the grace period for the answers under way (what is left then, `answers.stop()` hands on)."""
        left = self.answers.drain(self.grace_left())
        if left:
            log.warning("grace period over with %d answer(s) still running", left)

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.engine.dispose()

    def probe_routes(self) -> list[BaseRoute]:
        """/readyz for the orchestrator, /metrics for Prometheus."""
        return [Route("/readyz", _readyz, methods=["GET"]), Route("/metrics", _metrics, methods=["GET"])]

    def routes(self) -> list[BaseRoute]:
        """The probes, and in OAuth mode the install pages."""
        routes = self.probe_routes()
        if self.oauth_settings is not None:
            routes += [
                Route(self.oauth_settings.install_path, _install, methods=["GET"]),
                Route(self.oauth_settings.redirect_uri_path, _oauth_redirect, methods=["GET"]),
            ]
        return routes


def _watcher(live: LiveVault, settings: Settings) -> NotesWatcher | None:
    """NOTES_WATCH: file events (default), polling (network volumes), or no watching at all."""
    if settings.notes_watch == "off":
        return None
    poll_every = POLL_SECONDS if settings.notes_watch == "poll" else None
    log.info("watching %s for changed notes (%s)", live.root, settings.notes_watch)
    return NotesWatcher(live, poll_every=poll_every).start()


async def _readyz(request: Request) -> Response:
    ops: Operations = request.app.state.ops
    try:
        ready, reason = await asyncio.wait_for(run_in_threadpool(ops.ready), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        ready, reason = False, "database did not answer in time"
    return PlainTextResponse(reason, status_code=200 if ready else 503)


async def _metrics(request: Request) -> Response:
    ops: Operations = request.app.state.ops
    return Response(ops.metrics.exposition(), media_type=CONTENT_TYPE)


async def _install(request: Request) -> Response:
    """Slack's "Add to Slack" page: a fresh signed state, stored so that any replica can finish."""
    flow = request.app.state.bolt_app.oauth_flow
    bolt_request = to_bolt_request(request, await request.body())
    return to_starlette_response(await run_in_threadpool(flow.handle_installation, bolt_request))


async def _oauth_redirect(request: Request) -> Response:
    """Slack sends the person back here: exchange the code for the workspace's token and keep it."""
    flow = request.app.state.bolt_app.oauth_flow
    bolt_request = to_bolt_request(request, await request.body())
    return to_starlette_response(await run_in_threadpool(flow.handle_callback, bolt_request))
