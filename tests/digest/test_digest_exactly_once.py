"""Exactly one post per channel and day: racing processes, failing posts, lost answers and crashes.

Each test runs on SQLite and on PostgreSQL (127.0.0.1:5432, a fresh database per test)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine, insert

from bot.digest.choose import DigestDay
from bot.digest.ledger import Status, read_claim, read_featured
from bot.digest.poster import DigestPoster, Outcome
from bot.migrate import create_schema
from bot.storage import digest_claims, make_engine
from tests.digest.conftest import FakeChannel, SimClock, index_of, make_poster, write_topics_vault
from tests.digest.racer import fire_digest_job
from tests.fake_slack import BOT_TOKEN, FakeSlack

DAY = DigestDay("T1", "C1", date(2026, 11, 24))
NINE_IN_BERLIN = datetime(2026, 11, 24, 9, 0, 1, tzinfo=ZoneInfo("Europe/Berlin"))


def leave_claim(engine: Engine, *, status: str, minutes_ago: float, clock: SimClock, note: str | None = None) -> None:
    """A claim as another process (or a crashed one) left it."""
    with engine.begin() as connection:
        connection.execute(
            insert(digest_claims).values(
                team_id=DAY.team_id,
                channel_id=DAY.channel_id,
                local_date=DAY.local_date.isoformat(),
                claimed_by="other-host:4242:deadbeef",
                claimed_at=clock() - timedelta(minutes=minutes_ago),
                status=status,
                note_path=note,
                heading="Main idea 0" if note else None,
                attempts=1,
            )
        )


# --- Real processes racing -----------------------------------------------------------------------


def test_three_processes_firing_at_the_same_minute_make_one_web_api_call(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    vault = tmp_path / "vault"
    write_topics_vault(vault, 5)
    engine = make_engine(database_url)
    create_schema(engine)  # once, as `notesbot db upgrade` does before the replicas start
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(3), spawn.Queue()
    arguments = (database_url, str(vault), fake_slack.base_url, BOT_TOKEN, NINE_IN_BERLIN, barrier, results)
    processes = [spawn.Process(target=fire_digest_job, args=arguments) for _ in range(3)]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert [c.method for c in fake_slack.calls] == ["chat.postMessage"], outcomes
    assert outcomes.count(Outcome.POSTED) == 1
    assert set(outcomes) - {Outcome.POSTED} <= {Outcome.BUSY, Outcome.ALREADY}
    claim = read_claim(engine, DAY)
    assert claim.status == Status.POSTED and claim.message_ts is not None
    engine.dispose()


def test_a_post_failing_with_500_twice_then_succeeding_is_posted_once(
    engine: Engine, tmp_path: Path, fake_slack: FakeSlack, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    poster = make_poster(engine, client, index_of(tmp_path), clock)
    fake_slack.fail_next(2, status=500, method="chat.postMessage")
    result = poster.post(DAY)
    assert result.outcome == Outcome.POSTED
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    assert len(fake_slack.calls_to("chat.postMessage", answered_ok=True)) == 1
    # After each 500 the channel was checked before posting again: a 5xx may hide a delivered post.
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert read_claim(engine, DAY).status == Status.POSTED
    assert poster.post(DAY).outcome == Outcome.ALREADY
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


# --- Failing posts -------------------------------------------------------------------------------


def test_a_post_whose_answer_is_lost_is_found_in_the_channel_not_sent_again(
    engine: Engine, tmp_path: Path, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["lost"])
    result = make_poster(engine, slack, index_of(tmp_path), clock).post(DAY)
    assert result.outcome == Outcome.FOUND
    assert len(slack.posts_to("C1")) == 1 and slack.post_calls == 1
    claim = read_claim(engine, DAY)
    assert claim.status == Status.POSTED and claim.message_ts == slack.messages[0]["ts"]
    assert read_featured(engine, "T1", "C1").notes == {claim.note_path}


def test_a_timeout_without_delivery_is_checked_then_posted(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["timeout"])
    assert make_poster(engine, slack, index_of(tmp_path), clock).post(DAY).outcome == Outcome.POSTED
    assert len(slack.posts_to("C1")) == 1 and slack.history_calls == 1


def test_rate_limits_are_waited_out_with_backoff(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["429", "429"])
    before = clock()
    result = make_poster(engine, slack, index_of(tmp_path), clock, retry_delays=(1.0, 2.0, 4.0)).post(DAY)
    assert result.outcome == Outcome.POSTED and len(slack.messages) == 1
    assert slack.history_calls == 0  # a 429 means Slack did not take the post: nothing to check
    assert clock() - before >= timedelta(seconds=3 + 3)  # Retry-After: 3, twice


def test_a_post_slack_refuses_for_good_is_not_retried_by_itself(
    engine: Engine, tmp_path: Path, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["channel_not_found"])
    poster = make_poster(engine, slack, index_of(tmp_path), clock)
    result = poster.post(DAY)
    assert result.outcome == Outcome.FAILED and "channel_not_found" in result.detail
    assert read_claim(engine, DAY).status == Status.FAILED
    assert poster.post(DAY).outcome == Outcome.BUSY and slack.post_calls == 1
    # Once the bot is invited, `notesbot digest --now` retries it.
    assert poster.post(DAY, retry_failed=True).outcome == Outcome.POSTED
    assert len(slack.messages) == 1


def test_a_day_whose_outcome_stays_unknown_is_resolved_by_a_later_run(
    engine: Engine, tmp_path: Path, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["500"] * 4)
    poster = make_poster(engine, slack, index_of(tmp_path), clock)
    assert poster.post(DAY).outcome == Outcome.UNKNOWN
    assert read_claim(engine, DAY).status == Status.CLAIMED  # kept: nobody knows yet whether it arrived
    assert poster.post(DAY).outcome == Outcome.BUSY  # within its lease, nobody else tries
    clock.advance(11 * 60)
    assert poster.post(DAY).outcome == Outcome.POSTED
    assert len(slack.messages) == 1


# --- Crashes between claim and post ----------------------------------------------------------------


def test_a_crash_after_posting_is_recovered_from_the_channel_history(
    engine: Engine, tmp_path: Path, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel(script=["lost"])
    index = index_of(tmp_path)
    # The crashed process posted (its answer lost) and died before recording the ts.
    crashed = make_poster(engine, slack, index, clock, retry_delays=())
    assert crashed.post(DAY).outcome == Outcome.UNKNOWN
    clock.advance(30 * 60)
    result = make_poster(engine, slack, index, clock).post(DAY)
    assert result.outcome == Outcome.FOUND and result.ts == slack.messages[0]["ts"]
    assert len(slack.messages) == 1


def test_a_crash_before_posting_is_posted_by_the_next_run(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    paths = write_topics_vault(tmp_path, 3)
    leave_claim(engine, status=Status.CLAIMED, minutes_ago=30, clock=clock, note=paths[0])
    slack = FakeChannel()
    result = make_poster(engine, slack, index_of(tmp_path), clock).post(DAY)
    assert result.outcome == Outcome.POSTED and slack.history_calls == 1
    # The topic chosen by the crashed process is the one posted.
    assert slack.messages[0]["metadata"]["event_payload"]["note"] == paths[0]


def test_a_claim_that_cannot_be_checked_is_not_posted_blindly(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    write_topics_vault(tmp_path, 3)
    leave_claim(engine, status=Status.CLAIMED, minutes_ago=30, clock=clock)
    slack = FakeChannel(history_error="missing_scope")
    result = make_poster(engine, slack, index_of(tmp_path), clock).post(DAY)
    assert result.outcome == Outcome.UNKNOWN and "missing_scope" in result.detail
    assert slack.post_calls == 0


def test_a_fresh_claim_of_another_process_is_left_alone(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    write_topics_vault(tmp_path, 3)
    leave_claim(engine, status=Status.CLAIMED, minutes_ago=2, clock=clock)
    slack = FakeChannel()
    assert make_poster(engine, slack, index_of(tmp_path), clock).post(DAY).outcome == Outcome.BUSY
    assert slack.post_calls == slack.history_calls == 0


def test_force_posts_again_and_keeps_the_cycle(engine: Engine, tmp_path: Path, clock: SimClock) -> None:
    write_topics_vault(tmp_path, 3)
    slack = FakeChannel()
    poster = make_poster(engine, slack, index_of(tmp_path), clock)
    first = poster.post(DAY)
    again = poster.post(DAY, force=True)
    assert again.outcome == Outcome.POSTED and again.ts != first.ts
    assert read_claim(engine, DAY).message_ts == again.ts
    featured = read_featured(engine, "T1", "C1")
    assert featured.cycle == 0 and len(featured.notes) == 1


def test_times_are_compared_as_utc_on_every_database(engine: Engine, clock: SimClock) -> None:
    leave_claim(engine, status=Status.CLAIMED, minutes_ago=0, clock=clock)
    assert read_claim(engine, DAY).claimed_at == clock().astimezone(UTC)


def test_a_workspace_without_the_app_installed_fails_without_claiming_the_day(
    engine: Engine, tmp_path: Path, clock: SimClock
) -> None:
    write_topics_vault(tmp_path, 3)

    def not_installed(team_id: str) -> WebClient:
        raise LookupError(f"no installation of the app in workspace {team_id}")

    poster = DigestPoster(engine, not_installed, lambda: index_of(tmp_path), clock)
    result = poster.post(DAY)
    assert result.outcome == Outcome.FAILED and "no installation" in result.detail
    assert read_claim(engine, DAY) is None
