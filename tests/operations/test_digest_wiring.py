"""The digest posts with the right workspace's token, its Slack errors are counted, and so are its posts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.digest.poster import Outcome, Result
from bot.slack.operations import Operations
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.oauth_flow import INSTALLED_TEAM, oauth_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def value(ops: Operations, name: str, **labels: str) -> float:
    return ops.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def oauth_ops(fake_slack: FakeSlack, tmp_path: Path, vault: Path):
    ops = Operations.start(oauth_settings(fake_slack, tmp_path, vault), utc_now)
    yield ops
    ops.close()


def test_in_oauth_mode_the_digest_posts_with_the_workspace_installed_token(oauth_ops: Operations, fake_slack) -> None:
    store = oauth_ops.oauth_settings.installation_store
    store.save(Installation(app_id="A1", team_id=INSTALLED_TEAM, user_id="U1", bot_token=BOT_TOKEN, bot_id="B1"))
    client_for = oauth_ops.digest_client_for()

    client_for(INSTALLED_TEAM).chat_postMessage(channel="C0DIGEST01", text="topic of the day")

    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_in_oauth_mode_a_workspace_without_installation_has_no_digest_client(oauth_ops: Operations) -> None:
    with pytest.raises(LookupError, match="T0NOBODY"):
        oauth_ops.digest_client_for()("T0NOBODY")


def test_the_digest_client_counts_its_slack_errors(settings, fake_slack: FakeSlack) -> None:
    ops = Operations.start(settings, utc_now)
    try:
        client = ops.digest_client_for()("")
        fake_slack.fail_next(1, error="not_in_channel", method="chat.postMessage")
        with pytest.raises(Exception, match="not_in_channel"):
            client.chat_postMessage(channel="C0DIGEST01", text="topic of the day")
    finally:
        ops.close()

    assert value(ops, "notesbot_slack_api_errors_total", method="chat.postMessage", error="not_in_channel") == 1


def test_digest_posts_and_failures_are_counted_but_skips_are_not(settings) -> None:
    ops = Operations.start(settings, utc_now)
    ops.close()

    for outcome in (Outcome.POSTED, Outcome.FOUND, Outcome.FAILED, Outcome.UNKNOWN, Outcome.ALREADY, Outcome.BUSY):
        ops.record_digest(Result(outcome))

    assert value(ops, "notesbot_digest_posts_total") == 2
    assert value(ops, "notesbot_digest_failures_total") == 2
