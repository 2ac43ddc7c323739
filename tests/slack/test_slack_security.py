"""Requests not signed by Slack with our secret, or stale, are refused and cause no Web API call; Slack's own checks of
the Request URL are answered."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.slack_sender import FORM, JSON


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


def test_slack_s_check_of_the_request_url_gets_its_challenge_back(slack, fake_slack):
    # what Slack sends once, when the Request URL is entered in the app's Event Subscriptions: no challenge
    # back, and events cannot be turned on
    check = {
        "token": "deprecated-verification-token",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFX",
        "type": "url_verification",
    }
    response = slack.post(json.dumps(check), JSON)
    assert response.status_code == 200 and response.json() == {"challenge": check["challenge"]}
    assert [c.method for c in fake_slack.calls] == ["auth.test"]


def test_a_forged_check_of_the_request_url_is_refused(slack):
    slack.secret = "forger"
    check = {"token": "t", "challenge": "echo-me", "type": "url_verification"}
    response = slack.post(json.dumps(check), JSON)
    assert response.status_code == 401 and "echo-me" not in response.text


def test_slack_s_ssl_check_of_the_slash_command_url_gets_an_empty_200_and_runs_nothing(slack, fake_slack):
    response = slack.post("ssl_check=1&token=deprecated-verification-token", FORM)
    assert (response.status_code, response.text) == (200, "")
    assert [c.method for c in fake_slack.calls] == ["auth.test"]
