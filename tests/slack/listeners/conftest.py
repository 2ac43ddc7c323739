"""A Bolt app built by `bot.slack.app.create_app` over the Slack tests' vault (`searcher`), a fresh database
(`sqlite_engine`, where the deferred answers are recorded) and a fixed clock, driven in process by a
`BoltDispatcher` (tests/slack/dispatch.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.engine.search import Searcher
from bot.slack.app import create_app
from bot.slack.delivery import make_web_client
from bot.slack.deps import ListenerDeps
from bot.slack.durable import DurableAnswers
from tests.fake_slack import FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack.dispatch import NOW, BoltDispatcher, InlineExecutor

MakeSlack = Callable[..., BoltDispatcher]


@pytest.fixture
def make_slack(fake_slack: FakeSlack, tmp_path: Path, searcher: Searcher, sqlite_engine: Engine) -> MakeSlack:
    """`make_slack(digest_command=..., today_topic=...)`: the app with those hooks, and its dispatcher.
    `client` and `oauth_settings` replace the bot-token client, for OAuth mode; `over` searches another vault
    than the Slack tests' own."""

    def make(
        client: WebClient | None = None,
        oauth_settings: OAuthSettings | None = None,
        over: Searcher | None = None,
        **hooks: Any,
    ) -> BoltDispatcher:
        settings = bot_settings(fake_slack, tmp_path)
        pool = InlineExecutor()
        answers = DurableAnswers(sqlite_engine, pool, lambda: NOW)
        served = over or searcher
        deps = ListenerDeps(lambda: served, sqlite_engine, lambda: NOW, pool, **hooks, durable=answers)
        app = create_app(settings, client or make_web_client(settings), deps, oauth_settings)
        return BoltDispatcher(app, fake_slack)

    return make


@pytest.fixture
def slack(make_slack: MakeSlack) -> BoltDispatcher:
    """The app without digest hooks."""
    return make_slack()
