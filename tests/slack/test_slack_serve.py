"""`notesbot serve`: Socket Mode deliveries de-duplicated, clear errors for missing settings, logs without secrets.

The real process over Socket Mode: tests/socket_mode/test_serve_socket_mode.py."""

from __future__ import annotations

import argparse
import json
import logging

import pytest
from slack_bolt import BoltRequest

from bot.config import ConfigError
from bot.slack.server import build_bolt_app, serve_command
from tests.fake_slack import BOT_TOKEN
from tests.slack.conftest import SlackSender, bot_settings
from tests.slack_sender import SIGNING_SECRET

APP_TOKEN = "xapp-1-A0NOTESBOT-fake-app-token"


def test_socket_mode_deliveries_are_deduplicated_on_event_id_without_retry_headers(fake_slack, tmp_path):
    settings = bot_settings(fake_slack, tmp_path, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    app = build_bolt_app(settings)
    event = SlackSender("http://unused", fake_slack).message_event("<@UBOT0001> computer vision", type="app_mention")
    envelope = {"type": "event_callback", "team_id": "T0000001", "event_id": "Ev0SOCKET01", "event": event}
    for _ in range(2):  # Socket Mode passes no X-Slack-Retry-Num: the repeat looks like a new delivery
        assert app.dispatch(BoltRequest(body=json.dumps(envelope), mode="socket_mode")).status == 200
    marker = envelope | {"event_id": "Ev0SOCKET02", "event": event | {"text": "<@UBOT0001> origami crane"}}
    app.dispatch(BoltRequest(body=json.dumps(marker), mode="socket_mode"))
    fake_slack.wait_for("chat.postMessage", count=2)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_serving_http_without_a_signing_secret_is_a_clear_error(fake_slack, tmp_path):
    settings = bot_settings(fake_slack, tmp_path, slack_signing_secret=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        serve_command(argparse.Namespace(), settings)


def test_a_failed_post_is_logged_with_slacks_reason_and_never_the_secrets(slack, fake_slack, caplog):
    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next(1, error="not_in_channel", method="chat.postMessage")
    slack.event(slack.message_event("<@UBOT0001> computer vision", type="app_mention"))
    fake_slack.wait_for("chat.postEphemeral")
    assert any("not_in_channel" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


def test_a_bot_token_slack_refuses_is_a_clear_error_naming_the_setting(fake_slack, tmp_path):
    fake_slack.fail_next(1, error="invalid_auth", method="auth.test")
    settings = bot_settings(fake_slack, tmp_path)
    with pytest.raises(ConfigError, match="could not verify SLACK_BOT_TOKEN") as refused:
        serve_command(argparse.Namespace(), settings)
    assert BOT_TOKEN not in str(refused.value)


def test_a_slack_that_cannot_be_reached_is_a_clear_error(fake_slack, tmp_path):
    settings = bot_settings(fake_slack, tmp_path).model_copy(update={"slack_api_url": "http://127.0.0.1:9/api/"})
    with pytest.raises(ConfigError) as unreachable:
        serve_command(argparse.Namespace(), settings)
    message = str(unreachable.value)
    assert "could not verify SLACK_BOT_TOKEN with the Slack Web API at http://127.0.0.1:9/api/" in message
