"""The observer hooks Bolt through its public `App.listener_runner`: each request counted once, when its answer
is done, with the outcome of its first search; a Bolt whose runner changed is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_bolt import App
from sqlalchemy import Engine, select

from bot.engine.search import Searcher
from bot.metrics import Metrics
from bot.slack.app import create_app
from bot.slack.delivery import make_web_client
from bot.slack.deps import ListenerDeps
from bot.slack.messages import HELPFUL_ACTION, SEARCH_BLOCK, SEARCH_INPUT, search_modal
from bot.slack.observe import Observer
from bot.storage import queries
from tests.fake_slack import FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack.dispatch import NOW, BoltDispatcher, InlineExecutor
from tests.slack_sender import SIGNING_SECRET

Observed = tuple[BoltDispatcher, Metrics]


def requests(metrics: Metrics, kind: str, outcome: str) -> float:
    return metrics.registry.get_sample_value("notesbot_requests_total", {"kind": kind, "outcome": outcome}) or 0.0


@pytest.fixture
def observed(fake_slack: FakeSlack, tmp_path: Path, searcher: Searcher, sqlite_engine: Engine) -> Observed:
    """The app with its searches, answer pool and listener runs observed, as bot.slack.server builds it."""
    metrics = Metrics()
    observer = Observer(metrics, sqlite_engine, lambda: NOW)
    pool = observer.answer_pool(InlineExecutor())
    deps = ListenerDeps(lambda: observer.searcher(searcher), sqlite_engine, lambda: NOW, pool)
    settings = bot_settings(fake_slack, tmp_path)
    app = create_app(settings, make_web_client(settings), deps)
    observer.instrument(app)
    return BoltDispatcher(app, fake_slack), metrics


def test_a_command_is_counted_once_with_the_outcome_of_its_search(observed: Observed, sqlite_engine: Engine) -> None:
    slack, metrics = observed

    slack.command("computer vision")
    slack.command("zzqx")

    assert requests(metrics, "slash_command", "answered") == 1
    assert requests(metrics, "slash_command", "nothing_found") == 1
    with sqlite_engine.connect() as connection:
        asked = connection.execute(select(queries.c.kind, queries.c.query, queries.c.hits)).all()
    assert [(kind, query, hits > 0) for kind, query, hits in asked] == [
        ("slash_command", "computer vision", True),
        ("slash_command", "zzqx", False),
    ]


def test_a_button_is_counted_but_its_search_is_not_kept_as_a_question(
    observed: Observed, sqlite_engine: Engine
) -> None:
    slack, metrics = observed

    slack.action(HELPFUL_ACTION, '{"q": "computer vision", "i": 0}')

    assert requests(metrics, "button", "answered") == 1
    with sqlite_engine.connect() as connection:
        assert connection.execute(select(queries)).all() == []


def test_a_bolt_whose_listener_runner_is_not_its_thread_runner_is_refused_at_start() -> None:
    class ChangedBolt(App):
        @property
        def listener_runner(self) -> object:  # type: ignore[override]
            return object()

    app = ChangedBolt(token="xoxb-unused", signing_secret=SIGNING_SECRET, token_verification_enabled=False)

    with pytest.raises(RuntimeError, match="not a ThreadListenerRunner"):
        Observer(Metrics(), None, lambda: NOW).instrument(app)


def test_questions_in_assistant_threads_shortcuts_and_the_modal_are_counted_and_kept(
    observed: Observed, sqlite_engine: Engine
) -> None:
    """The assistant's middleware runs its listeners before the observer's middleware would: they are counted
    all the same."""
    slack, metrics = observed
    dm = {"type": "message", "channel": "D0DIRECT1", "channel_type": "im", "thread_ts": "1700000100.000100"}

    slack.event(slack.message_event("computer vision", **dm))
    slack.message_shortcut("notes_find_message", {"user": "U0OTHER01", "ts": "1.5", "text": "origami crane"})
    slack.view_submission(search_modal() | {"id": "V1", "hash": "h"}, SEARCH_BLOCK, SEARCH_INPUT, "zeppelin")

    assert requests(metrics, "message", "answered") == 1
    assert requests(metrics, "message_action", "answered") == 1
    assert requests(metrics, "view_submission", "answered") == 1
    with sqlite_engine.connect() as connection:
        asked = connection.execute(select(queries.c.kind, queries.c.query)).all()
    assert sorted(asked) == [
        ("message", "computer vision"),
        ("message_action", "origami crane"),
        ("view_submission", "zeppelin"),
    ]
