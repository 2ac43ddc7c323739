"""A bot served with its operations (live vault, metrics, /readyz, OAuth), on loopback, against the fake Slack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.slack.operations import Operations
from bot.slack.server import build_bolt_app, create_asgi_app
from tests.fake_slack import FakeSlack
from tests.postgres import postgres_url
from tests.slack.conftest import VAULT, RunningServer, bot_settings
from tests.slack_sender import SlackSender

__all__ = ["postgres_url"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServedBot:
    server: RunningServer
    ops: Operations
    slack: SlackSender

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def serving(settings: Settings, fake: FakeSlack, watch: bool = False, recover: bool = False) -> Iterator[ServedBot]:
    """The bot with its operations, served on loopback until the block ends (`recover`: heartbeating and answering
    what stopped processes left, as `notesbot serve` does)."""
    ops = Operations.start(settings, utc_now, watch=watch)
    try:
        app = create_asgi_app(build_bolt_app(settings, clock=utc_now, ops=ops, recover=recover), ops=ops)
        with RunningServer(app) as server:
            yield ServedBot(server, ops, SlackSender(server.url, fake))
    finally:
        ops.close()


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A writable copy of the Slack tests' vault."""
    return Path(shutil.copytree(VAULT, tmp_path / "notes"))


@pytest.fixture
def settings(fake_slack: FakeSlack, tmp_path: Path, vault: Path) -> Settings:
    return bot_settings(fake_slack, tmp_path, notes_dir=vault)


@pytest.fixture
def bot(settings: Settings, fake_slack: FakeSlack) -> Iterator[ServedBot]:
    with serving(settings, fake_slack) as served:
        yield served


def settings_with(base: Settings, **changes: Any) -> Settings:
    return base.model_copy(update=changes)
