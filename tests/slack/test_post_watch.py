"""What a post did, as the answers' records need to know: refused by Slack or never sent is known not to have
arrived; sent and not answered (a timeout, a reset, a 5xx) may have arrived. And which Web API calls answer."""

from __future__ import annotations

import socket
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.post_watch import (
    ANSWERING,
    Outcome,
    outcome_of_error,
    outcome_of_status,
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


def test_the_calls_that_post_or_change_a_message_or_a_view_answer_and_reads_and_progress_do_not() -> None:
    assert {"chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish", "chat.unfurl"} <= ANSWERING
    assert not {"conversations.replies", "auth.test", "assistant.threads.setStatus"} & ANSWERING
