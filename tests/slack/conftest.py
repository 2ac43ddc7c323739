"""The real app under uvicorn on loopback (`bot_server`), and `slack`, a `SlackSender`
(tests/slack_sender.py) that sends it signed requests as Slack does, with response_urls that point
at the `fake_slack` Web API. For the tests that build the Bolt app in process: `searcher` over the
same vault."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.config import Settings, load_settings
from bot.engine.index_cache import load_vault
from bot.engine.search import Searcher
from bot.slack.server import build_bolt_app, create_asgi_app
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack_sender import CHANNEL, SIGNING_SECRET, USER, SlackSender, free_port

__all__ = ["CHANNEL", "USER", "SlackSender"]

VAULT = Path(__file__).resolve().parent.parent / "fixtures" / "slack_vault"


class RunningServer:
    """uvicorn serving the ASGI app in a thread, on a free loopback port."""

    def __init__(self, asgi_app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-under-test", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bot_settings(fake: FakeSlack, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "notes_dir": VAULT,
        "cache_dir": tmp_path / "cache",
        "database_url": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    return load_settings(**(values | overrides))


def start_bot(settings: Settings) -> RunningServer:
    clock = lambda: datetime.now(UTC)  # noqa: E731
    return RunningServer(create_asgi_app(build_bolt_app(settings, clock=clock)))


@pytest.fixture
def bot_server(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[RunningServer]:
    with start_bot(bot_settings(fake_slack, tmp_path)) as server:
        yield server


@pytest.fixture
def slack(bot_server: RunningServer, fake_slack: FakeSlack) -> SlackSender:
    return SlackSender(bot_server.url, fake_slack)


@pytest.fixture(scope="session")
def searcher() -> Searcher:
    return Searcher(load_vault(VAULT, None).index)
