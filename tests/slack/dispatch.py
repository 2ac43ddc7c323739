"""The Bolt app in process: signed `BoltRequest`s handed to `app.dispatch`, as Bolt's own tests/scenario_tests do.

No HTTP server in between (the uvicorn tests of tests/slack/ cover `bot.slack.server`); Slack's Web API
and the response_urls are a `FakeSlack` on loopback. Bolt's listener thread and the answer pool run
inline, so `dispatch` returns once the listener's work is done: a test reads what was posted right
after it sends.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from tests.fake_slack import FakeSlack
from tests.slack_sender import SlackRequests

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # the clock of an app under test: any fixed time will do


class InlineExecutor(Executor):
    """Runs each piece of work at once, in the thread that submits it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


class BoltDispatcher(SlackRequests[BoltResponse]):
    """Hands `app` what Slack would send, signed, through `app.dispatch`; its listeners run inline."""

    def __init__(self, app: App, fake: FakeSlack, **options: Any) -> None:
        super().__init__(fake, **options)
        self.app = app
        app.listener_runner.listener_executor = InlineExecutor()

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> BoltResponse:
        signed = {"content-type": content_type} | self.signed_headers(body) | (headers or {})
        return self.app.dispatch(BoltRequest(body=body, headers={k.lower(): v for k, v in signed.items()}))
