"""Requests not signed by Slack with our secret, or stale, are refused and cause no Web API call."""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}, id="unsigned"),
        pytest.param({"X-Slack-Request-Timestamp": "soon"}, id="timestamp-not-a-number"),
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="bad-signature"),
        pytest.param(None, id="stale"),
    ],
)
def test_refused_requests_cause_no_web_api_call(slack, fake_slack, headers):
    body = slack.command_body("computer vision")
    if headers is None:  # signed correctly, but six minutes ago
        headers = slack.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = slack.post(body, "application/x-www-form-urlencoded", headers)
    assert response.status_code == 401
    slack.command("help")  # a genuine request afterwards is answered, and alone
    fake_slack.wait_for("response_url")
    assert [c.method for c in fake_slack.calls] == ["auth.test", "response_url"]


def test_a_request_without_signature_headers_is_refused(slack, fake_slack):
    response = httpx.post(
        f"{slack.base_url}/slack/events",
        content=slack.command_body("computer vision"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert [c.method for c in fake_slack.calls] == ["auth.test"]


def test_signed_with_another_secret_is_refused(slack, fake_slack):
    body = slack.command_body("computer vision")
    slack.secret = "someone-elses-secret"
    assert slack.post(body, "application/x-www-form-urlencoded").status_code == 401


def test_a_forged_event_is_refused(slack, fake_slack):
    slack.secret = "forger"
    assert slack.event(slack.message_event("<@UBOT0001> hi", type="app_mention")).status_code == 401


def test_health_check_answers_without_a_signature(bot_server):
    response = httpx.get(f"{bot_server.url}/healthz")
    assert response.status_code == 200 and response.text == "ok"
