"""Nothing acknowledged is lost when a `notesbot serve` process stops, with Slack answering as slowly as across the
internet (250 ms a post, so that answers queue up behind the acks):

- SIGTERM in the middle of a burst of slash commands and mentions: every request acknowledged with a 200 is
  answered, once; requests arriving after the signal are refused (HTTP 503, so Slack retries them elsewhere), or in
  Socket Mode the connection is closed; the process exits 0.
- SIGKILL right after acknowledging a burst: with two processes on PostgreSQL, the survivor answers every question
  the killed one had not, once, within 30 s; with one process on SQLite, the restarted process does.

A question whose killed process had already sent its post cannot always be told from one killed in the instant
between marking its post attempt and sending it (a post to Slack has no idempotency key). A mention's reply is looked
for in its thread: found, it is not posted again; absent, it is; where Slack will not say, it is not posted again and
logged. A private `/notes` answer, which nothing can read back, is answered again and logged: its asker may see it
twice. The tests check that every question that did not arrive is such an unknown one, and that only private answers
arrive twice, no more of them than were logged as answered again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.slack.durable import REPEATED
from bot.storage import make_engine, pending_answers
from tests.fake_slack import APP_TOKEN, FakeSlack
from tests.fake_socket_mode import FakeSocketMode, SocketModeSender
from tests.postgres import fresh_database
from tests.replicas import Replica, serve_settings
from tests.slack_sender import FORM, SIGNING_SECRET, SlackSender
from tests.waiting import eventually

SLACK_ROUND_TRIP = 0.25  # seconds Slack takes to answer a post
ANSWER_WITHIN = 30.0  # after a crash, seconds until every question is answered
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Asked:
    kind: str  # "command" or "mention"
    where: str  # the response_url's path, or the mention's ts (its answer's thread)
    acked: bool  # HTTP 200, or an envelope acked


@pytest.fixture
def slow_slack(fake_slack: FakeSlack) -> FakeSlack:
    for method in ("response_url", "chat.postMessage"):
        fake_slack.slow_down(method, SLACK_ROUND_TRIP)
    return fake_slack


@pytest.fixture
def socket_mode(slow_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode(slow_slack) as endpoint:
        yield endpoint


def settings(fake: FakeSlack, folder: Path, database_url: str | None = None, **more: str) -> dict[str, str]:
    database = {"DATABASE_URL": database_url} if database_url else {}
    return serve_settings(fake.base_url, folder, SLACK_SIGNING_SECRET=SIGNING_SECRET, **database, **more)


def ask(sender: SlackSender | SocketModeSender, number: int) -> Asked:
    """Every third request a mention, the others slash commands."""
    if number % 3 == 2:
        ts = f"{1_800_000_000 + next(_numbers)}.000100"
        event = sender.message_event("<@UBOT0001> robotics", type="app_mention", ts=ts, event_ts=ts)
        return Asked("mention", ts, _acked(sender, sender.event_body(event), "application/json"))
    response_url = sender.fake.response_url()
    body = sender.command_body("computer vision", response_url=response_url)
    return Asked("command", "/" + response_url.split("/", 3)[3], _acked(sender, body, FORM))


def _acked(sender: SlackSender | SocketModeSender, body: str, content_type: str) -> bool:
    if isinstance(sender, SocketModeSender):
        envelope_id = sender.post(body, content_type)
        return eventually(lambda: any(a.envelope_id == envelope_id for a in sender.endpoint.acks), within=3)
    try:
        return sender.post(body, content_type).status_code == 200
    except httpx.TransportError:
        return False


def burst(sender: SlackSender | SocketModeSender, count: int) -> list[Asked]:
    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(lambda n: ask(sender, n), range(count)))


def answers_to(fake: FakeSlack, asked: Asked) -> int:
    if asked.kind == "command":
        return sum(c.path == asked.where for c in fake.calls_to("response_url", answered_ok=True))
    return sum(c.body.get("thread_ts") == asked.where for c in fake.calls_to("chat.postMessage", answered_ok=True))


def answered(fake: FakeSlack, asked: list[Asked]) -> int:
    return sum(answers_to(fake, a) > 0 for a in asked)


def statuses(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(pending_answers.c.status)).scalars().all()
    finally:
        engine.dispose()
    return {status: found.count(status) for status in set(found)}


def check_nothing_lost(fake: FakeSlack, acked: list[Asked], database_url: str, logs: str) -> None:
    """Every acknowledged question answered once, but for those whose post attempt was cut short by the kill: a reply
    in a thread is looked for, and if Slack will not say it is `unknown` (logged as not posted again); a private
    `/notes` answer, which nothing can read back, is answered again (logged), so its asker may see it twice."""
    twice = [a for a in acked if answers_to(fake, a) > 1]
    lost = [a for a in acked if answers_to(fake, a) == 0]
    assert [a for a in twice if a.kind != "command"] == []
    assert len(twice) <= logs.count(REPEATED)
    unknown = statuses(database_url).get("unknown", 0)
    assert len(lost) <= unknown, (lost, statuses(database_url))
    assert logs.count("not posted again, since it may have arrived") == unknown


# ---- SIGTERM -----------------------------------------------------------------------------------------------------


def test_sigterm_in_a_burst_answers_every_acknowledged_request_refuses_later_ones_and_exits_0(
    slow_slack: FakeSlack, tmp_path: Path
) -> None:
    replica = Replica("stopping", settings(slow_slack, tmp_path), tmp_path / "serve.log")
    try:
        replica.wait_ready()
        sender = SlackSender(replica.url, slow_slack)
        before = burst(sender, 45)
        replica.terminate()
        answered_at_sigterm = answered(slow_slack, before)
        assert eventually(lambda: httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 503, within=10)
        after = burst(sender, 9)

        assert replica.exit_code(timeout=60) == 0
    finally:
        replica.stop()

    assert all(a.acked for a in before)
    assert answered_at_sigterm < len(before)  # answers were still queued when the signal came
    assert [answers_to(slow_slack, a) for a in before] == [1] * len(before)
    assert not any(a.acked for a in after)  # 503: not acknowledged, so Slack retries the events elsewhere
    assert [answers_to(slow_slack, a) for a in after] == [0] * len(after)
    log = replica.log()
    assert "SIGTERM: refusing new requests; finishing the answers under way" in log
    assert "Traceback" not in log
    assert statuses(settings(slow_slack, tmp_path)["DATABASE_URL"]) == {"done": len(before)}


def test_sigterm_over_socket_mode_closes_the_connection_answers_every_ack_and_exits_0(
    slow_slack: FakeSlack, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    socket_settings = settings(slow_slack, tmp_path, SLACK_APP_TOKEN=APP_TOKEN)
    replica = Replica("stopping", socket_settings, tmp_path / "serve.log")
    try:
        replica.wait_ready()
        sender = SocketModeSender(socket_mode)
        before = burst(sender, 45)
        replica.terminate()
        answered_at_sigterm = answered(slow_slack, before)
        socket_mode.wait_until(lambda: not socket_mode.open_links(), timeout=10)
        handshakes = socket_mode.handshakes

        assert replica.exit_code(timeout=60) == 0
    finally:
        replica.stop()

    assert all(a.acked for a in before)
    assert answered_at_sigterm < len(before)
    assert [answers_to(slow_slack, a) for a in before] == [1] * len(before)
    assert socket_mode.handshakes == handshakes  # closed for good: no reconnect while finishing
    assert "SIGTERM: closing the Socket Mode connection" in replica.log()


# ---- SIGKILL -----------------------------------------------------------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def test_a_replica_killed_after_acknowledging_a_burst_leaves_every_answer_to_the_survivor(
    slow_slack: FakeSlack, postgres: str, tmp_path: Path
) -> None:
    replicas = [Replica(name, settings(slow_slack, tmp_path, postgres), tmp_path / f"{name}.log") for name in "AB"]
    try:
        for replica in replicas:
            replica.wait_ready()
        killed, survivor = replicas
        acked = [a for a in burst(SlackSender(killed.url, slow_slack), 45) if a.acked]
        killed.kill()
        killed_at = time.monotonic()

        settled = eventually(lambda: _all_finished(postgres), within=40)
        took = time.monotonic() - killed_at
    finally:
        for replica in replicas:
            replica.stop()

    assert len(acked) == 45 and settled and took < ANSWER_WITHIN, f"{took:.1f} s"
    check_nothing_lost(slow_slack, acked, postgres, survivor.log())
    assert survivor.log().count("left by a stopped process") >= 1


def test_a_process_killed_on_sqlite_answers_its_acknowledged_questions_once_restarted(
    slow_slack: FakeSlack, tmp_path: Path
) -> None:
    bot_settings = settings(slow_slack, tmp_path)
    first = Replica("first", bot_settings, tmp_path / "first.log")
    restarted: Replica | None = None
    try:
        first.wait_ready()
        acked = [a for a in burst(SlackSender(first.url, slow_slack), 45) if a.acked]
        first.kill()
        killed_at = time.monotonic()
        restarted = Replica("restarted", bot_settings, tmp_path / "restarted.log")

        settled = eventually(lambda: _all_finished(bot_settings["DATABASE_URL"]), within=40)
        took = time.monotonic() - killed_at
    finally:
        first.stop()
        if restarted is not None:
            restarted.stop()

    assert len(acked) == 45 and settled and took < ANSWER_WITHIN, f"{took:.1f} s"
    check_nothing_lost(slow_slack, acked, bot_settings["DATABASE_URL"], restarted.log())
    assert restarted.log().count("left by a stopped process") >= 1


def _all_finished(database_url: str) -> bool:
    """Every question answered, or given up as possibly answered: nothing running or waiting any more."""
    return set(statuses(database_url)) <= {"done", "unknown"}
