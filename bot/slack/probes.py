"""What a Socket Mode process serves over HTTP: /healthz, /readyz and /metrics, beside its WebSocket to Slack.

Slack's requests come over the socket; no /slack/events here, where nothing could verify them (there is no signing
secret in that mode). The HTTP server (bot.slack.server) serves `healthz` too.
"""

from __future__ import annotations

import logging
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.slack.operations import Operations

log = logging.getLogger("notesbot.server")


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


def probe_app(ops: Operations) -> Starlette:
    """/healthz, /readyz and /metrics only."""
    asgi = Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *ops.probe_routes()])
    asgi.state.ops = ops
    return asgi


def serve_in_background(asgi: Starlette, settings: Settings) -> uvicorn.Server:
    """Serve `asgi` on HOST:PORT from a daemon thread; set `.should_exit` on the result to stop it."""
    server = uvicorn.Server(
        uvicorn.Config(asgi, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    )
    threading.Thread(target=server.run, name="notesbot-probes", daemon=True).start()
    log.info("serving /healthz, /readyz and /metrics on http://%s:%d", settings.host, settings.port)
    return server
