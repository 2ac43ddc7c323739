"""`notesbot serve`: the Slack app over HTTP (Starlette under uvicorn) or over Socket Mode.

HTTP: `POST /slack/events` takes events, slash commands and interactivity; `GET /healthz` answers 200.
Bolt's own `app.start()` is a development server (one request at a time), hence the ASGI app.
Socket Mode (when SLACK_APP_TOKEN is set) needs no public URL.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import ConfigError, Settings
from bot.index_cache import load_vault
from bot.search import Searcher
from bot.slack_app import Clock, DigestCommand, SearcherSource, TodayTopic, create_app, make_web_client
from bot.storage import create_schema, make_engine

log = logging.getLogger("notesbot.server")

EVENTS_PATH = "/slack/events"


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_bolt_app(
    settings: Settings, clock: Clock = utc_now, progress: bool = False, start_digest: bool = False
) -> App:
    """Load the vault, prepare the database and build the Bolt app for `settings`; `start_digest` also starts
    this process's digest scheduler (`notesbot serve` does, tests of the app do not)."""
    settings.require_slack()
    if not settings.notes_dir.is_dir():
        raise ConfigError(f"NOTES_DIR: no folder at {settings.notes_dir}")
    vault = load_vault(settings.notes_dir, settings.cache_dir, progress=progress)
    log.info("vault %s: %d notes, %d sections", settings.notes_dir, vault.index.note_count, vault.index.section_count)
    searcher = Searcher(vault.index)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    client = make_web_client(settings)
    searcher_source: SearcherSource = lambda: searcher  # noqa: E731  (live reload swaps what this returns)
    digest_command, today_topic = _digest_hooks(settings, engine, client, searcher_source, clock)
    if start_digest:
        from bot.scheduler import start_digest_scheduler

        start_digest_scheduler(settings, lambda: searcher_source().index, engine)
    return create_app(
        settings,
        searcher_source,
        engine,
        client,
        clock,
        digest_command=digest_command,
        today_topic=today_topic,
    )


def _digest_hooks(*args: object) -> tuple[DigestCommand | None, TodayTopic | None]:
    """`/notes digest` and App Home's topic, when bot/digest.py offers them as
    `slack_hooks(settings, engine, client, searcher_source, clock) -> (command, today_topic)`."""
    if importlib.util.find_spec("bot.digest") is None:
        return None, None
    from bot import digest

    hooks: Callable[..., tuple[DigestCommand | None, TodayTopic | None]] | None = getattr(digest, "slack_hooks", None)
    return hooks(*args) if hooks else (None, None)


# --- HTTP ---------------------------------------------------------------------------------------


async def slack_events(request: Request) -> Response:
    """Hand a request from Slack to Bolt, which verifies its signature, acks and dispatches it.

    Bolt's dispatch blocks until the listener acknowledges: run it in a worker thread so that one
    slow request never holds up the others on the event loop.
    """
    if not request.headers.get("x-slack-request-timestamp", "").isdigit():
        # Bolt's verifier raises (an error, not a refusal) on a timestamp that is not a number.
        return PlainTextResponse("invalid request", status_code=401)
    bolt_app: App = request.app.state.bolt_app
    body = await request.body()
    response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
    return to_starlette_response(response)


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """The HTTP routes; add new ones here."""
    return [
        Route(EVENTS_PATH, slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def create_asgi_app(bolt_app: App, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app serving `bolt_app` (run it under uvicorn)."""
    asgi = Starlette(routes=[*routes(), *extra_routes])
    asgi.state.bolt_app = bolt_app
    return asgi


# --- `notesbot serve` ---------------------------------------------------------------------------


def serve_command(_args: argparse.Namespace, settings: Settings) -> int:
    bolt_app = build_bolt_app(settings, progress=sys.stderr.isatty(), start_digest=True)
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("connecting to Slack over Socket Mode")
        SocketModeHandler(bolt_app, settings.slack_app_token.get_secret_value()).start()
        return 0
    if settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is needed to serve HTTP (or set SLACK_APP_TOKEN for Socket Mode)")
    import uvicorn

    log.info("serving Slack requests on http://%s:%d%s", settings.host, settings.port, EVENTS_PATH)
    uvicorn.run(create_asgi_app(bolt_app), host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    return 0
