"""Three `notesbot serve` processes on loopback ports sharing one PostgreSQL database behave as one bot: an
event delivered to all three (as Slack's retries may be) is answered once, the day's digest fired in all
three at once is posted once, and a workspace installed through one is served by the others."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.oauth_flow import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTALLED_TEAM,
    STATE_SECRET,
    InstallingFakeSlack,
    finish_install,
    start_install,
)
from tests.postgres import fresh_database
from tests.replicas import Replica
from tests.slack.conftest import VAULT
from tests.slack_sender import APP_ID, SIGNING_SECRET, SlackSender

DIGEST_CHANNEL = "C0DIGEST01"
SETTLE = 1.5  # seconds for a duplicate answer, if there were one, to arrive


def start_replicas(settings: dict[str, str], folder: Path, count: int = 3) -> list[Replica]:
    replicas = [Replica(f"replica-{i}", settings, folder / f"replica-{i}.log") for i in range(1, count + 1)]
    try:
        for replica in replicas:
            replica.wait_ready()
    except Exception:
        for replica in replicas:
            replica.stop()
        raise
    return replicas


def common_settings(fake: FakeSlack, database_url: str, folder: Path) -> dict[str, str]:
    return {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "NOTES_DIR": str(VAULT),
        "NOTESBOT_CACHE_DIR": str(folder / "cache"),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def replicas(module_fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Replica]]:
    folder = tmp_path_factory.mktemp("replicas")
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    with fresh_database() as database_url:
        settings = common_settings(module_fake_slack, database_url, folder) | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            # Due a minute ago, within the grace period: each replica's scheduler fires it as it starts.
            "DIGEST_CHANNEL": DIGEST_CHANNEL,
            "DIGEST_TIME": f"{a_minute_ago:%H:%M}",
            "DIGEST_TIMEZONE": "UTC",
            "DIGEST_GRACE_MINUTES": "60",
        }
        started = start_replicas(settings, folder)
        yield started
        for replica in started:
            replica.stop()


def test_an_event_delivered_to_all_three_replicas_is_answered_once(
    module_fake_slack: FakeSlack, replicas: list[Replica]
) -> None:
    senders = [SlackSender(replica.url, module_fake_slack) for replica in replicas]
    event = senders[0].message_event("<@UBOT0001> computer vision", type="app_mention")
    retries = [{}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}, {"X-Slack-Retry-Num": "2"}]

    with ThreadPoolExecutor(max_workers=3) as pool:
        responses = list(pool.map(lambda s, h: s.event(event, "EvREPLICAS01", h), senders, retries))

    assert [r.status_code for r in responses] == [200, 200, 200]
    module_fake_slack.wait_until(lambda: answers_in_thread(module_fake_slack, event["ts"]) >= 1)
    time.sleep(SETTLE)
    assert answers_in_thread(module_fake_slack, event["ts"]) == 1


def answers_in_thread(fake: FakeSlack, thread_ts: str) -> int:
    return sum(c.body.get("thread_ts") == thread_ts for c in fake.calls_to("chat.postMessage"))


def test_every_replica_answers_slash_commands(module_fake_slack: FakeSlack, replicas: list[Replica]) -> None:
    before = len(module_fake_slack.calls_to("response_url"))
    for replica in replicas:
        SlackSender(replica.url, module_fake_slack).command("computer vision")

    answers = module_fake_slack.wait_for("response_url", count=before + 3)[before:]
    assert all("Computer Vision and Robotics" in json.dumps(a.body) for a in answers)


def test_the_digest_fired_in_all_three_at_once_is_posted_once(
    module_fake_slack: FakeSlack, replicas: list[Replica]
) -> None:
    module_fake_slack.wait_until(lambda: digest_posts(module_fake_slack) >= 1, timeout=20)
    time.sleep(SETTLE)

    assert digest_posts(module_fake_slack) == 1


def digest_posts(fake: FakeSlack) -> int:
    return sum(c.body.get("channel") == DIGEST_CHANNEL for c in fake.calls_to("chat.postMessage", answered_ok=True))


# --- many workspaces -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installing_fake() -> Iterator[InstallingFakeSlack]:
    with InstallingFakeSlack() as fake:
        yield fake
    assert not fake.violations


@pytest.fixture(scope="module")
def oauth_replicas(
    installing_fake: InstallingFakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    folder = tmp_path_factory.mktemp("oauth-replicas")
    with fresh_database() as database_url:
        settings = common_settings(installing_fake, database_url, folder) | {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_STATE_SECRET": STATE_SECRET,
        }
        started = start_replicas(settings, folder)
        yield started
        for replica in started:
            replica.stop()


def test_a_workspace_installed_through_one_replica_is_served_by_all_and_uninstalled_by_any(
    installing_fake: InstallingFakeSlack, oauth_replicas: list[Replica]
) -> None:
    first, second, third = oauth_replicas
    assert finish_install(first.url, start_install(first.url)).status_code == 200

    for replica in (second, third):
        SlackSender(replica.url, installing_fake).command("computer vision", team_id=INSTALLED_TEAM)
    answers = installing_fake.wait_for("response_url", count=2)
    assert all("Computer Vision and Robotics" in json.dumps(a.body) for a in answers)

    uninstalled = {
        "team_id": INSTALLED_TEAM,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": "EvUNINSTALL1",
        "event_time": int(time.time()),
        "event": {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"},
    }
    assert SlackSender(third.url, installing_fake).post(json.dumps(uninstalled), "application/json").status_code == 200
    time.sleep(SETTLE)
    SlackSender(first.url, installing_fake).command("computer vision", team_id=INSTALLED_TEAM)
    [*_, reply] = installing_fake.wait_for("response_url", count=3)
    assert "reinstall" in reply.body["text"]


def test_no_replica_logs_a_token_or_a_secret(replicas: list[Replica], oauth_replicas: list[Replica]) -> None:
    logs = "".join(replica.log() for replica in (*replicas, *oauth_replicas))

    assert '"kind": "slash_command"' in logs  # the request lines are there
    for secret in (BOT_TOKEN, SIGNING_SECRET, CLIENT_SECRET, STATE_SECRET):
        assert secret not in logs
