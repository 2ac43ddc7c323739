"""A served bot says when it is ready, exposes its metrics, logs one line per request, keeps the questions
for the report, and answers from notes edited while it runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from bot.storage import queries
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.operations.conftest import ServedBot, serving
from tests.slack_sender import SIGNING_SECRET
from tests.waiting import eventually


def metric(bot: ServedBot, name: str, **labels: str) -> float:
    text = httpx.get(f"{bot.url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "notesbot.requests"]


def test_ready_once_the_index_is_loaded_and_the_database_answers(bot: ServedBot) -> None:
    response = httpx.get(f"{bot.url}/readyz", timeout=5)

    assert response.status_code == 200
    assert response.text.startswith(f"ready: {bot.ops.live.snapshot.note_count} notes")
    assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200


def test_not_ready_while_the_database_is_unreachable_but_still_alive(bot: ServedBot) -> None:
    bot.ops.engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")  # nothing listens there

    response = httpx.get(f"{bot.url}/readyz", timeout=5)

    assert response.status_code == 503
    assert response.text.startswith("database unreachable")
    assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200


def test_metrics_count_requests_by_kind_and_outcome_and_searches(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")
    fake_slack.wait_for("response_url")
    bot.slack.command("zzzqqq xxyyzz")
    fake_slack.wait_for("response_url", count=2)

    for outcome in ("answered", "nothing_found"):
        assert eventually(
            lambda o=outcome: metric(bot, "notesbot_requests_total", kind="slash_command", outcome=o) == 1
        )
    assert metric(bot, "notesbot_searches_total", found="yes") == 1
    assert metric(bot, "notesbot_searches_total", found="no") == 1
    assert metric(bot, "notesbot_answer_latency_seconds_count", kind="slash_command") == 2
    assert metric(bot, "notesbot_index_notes") == bot.ops.live.snapshot.note_count


def test_slack_api_errors_of_the_bot_are_counted(bot: ServedBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(1, error="channel_not_found", method="chat.postMessage")
    bot.slack.event(bot.slack.message_event("<@UBOT0001> computer vision", type="app_mention"))

    labels = {"method": "chat.postMessage", "error": "channel_not_found"}
    assert eventually(lambda: metric(bot, "notesbot_slack_api_errors_total", **labels) == 1)


def test_each_request_is_one_log_line_without_tokens_or_signatures(
    bot: ServedBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = bot.slack.command_body("computer vision")
    signature = bot.slack.signed_headers(body)["X-Slack-Signature"]
    bot.slack.post(body, "application/x-www-form-urlencoded")
    fake_slack.wait_for("response_url")
    event = bot.slack.message_event("<@UBOT0001> computer vision", type="app_mention")
    bot.slack.event(event, event_id="EvLOGGED01")
    fake_slack.wait_for("chat.postMessage")

    assert eventually(lambda: len(request_lines(caplog)) == 2)
    command, mention = request_lines(caplog)
    assert (command["kind"], command["outcome"]) == ("slash_command", "answered")
    assert command["request_id"] == parse_qs(body)["trigger_id"][0]  # the trigger id: the same in every replica's log
    assert command["hits"] >= 1
    assert (mention["kind"], mention["request_id"], mention["outcome"]) == ("app_mention", "EvLOGGED01", "answered")
    assert all(isinstance(line["latency_ms"], float) for line in (command, mention))
    for secret in (BOT_TOKEN, SIGNING_SECRET, signature):
        assert secret not in caplog.text


def test_a_request_with_a_bad_signature_is_logged_as_refused(bot: ServedBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="notesbot.requests")
    body = bot.slack.command_body("computer vision")

    response = bot.slack.post(body, "application/x-www-form-urlencoded", {"X-Slack-Signature": "v0=forged"})

    assert response.status_code == 401
    [line] = request_lines(caplog)
    assert (line["kind"], line["outcome"]) == ("unverified", "refused")


def test_questions_are_kept_for_the_report_but_button_presses_are_not(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")
    [answer] = fake_slack.wait_for("response_url")
    value = next(e["value"] for e in answer.body["blocks"][-1]["elements"] if e["action_id"] == "notes_next")
    bot.slack.action("notes_next", value)
    fake_slack.wait_for("response_url", count=2)
    bot.slack.event(bot.slack.message_event("<@UBOT0001> knitting socks zzzqqq", type="app_mention"))
    fake_slack.wait_for("chat.postMessage")

    def kept() -> list:
        with bot.ops.engine.connect() as connection:
            return connection.execute(select(queries.c.kind, queries.c.query, queries.c.hits, queries.c.team_id)).all()

    assert eventually(lambda: len(kept()) == 2)
    rows = sorted(kept())
    assert rows[0][:2] == ("app_mention", "knitting socks zzzqqq") and rows[0][2] == 0
    assert rows[1][:2] == ("slash_command", "computer vision") and rows[1][2] > 0
    assert rows[1][3] == "T0000001"


def test_an_edited_note_is_answered_without_a_restart(settings, fake_slack: FakeSlack, vault: Path) -> None:
    with serving(settings, fake_slack, watch=True) as bot:
        note = vault / "lexfridman" / "applications_of_deep_learning.md"
        note.write_text(note.read_text() + "\n## Tokamak plasma confinement\nMagnetic bottles hold the plasma.\n")

        def answered_from_the_edit() -> bool:
            count = len(fake_slack.calls_to("response_url"))
            bot.slack.command("tokamak plasma")
            fake_slack.wait_for("response_url", count=count + 1)
            return "Tokamak plasma confinement" in json.dumps(fake_slack.calls_to("response_url")[-1].body)

        assert eventually(answered_from_the_edit, within=8)
        assert bot.ops.live.reloads >= 1
        assert httpx.get(f"{bot.url}/readyz", timeout=5).status_code == 200
