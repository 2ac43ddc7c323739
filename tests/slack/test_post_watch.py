"""What a post did, as the answers' records need to know: refused by Slack or never sent is known not to have
arrived; sent and not answered (a timeout, a reset, a 5xx) may have arrived. And which posts would show twice."""

from __future__ import annotations

import socket
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.post_watch import (
    SHOWS_TWICE,
    Outcome,
    outcome_of_error,
    outcome_of_status,
    response_url_shows_twice,
)


def slack_error(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="u",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError(error, response)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (slack_error(200, "channel_not_found"), Outcome.FAILED),
        (slack_error(429, "ratelimited"), Outcome.FAILED),
        (slack_error(503, "fatal"), Outcome.UNKNOWN),
        (ConnectionRefusedError(111, "refused"), Outcome.FAILED),
        (URLError(ConnectionRefusedError(111, "refused")), Outcome.FAILED),
        (URLError(socket.gaierror(-2, "Name or service not known")), Outcome.FAILED),
        (TimeoutError("timed out"), Outcome.UNKNOWN),
        (URLError(TimeoutError("timed out")), Outcome.UNKNOWN),
        (ConnectionResetError(104, "reset"), Outcome.UNKNOWN),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.value,
)
def test_a_failed_post_is_known_not_to_have_arrived_only_when_slack_refused_it_or_it_was_never_sent(
    error: BaseException, outcome: Outcome
) -> None:
    assert outcome_of_error(error) is outcome


def test_a_response_url_answer_of_200_posted_a_4xx_refused_and_a_5xx_may_have_posted() -> None:
    assert [outcome_of_status(s) for s in (200, 400, 404, 429, 500, 502)] == [
        Outcome.POSTED,
        Outcome.FAILED,
        Outcome.FAILED,
        Outcome.FAILED,
        Outcome.UNKNOWN,
        Outcome.UNKNOWN,
    ]


def test_posts_that_add_a_message_would_show_twice_and_those_that_overwrite_would_not() -> None:
    assert response_url_shows_twice({"text": "answer", "response_type": "ephemeral"})
    assert not response_url_shows_twice({"text": "next", "replace_original": True})
    assert not response_url_shows_twice({"delete_original": True})
    assert {"chat.postMessage", "chat.postEphemeral"} <= SHOWS_TWICE
    assert not {"chat.update", "views.publish", "chat.unfurl", "assistant.threads.setStatus"} & SHOWS_TWICE
