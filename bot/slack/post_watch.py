"""The posts of deferred work, watched, so that an answer replayed after a crash is never posted twice.

bot.slack.durable runs each piece of deferred work under a `PostWatch`: it hears of every post that answers, just
before it is made and with its outcome after. A post answers when it adds or changes what the person sees: every
response_url post (a new message, or one replacing or deleting the original), and the Web API methods of
`ANSWERING` (`chat.postMessage`, `chat.update`, `views.publish`, `chat.unfurl`...). Made again after a crash, one
would show twice, or undo what the person did since (press Next match again, dismiss). Reads (`conversations.replies`)
and progress shown while answering (`assistant.threads.setStatus`) are not watched: a crash after them still
replays the answer. Both ways of posting report here: `post_to_response_url` (bot.slack.delivery) and every Web API
call of the `WatchedWebClient` the work is handed.

An outcome is `POSTED`, `FAILED` (Slack answered and refused, or nothing was sent: the connection was refused),
or `UNKNOWN` (sent, then no answer: a timeout, a reset, a 5xx). A post to Slack has no idempotency key, so an
unknown outcome must count as posted.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

# Web API methods that add or change a message or a view: the ones an answer is made of.
ANSWERING = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "chat.update",
        "chat.delete",
        "chat.unfurl",
        "views.publish",
        "views.update",
        "views.push",
        "files.completeUploadExternal",
    }
)


class Outcome(Enum):
    POSTED = "posted"
    FAILED = "failed"  # known not to have arrived
    UNKNOWN = "unknown"  # may have arrived


class PostWatch(Protocol):
    def before(self, what: str) -> None:
        """A post that answers is about to be made; raising stops it."""

    def after(self, what: str, outcome: Outcome, detail: str) -> None:
        """How that post went (`detail`: why it failed, for the log)."""


class _Unwatched:
    def before(self, what: str) -> None:
        pass

    def after(self, what: str, outcome: Outcome, detail: str) -> None:
        pass


_UNWATCHED = _Unwatched()
_current: ContextVar[PostWatch] = ContextVar("notesbot_post_watch", default=_UNWATCHED)


@contextmanager
def watching(watch: PostWatch) -> Iterator[None]:
    """Report the posts made in this thread (and context) to `watch` until the block ends."""
    token = _current.set(watch)
    try:
        yield
    finally:
        _current.reset(token)


def watch_for(answering: bool) -> PostWatch:
    """The watch a post reports to: the current one if the post answers, else one that hears nothing."""
    return _current.get() if answering else _UNWATCHED


def outcome_of_status(status: int) -> Outcome:
    """A response_url's HTTP answer: 200 posted; a 5xx may have posted; anything else refused."""
    if status == 200:
        return Outcome.POSTED
    return Outcome.UNKNOWN if status >= 500 else Outcome.FAILED


def outcome_of_error(error: BaseException) -> Outcome:
    """What a post that raised `error` did: refused by Slack or never sent is FAILED, the rest UNKNOWN."""
    if isinstance(error, SlackApiError):  # Slack answered: `ok: false` and 4xx refused; a 5xx may have posted
        return Outcome.UNKNOWN if error.response.status_code >= 500 else Outcome.FAILED
    reason = getattr(error, "reason", None)  # urllib's URLError wraps the socket's error
    never_sent = (ConnectionRefusedError, socket.gaierror)
    return Outcome.FAILED if isinstance(error, never_sent) or isinstance(reason, never_sent) else Outcome.UNKNOWN


def detail_of(error: BaseException) -> str:
    """The error's kind and first line, for the log (never the request, whose headers carry the token)."""
    return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"


class WatchedWebClient(WebClient):
    """A Web API client whose answering calls (`ANSWERING`) report to the current `PostWatch`."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        watch = watch_for(api_method in ANSWERING)
        watch.before(api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except Exception as error:
            watch.after(api_method, outcome_of_error(error), detail_of(error))
            raise
        watch.after(api_method, Outcome.POSTED, "")
        return response  # type: ignore[return-value]


def watched_copy(client: WebClient, token: str | None = None) -> WatchedWebClient:
    """`client` (with `token` instead of its own, if given) as a `WatchedWebClient`: the settings copied as Bolt
    copies its app's client for each request."""
    return WatchedWebClient(
        token=token if token is not None else client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=list(client.retry_handlers) if client.retry_handlers is not None else None,
    )
