"""GET /metrics counts what the bot does; each request is one structured log line that leaks no secret."""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.engine.live import LiveVault
from bot.metrics import Metrics
from bot.slack import pending
from bot.slack.delivery import retry_handlers
from bot.slack.pending import Status
from tests.fake_slack import BOT_TOKEN, FakeSlack


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_requests_are_counted_by_kind_and_outcome_and_timed() -> None:
    metrics = Metrics()

    with metrics.request("slash_command") as request:
        request.outcome = "answered"
    with metrics.request("slash_command") as request:
        request.outcome = "nothing_found"
    with metrics.request("mention") as request:
        request.outcome = "answered"

    assert value(metrics, "notesbot_requests_total", kind="slash_command", outcome="answered") == 1
    assert value(metrics, "notesbot_requests_total", kind="slash_command", outcome="nothing_found") == 1
    assert value(metrics, "notesbot_requests_total", kind="mention", outcome="answered") == 1
    assert value(metrics, "notesbot_answer_latency_seconds_count", kind="slash_command") == 2
    assert value(metrics, "notesbot_answer_latency_seconds_bucket", kind="mention", le="+Inf") == 1


def test_a_request_that_raises_is_counted_as_an_error() -> None:
    metrics = Metrics()

    with pytest.raises(RuntimeError), metrics.request("block_action"):
        raise RuntimeError("boom")

    assert value(metrics, "notesbot_requests_total", kind="block_action", outcome="error") == 1


def test_searches_digests_are_counted() -> None:
    metrics = Metrics()

    metrics.record_search(hits=3)
    metrics.record_search(hits=0)
    metrics.record_search(hits=0)
    metrics.record_digest(posted=True)
    metrics.record_digest(posted=False)

    assert value(metrics, "notesbot_searches_total", found="yes") == 1
    assert value(metrics, "notesbot_searches_total", found="no") == 2
    assert value(metrics, "notesbot_digest_posts_total") == 1
    assert value(metrics, "notesbot_digest_failures_total") == 1


def test_each_server_counts_only_its_own_requests() -> None:
    first, second = Metrics(), Metrics()

    with first.request("mention"):
        pass

    assert value(second, "notesbot_requests_total", kind="mention", outcome="ok") == 0


def test_index_size_and_age_are_read_from_the_live_vault(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("---\ntitle: A\n---\n## One\nfirst\n## Two\nsecond\n")
    now = [1000.0]
    live = LiveVault(notes, None, clock=lambda: now[0])
    metrics = Metrics()
    metrics.track_index(live, clock=lambda: now[0])

    now[0] += 42
    (notes / "b.md").write_text("---\ntitle: B\n---\n## Three\nthird\n")
    assert value(metrics, "notesbot_index_age_seconds") == 42
    live.reload()

    assert value(metrics, "notesbot_index_notes") == 2
    assert value(metrics, "notesbot_index_sections") == live.snapshot.section_count
    assert value(metrics, "notesbot_index_age_seconds") == 0
    assert value(metrics, "notesbot_index_reloads") == 1


def test_the_recorded_answers_are_shown_by_status_every_status_present(engine: Engine) -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    window = now + timedelta(minutes=30)
    answered, lost, waiting = (pending.record(engine, "slash_command", {}, None, "A", now, window) for _ in range(3))
    assert answered is not None and lost is not None and waiting is not None
    assert pending.mark_posting(engine, answered, "A") and pending.mark_posting(engine, lost, "A")
    assert pending.finish(engine, answered, "A", Status.DONE, now)
    pending.settle_orphans(engine, now + timedelta(seconds=30), timedelta(seconds=10))  # "A" never heartbeat
    metrics = Metrics()
    metrics.track_answers(functools.partial(pending.counts, engine), [status.value for status in Status])

    shown = {status: value(metrics, "notesbot_answers", status=status) for status in Status}

    assert shown == {"pending": 1, "posting": 0, "done": 1, "unknown": 1, "expired": 0, "dropped": 0}


def test_a_database_that_cannot_count_leaves_the_answers_out_of_one_scrape_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = iter([OperationalError("SELECT", {}, Exception("database is locked"))])

    def read() -> dict[str, int]:
        error = next(failures, None)
        if error is not None:
            raise error
        return {"done": 2}

    metrics = Metrics()
    metrics.track_answers(read, ["done", "unknown"])

    assert b"notesbot_answers" not in metrics.exposition()
    assert "could not count the recorded answers: OperationalError" in caplog.text
    assert value(metrics, "notesbot_answers", status="done") == 2


def test_the_exposition_is_prometheus_text_format() -> None:
    metrics = Metrics()
    with metrics.request("slash_command") as request:
        request.outcome = "answered"

    families = {family.name for family in text_string_to_metric_families(metrics.exposition().decode())}

    assert {"notesbot_requests", "notesbot_answer_latency_seconds", "notesbot_slack_api_errors"} <= families


def test_slack_rate_limits_are_retried_and_counted(fake_slack: FakeSlack) -> None:
    metrics = Metrics()
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url, retry_handlers=metrics.counted(retry_handlers()))
    fake_slack.fail_next(1, status=429, retry_after=0, method="chat.postMessage")

    response = client.chat_postMessage(channel="C1", text="hello")

    assert response["ok"] is True
    assert value(metrics, "notesbot_slack_api_retries_total", method="chat.postMessage", reason="rate_limit_error") == 1
    assert value(metrics, "notesbot_slack_api_errors_total", method="chat.postMessage", error="http_429") == 1


def test_slack_errors_are_counted_by_method_and_error(fake_slack: FakeSlack) -> None:
    metrics = Metrics()
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url, retry_handlers=metrics.counted(retry_handlers()))
    fake_slack.fail_next(1, error="channel_not_found", method="chat.postMessage")

    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C404", text="hello")
    fake_slack.fail_next(1, status=500, method="chat.postMessage")
    client.chat_postMessage(channel="C1", text="retried after a server error")

    assert value(metrics, "notesbot_slack_api_errors_total", method="chat.postMessage", error="channel_not_found") == 1
    assert value(metrics, "notesbot_slack_api_errors_total", method="chat.postMessage", error="http_500") == 1
    assert value(metrics, "notesbot_slack_api_retries_total", method="chat.postMessage", reason="server_error") == 1


def test_each_request_is_one_json_log_line_with_id_kind_latency_and_outcome(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="notesbot.requests")
    metrics = Metrics()

    with metrics.request("slash_command", request_id="Ev123") as request:
        request.outcome = "answered"
        request.fields["hits"] = 3

    [record] = [r for r in caplog.records if r.name == "notesbot.requests"]
    line = json.loads(record.getMessage())
    assert line["request_id"] == "Ev123"
    assert line["kind"] == "slash_command"
    assert line["outcome"] == "answered"
    assert line["hits"] == 3
    assert isinstance(line["latency_ms"], float)


def test_the_request_log_masks_anything_that_looks_like_a_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="notesbot.requests")
    metrics = Metrics()

    with metrics.request("mention") as request:
        request.fields["query"] = "my token is xoxb-1234-5678-abcdef please"

    assert "xoxb-1234" not in caplog.text
    assert "xoxb-***" in caplog.text
