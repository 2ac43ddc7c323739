"""Deferred answers outlive their process: recorded before the ack, answered once by another process when theirs
died before posting, never posted again when a post may have arrived, posted again when it is known to have failed,
handed on when their process stops, and answered with their workspace's token."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine, select

from bot.slack import pending
from bot.slack.delivery import call, post_to_response_url
from bot.slack.deps import ListenerDeps
from bot.slack.durable import DEAD_AFTER, DurableAnswers, deferred, storable, workspace_clients
from bot.storage import make_engine, pending_answers
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.dispatch import InlineExecutor

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
INSTALLED_TEAM = "T0INSTALL1"


class ProcessDied(BaseException):
    """Raised by a piece of work to stop where a crash would: nothing after it runs, nothing is marked (the
    executors keep it in their future)."""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class HeldExecutor(Executor):
    """Keeps the work handed to it, as a process that stops before running it would; `run_held()` runs it late."""

    def __init__(self) -> None:
        self.held: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        self.held.append((fn, args))
        return Future()

    def run_held(self) -> None:
        for fn, args in self.held:
            fn(*args)


DYING = "dying"  # the deps of a process that stops right after its first post, as a crash would


@deferred("tests.durable.answer")
def answer(deps: Any, body: dict[str, Any], _client: WebClient) -> None:
    """Post the answer to the body's response_url."""
    post_to_response_url(body["response_url"], {"text": f"answer to {body['text']}"})
    if deps == DYING:
        raise ProcessDied


@deferred("tests.durable.private_answer", repeatable=True)
def private_answer(deps: Any, body: dict[str, Any], _client: WebClient) -> None:
    """Post the answer to the body's response_url, for its asker alone."""
    post_to_response_url(body["response_url"], {"response_type": "ephemeral", "text": f"answer to {body['text']}"})
    if deps == DYING:
        raise ProcessDied


@deferred("tests.durable.thread_answer")
def thread_answer(deps: Any, body: dict[str, Any], client: WebClient) -> None:
    """Post the answer in a thread, through the Web API."""
    call(client.chat_postMessage, channel="C0GENERAL1", thread_ts="1.2", text=f"answer to {body['text']}")
    if deps == DYING:
        raise ProcessDied


release = threading.Event()


@deferred("tests.durable.slow")
def slow(_deps: Any, _body: dict[str, Any], _client: WebClient) -> None:
    release.wait(10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)


@pytest.fixture
def survivor(engine: Engine, clock: Clock, client: WebClient) -> DurableAnswers:
    """Another process on the same database, answering what stopped processes left each time it `recover_once`s."""
    answers = DurableAnswers(engine, InlineExecutor(), clock, worker="survivor")
    answers.replay_with(None, workspace_clients(client, None))
    return answers


def question(fake: FakeSlack, **more: Any) -> dict[str, Any]:
    return {"command": "/notes", "text": "computer vision", "response_url": fake.response_url(), "token": "t0k"} | more


def posts(fake: FakeSlack) -> list[str]:
    return [c.body.get("text", "") for c in fake.calls_to("response_url", answered_ok=True)]


def rows(engine: Engine) -> list[tuple[str, str | None, int]]:
    with engine.connect() as connection:
        found = connection.execute(select(pending_answers).order_by(pending_answers.c.id)).all()
    return [(r.status, r.owner, r.attempts) for r in found]


def died(engine: Engine, clock: Clock, executor: Executor | None = None) -> DurableAnswers:
    """A process that heartbeated once, now, and never again (a crash, or a long pause)."""
    pending.heartbeat(engine, "died", clock())
    return DurableAnswers(engine, executor or InlineExecutor(), clock, worker="died")


def after_its_death(clock: Clock) -> None:
    clock.advance(DEAD_AFTER + timedelta(seconds=1))


# ---- recording ---------------------------------------------------------------------------------------------------


def test_a_question_is_on_disk_when_submit_returns_and_done_once_answered(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient
) -> None:
    executor = HeldExecutor()
    answers = DurableAnswers(engine, executor, clock, worker="A")

    answers.submit(answer, None, question(fake_slack), client)
    assert rows(engine) == [("pending", "A", 0)]

    executor.run_held()
    assert posts(fake_slack) == ["answer to computer vision"]
    assert rows(engine) == [("done", "A", 1)]


def test_a_stored_question_keeps_the_payload_but_not_slacks_verification_token() -> None:
    assert storable({"token": "t0k", "text": "vision", "response_url": "u"}) == {"text": "vision", "response_url": "u"}


def test_deferred_work_must_be_registered_to_be_handed_on(engine: Engine, clock: Clock, client: WebClient) -> None:
    def unnamed(_deps: Any, _body: dict[str, Any], _client: WebClient) -> None:
        pass

    deps = ListenerDeps(lambda: None, engine, clock, InlineExecutor())  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"register it with @deferred"):
        deps.later(unnamed, deps, {}, client)


def test_a_database_that_cannot_record_does_not_lose_the_answer(
    tmp_path: Path, clock: Clock, fake_slack: FakeSlack, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no tables: every statement fails
    DurableAnswers(unmigrated, InlineExecutor(), clock).submit(answer, None, question(fake_slack), client)

    assert posts(fake_slack) == ["answer to computer vision"]
    assert "could not record tests.durable.answer" in caplog.text


# ---- a process that died -----------------------------------------------------------------------------------------


def test_a_question_whose_process_died_before_posting_is_answered_once_by_another(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient, survivor: DurableAnswers
) -> None:
    died(engine, clock, HeldExecutor()).submit(answer, None, question(fake_slack), client)  # never run

    survivor.recover_once()
    assert posts(fake_slack) == []  # its owner might only be slow: not yet
    after_its_death(clock)
    survivor.recover_once()
    survivor.recover_once()

    assert posts(fake_slack) == ["answer to computer vision"]
    assert rows(engine) == [("done", "survivor", 1)]


@pytest.mark.parametrize(
    ("work", "posted", "status", "logged"),
    [
        (answer, 1, "unknown", "not posted again, since it may have arrived"),
        # nothing can read an ephemeral reply back: its asker may see it twice, but never has no answer
        (private_answer, 2, "done", "a post that nothing can read back and no one else sees twice; answering it again"),
    ],
    ids=["a post others may see is not posted again", "a repeatable answer is answered again"],
)
def test_a_question_whose_post_was_attempted_before_the_process_died(
    engine: Engine,
    clock: Clock,
    fake_slack: FakeSlack,
    client: WebClient,
    survivor: DurableAnswers,
    caplog: pytest.LogCaptureFixture,
    work: Callable[..., None],
    posted: int,
    status: str,
    logged: str,
) -> None:
    died(engine, clock).submit(work, DYING, question(fake_slack), client)  # stops right after its post
    assert rows(engine) == [("posting", "died", 1)]

    after_its_death(clock)
    survivor.recover_once()

    assert posts(fake_slack) == ["answer to computer vision"] * posted
    assert [row_status for row_status, _, _ in rows(engine)] == [status]
    assert logged in caplog.text


def test_a_repeatable_answer_cannot_also_be_looked_for() -> None:
    with pytest.raises(ValueError, match="cannot also be looked for"):
        deferred("tests.durable.both", answered=lambda _deps, _body, _client: None, repeatable=True)


def test_a_question_whose_post_failed_before_the_process_died_is_posted_again(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient, survivor: DurableAnswers
) -> None:
    fake_slack.fail_next(1, error="expired_url", method="response_url")
    died(engine, clock).submit(answer, DYING, question(fake_slack), client)  # stops right after its post
    assert rows(engine) == [("pending", "died", 1)]  # Slack refused it: nothing arrived

    after_its_death(clock)
    survivor.recover_once()

    assert [c.status for c in fake_slack.calls_to("response_url")] == [400, 200]
    assert rows(engine) == [("done", "survivor", 2)]


def test_a_web_api_post_is_watched_like_a_response_url_post(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient, survivor: DurableAnswers
) -> None:
    fake_slack.fail_next(1, error="channel_not_found", method="chat.postMessage")
    died(engine, clock).submit(thread_answer, DYING, {"text": "vision"}, client)  # refused, then stops
    died(engine, clock).submit(thread_answer, DYING, {"text": "robotics"}, client)  # posted, then stops
    assert rows(engine) == [("pending", "died", 1), ("posting", "died", 1)]

    after_its_death(clock)
    survivor.recover_once()

    assert [c.body["text"] for c in fake_slack.calls_to("chat.postMessage")] == [
        "answer to vision",
        "answer to robotics",
        "answer to vision",
    ]
    assert rows(engine) == [("done", "survivor", 2), ("unknown", "died", 1)]


def test_a_question_taken_over_is_not_posted_by_its_first_owner_when_it_wakes_up(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient, survivor: DurableAnswers
) -> None:
    executor = HeldExecutor()
    paused = died(engine, clock, executor)  # not dead: paused for longer than DEAD_AFTER
    paused.submit(answer, None, question(fake_slack), client)
    after_its_death(clock)
    survivor.recover_once()

    executor.run_held()  # it wakes up and runs what it had

    assert posts(fake_slack) == ["answer to computer vision"]
    assert rows(engine) == [("done", "survivor", 1)]


def test_a_question_of_work_this_version_does_not_know_is_dropped_and_logged(
    engine: Engine, clock: Clock, survivor: DurableAnswers, caplog: pytest.LogCaptureFixture
) -> None:
    pending.record(engine, "renamed_since", {"text": "x"}, None, "gone", NOW, NOW + timedelta(minutes=30))
    clock.advance(timedelta(minutes=1))
    survivor.recover_once()

    assert rows(engine) == [("dropped", "survivor", 0)]
    assert "no deferred work is registered as 'renamed_since'" in caplog.text


# ---- stopping ----------------------------------------------------------------------------------------------------


def test_stopping_hands_the_questions_not_started_to_the_others_at_once(
    engine: Engine, clock: Clock, fake_slack: FakeSlack, client: WebClient, survivor: DurableAnswers
) -> None:
    stopping = DurableAnswers(engine, HeldExecutor(), clock, worker="stopping")
    stopping.start(None, workspace_clients(client, None))
    stopping.submit(answer, None, question(fake_slack), client)

    stopping.stop()
    survivor.recover_once()  # no waiting for a heartbeat to go stale

    assert posts(fake_slack) == ["answer to computer vision"]


def test_draining_waits_for_the_work_under_way(engine: Engine, clock: Clock, client: WebClient) -> None:
    release.clear()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = DurableAnswers(engine, pool, clock)
        answers.submit(slow, None, {}, client)
        assert answers.drain(0.2) == 1
        release.set()
        assert answers.drain(10) == 0


# ---- workspaces --------------------------------------------------------------------------------------------------


def test_a_replayed_question_gets_its_workspaces_token_and_none_once_uninstalled(
    engine: Engine, client: WebClient
) -> None:
    store = SQLAlchemyInstallationStore(client_id="1111.2222", engine=engine)
    store.save(
        Installation(
            app_id="A0NOTESBOT",
            team_id=INSTALLED_TEAM,
            user_id="U0INSTALLR",
            bot_token="xoxb-installed",
            bot_id="B1",
            bot_user_id="UB1",
            installed_at=NOW.timestamp(),
        )
    )
    client_for = workspace_clients(client, store)

    assert client_for({"team_id": INSTALLED_TEAM, "command": "/notes"}).token == "xoxb-installed"
    assert client_for({"type": "block_actions", "team": {"id": INSTALLED_TEAM}}).token == "xoxb-installed"
    with pytest.raises(LookupError, match="no installation of the app in workspace T0OTHER1"):
        client_for({"team_id": "T0OTHER1", "command": "/notes"})
    assert workspace_clients(client, None)({"team_id": "anything"}) is client
