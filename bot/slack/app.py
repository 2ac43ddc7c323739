"""The Slack app: `/notes`, @mentions, DMs, buttons and App Home, on slack-bolt.

Every listener acknowledges first (Bolt acknowledges events by itself) and hands the slow work
(search, then one post) to a pool of answer threads, so that a burst of requests is acknowledged at
once. Answers to slash commands and buttons go to the payload's `response_url`; thread and DM answers
use `chat.postMessage`. A post that still fails after slack_sdk's retries is logged with Slack's
reason and the user gets a short apology instead of silence.

Slack re-delivers an event it thinks was not acknowledged, possibly to another process of the bot,
and in Socket Mode without retry headers: each `event_id` is claimed once in the shared database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.engine.search import Hit, Searcher
from bot.slack.messages import (
    DISMISS_ACTION,
    NEXT_ACTION,
    SHARE_ACTION,
    Message,
    answer_message,
    apology_message,
    help_message,
    home_view,
    nothing_found_message,
    read_result_value,
    shared_message,
    thread_answer,
)
from bot.storage import handled_events

log = logging.getLogger("notesbot.slack")

COMMAND = "/notes"
MAX_QUERY_CHARS = 300  # longer input is cut at a word: no real question needs more, and search time grows
RESULTS = 5  # the hits an answer cycles through with "Next match"
EVENT_MEMORY = timedelta(hours=1)  # Slack's last retry comes about 5 minutes after the first delivery
HELP_WORDS = {"help", "-h", "--help", "?"}
# Message subtypes that are a person writing to the bot (edits, joins, deletions are not).
ASKING_SUBTYPES = {None, "file_share", "thread_broadcast"}
POST_OPTIONS = {"unfurl_links": False, "unfurl_media": False}
# Threads that search and post answers after the ack. Bolt acks a slash command from a worker of its own
# small pool: keeping the slow work out of that pool keeps acks fast under bursts. Two cores; answers also
# wait on Slack, hence a few more threads than cores.
ANSWER_WORKERS = 4

SearcherSource = Callable[[], Searcher]
Clock = Callable[[], datetime]
Reply = Callable[[Message], None]
# `/notes digest <args>`: (args, the slash command payload, a function that answers the user privately).
DigestCommand = Callable[[str, dict[str, Any], Reply], None]
# Today's digest topic for App Home, or None when no digest is configured or nothing was chosen yet.
TodayTopic = Callable[[], Hit | None]

_SLACK_MENTION = re.compile(r"<[@!][^>]*>")
_SLACK_LABELLED = re.compile(r"<[^>|]*\|([^>]*)>")
_SLACK_BARE = re.compile(r"<([^>|]*)>")


def retry_handlers() -> list[RetryHandler]:
    """Retry connection errors, rate limits (honouring Retry-After) and server errors."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def make_web_client(settings: Settings) -> WebClient:
    """The bot's Web API client, talking to SLACK_API_URL."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers())


def create_app(
    settings: Settings,
    searcher_source: SearcherSource,
    engine: Engine,
    client: WebClient,
    clock: Clock,
    *,
    digest_command: DigestCommand | None = None,
    today_topic: TodayTopic | None = None,
    oauth_settings: OAuthSettings | None = None,
    answer_pool: Executor | None = None,
) -> App:
    """The Bolt app with every listener registered; `searcher_source()` gives the current searcher.
    With `oauth_settings` (bot.slack.oauth), each workspace's token comes from the installation store.
    Answers are worked out and posted on `answer_pool` (by default ANSWER_WORKERS threads)."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    # The request verification middleware refuses unsigned, badly signed and stale (> 5 min) requests.
    app = App(client=client, signing_secret=secret, request_verification_enabled=True, oauth_settings=oauth_settings)
    pool = answer_pool or ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="notesbot-answer")
    bot = NotesBot(searcher_source, engine, clock, digest_command, today_topic, pool)
    app.command(COMMAND)(bot.on_command)
    app.action(SHARE_ACTION)(bot.on_share)
    app.action(NEXT_ACTION)(bot.on_next)
    app.action(DISMISS_ACTION)(bot.on_dismiss)
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.event("app_home_opened")(bot.on_home_opened)
    app.error(bot.on_error)
    return app


class NotesBot:
    """The listeners, over the searcher, the shared database and the clock they are given."""

    def __init__(
        self,
        searcher_source: SearcherSource,
        engine: Engine,
        clock: Clock,
        digest_command: DigestCommand | None,
        today_topic: TodayTopic | None,
        answer_pool: Executor,
    ) -> None:
        self.searcher_source = searcher_source
        self.engine = engine
        self.clock = clock
        self.digest_command = digest_command
        self.today_topic = today_topic
        self.answer_pool = answer_pool

    # --- /notes ---

    def on_command(self, ack: Callable[..., None], command: dict[str, Any], client: WebClient) -> None:
        ack()
        self._later(self._command, command, client)

    def _command(self, command: dict[str, Any], client: WebClient) -> None:
        reply = self._private_reply(command.get("response_url"), client, command)
        text = " ".join((command.get("text") or "").split())
        first, _, rest = text.partition(" ")
        with _apology_on_failure(reply, "a slash command"):
            if not text or first.lower() in HELP_WORDS:
                reply(help_message())
            elif first.lower() == "digest" and self.digest_command is not None:
                self.digest_command(rest, command, reply)
            else:
                reply(self.answer(query_from_slack_text(text)))

    def answer(self, text: str, position: int = 0) -> Message:
        """The ephemeral answer to a query: its hit at `position` (cycling), or nothing found."""
        query = limit_query(text)
        searcher = self.searcher_source()
        hits, corrections = _search(searcher, query, RESULTS)
        if not hits:
            return nothing_found_message(query, searcher.suggest(query), corrections)
        position %= len(hits)
        return answer_message(hits[position], query, position, len(hits), corrections)

    # --- buttons ---

    def on_share(self, ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._later(self._share, body, client)

    def _share(self, body: dict[str, Any], client: WebClient) -> None:
        reply = self._private_reply(body.get("response_url"), client, _action_context(body))
        with _apology_on_failure(reply, "a share button"):
            query, position = _button_value(body)
            hits = self.searcher_source().search(limit_query(query), RESULTS)
            if position >= len(hits):
                reply(self.answer(query))  # the vault changed since: show what it holds now
                return
            user_id = (body.get("user") or {}).get("id", "")
            shared = shared_message(hits[position], user_id) | {"response_type": "in_channel"}
            if _post_to_response_url(body.get("response_url"), shared):
                _post_to_response_url(body.get("response_url"), {"delete_original": True})
            else:
                reply(apology_message())

    def on_next(self, ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._later(self._next, body, client)

    def _next(self, body: dict[str, Any], client: WebClient) -> None:
        reply = self._private_reply(body.get("response_url"), client, _action_context(body))
        with _apology_on_failure(reply, "a next-match button"):
            query, position = _button_value(body)
            reply(self.answer(query, position + 1) | {"replace_original": True})

    def on_dismiss(self, ack: Callable[..., None], body: dict[str, Any]) -> None:
        ack()
        self._later(self._dismiss, body)

    def _dismiss(self, body: dict[str, Any]) -> None:
        if not _post_to_response_url(body.get("response_url"), {"delete_original": True}):
            log.warning("could not dismiss a result message")

    # --- events ---

    # Bolt acknowledges events by itself; the listeners only hand them on.
    def on_mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        self._later(self._mention, event, body, client)

    def _mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if _from_a_bot(event) or not self._first_delivery(body):
            return
        thread_ts = event.get("thread_ts") or event.get("ts")
        self._answer_in_conversation(client, event, thread_ts)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        self._later(self._direct_message, event, body, client)

    def _direct_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") not in ASKING_SUBTYPES:
            return
        if _from_a_bot(event) or not self._first_delivery(body):
            return
        # In a DM the answer follows the question, in its thread only if the question was in one.
        self._answer_in_conversation(client, event, event.get("thread_ts"))

    def on_home_opened(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        self._later(self._home_opened, event, body, client)

    def _home_opened(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not self._first_delivery(body):
            return
        index = self.searcher_source().index
        view = home_view(index.note_count, index.section_count, self._topic())
        _call(client.views_publish, user_id=event["user"], view=view)

    def on_error(self, error: Exception) -> None:
        """Bolt caught an exception outside our listeners' own handling: log it, and nothing else.

        It may come from a request that failed verification, whose response_url must not be called.
        """
        log.error("request failed in Bolt: %r", error)

    def _later(self, work: Callable[..., None], *args: Any) -> None:
        """Run `work(*args)` on the answer pool; an exception it lets through is logged, not lost."""
        self.answer_pool.submit(work, *args).add_done_callback(_log_failure)

    def _answer_in_conversation(self, client: WebClient, event: dict[str, Any], thread_ts: str | None) -> None:
        channel, user = event.get("channel"), event.get("user")

        def apologise(message: Message) -> None:
            if user:
                _call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=thread_ts, **message)

        with _apology_on_failure(apologise, "a message to the bot"):
            message = self.conversation_answer(event.get("text") or "")
            if not _call(client.chat_postMessage, channel=channel, thread_ts=thread_ts, **message, **POST_OPTIONS):
                apologise(apology_message())

    def conversation_answer(self, text: str) -> Message:
        """The answer to a mention or a DM (Slack-encoded `text`): top hit and two more, or help."""
        query = limit_query(query_from_slack_text(text))
        if not query:
            return help_message()
        searcher = self.searcher_source()
        hits, corrections = _search(searcher, query, 3)
        if not hits:
            return nothing_found_message(query, searcher.suggest(query), corrections)
        return thread_answer(hits, query, corrections)

    def _topic(self) -> Hit | None:
        if self.today_topic is None:
            return None
        try:
            return self.today_topic()
        except Exception:  # the Home tab is still useful without today's topic
            log.exception("could not read today's topic for App Home")
            return None

    def _first_delivery(self, body: dict[str, Any]) -> bool:
        """Claim the event's id; False if another delivery (or process) already has it."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        try:
            return claim_event(self.engine, event_id, self.clock())
        except SQLAlchemyError as error:
            # Better a rare double answer than silence while the database is away.
            log.error("could not record event %s as handled: %s", event_id, error.__class__.__name__)
            return True

    def _private_reply(self, response_url: str | None, client: WebClient, context: dict[str, Any]) -> Reply:
        """Answer the user privately through `response_url`; on failure, apologise (ephemeral if need be)."""

        def reply(message: Message) -> None:
            private = {"response_type": "ephemeral"} | message
            if _post_to_response_url(response_url, private):
                return
            if _post_to_response_url(response_url, apology_message()):
                return
            channel, user = context.get("channel_id"), context.get("user_id")
            if channel and user:
                _call(client.chat_postEphemeral, channel=channel, user=user, **apology_message())

        return reply


def _log_failure(future: Future) -> None:
    error = future.exception()
    if error is not None:
        log.error("answering failed: %r", error, exc_info=error)


def _search(searcher: Searcher, query: str, limit: int) -> tuple[list[Hit], dict[str, str]]:
    """The hits for `query` and how its misspelt words were read, reading it once."""
    reading = searcher.read_query(query)
    return searcher.search_terms(reading, limit), reading.corrections


@contextmanager
def _apology_on_failure(reply: Reply, what: str) -> Iterator[None]:
    """Whatever goes wrong while answering is logged, and the user hears a short apology."""
    try:
        yield
    except Exception:
        log.exception("answering %s failed", what)
        reply(apology_message())


# --- the shared database ------------------------------------------------------------------------


def claim_event(engine: Engine, event_id: str, now: datetime) -> bool:
    """Record `event_id` as handled; True only for the one caller (of any process) that recorded it.

    Insert-or-ignore on the primary key, so that concurrent deliveries race safely on SQLite and
    PostgreSQL alike; ids past their expiry are forgotten first.
    """
    row = {"event_id": event_id[:64], "handled_at": now, "expires_at": now + EVENT_MEMORY}
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(handled_events)
        .values(row)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(handled_events.c.event_id)  # a row back only when this insert happened
    )
    with engine.begin() as connection:
        connection.execute(delete(handled_events).where(handled_events.c.expires_at < now))
        return connection.execute(insert).first() is not None


# --- Slack text and payloads --------------------------------------------------------------------


def limit_query(text: str) -> str:
    """At most MAX_QUERY_CHARS characters of `text`, cut at a word where there is one."""
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_CHARS:
        return text
    head = text[: MAX_QUERY_CHARS + 1]
    space = head.rfind(" ")
    return head[:space] if space > 0 else text[:MAX_QUERY_CHARS]


def query_from_slack_text(text: str) -> str:
    """The query in a message or slash command as Slack encodes it: mentions dropped, links reduced to
    their labels, entities decoded, so "R&amp;D" is read as typed (the answer escapes whatever it quotes
    again)."""
    text = _SLACK_MENTION.sub(" ", text)
    text = _SLACK_LABELLED.sub(r"\1", text)
    text = _SLACK_BARE.sub(r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message")


def _button_value(body: dict[str, Any]) -> tuple[str, int]:
    """The query and position a result's button carries (ValueError if it is not ours)."""
    actions = body.get("actions") or [{}]
    query, position = read_result_value(actions[0].get("value") or "")
    return query, max(0, position)


def _action_context(body: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload's channel and user, named as in a slash command payload."""
    return {"channel_id": (body.get("channel") or {}).get("id"), "user_id": (body.get("user") or {}).get("id")}


def _post_to_response_url(response_url: str | None, message: Message) -> bool:
    """Post to a response_url with retries; log Slack's reason and return False when it fails."""
    if not response_url:
        log.warning("no response_url to answer on")
        return False
    try:
        response = WebhookClient(response_url, retry_handlers=retry_handlers()).send_dict(message)
    except (SlackClientError, OSError) as error:
        log.warning("response_url post failed: %s", _reason(error))
        return False
    if response.status_code != 200:
        log.warning("response_url post refused: HTTP %s %s", response.status_code, (response.body or "")[:200])
        return False
    return True


def _call(method: Callable[..., Any], **kwargs: Any) -> bool:
    """Call a Web API method; log Slack's reason and return False when it fails after the retries."""
    try:
        method(**kwargs)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("Slack API %s failed: %s", getattr(method, "__name__", "call"), _reason(error))
        return False
    return True


def _reason(error: Exception) -> str:
    """Why a call failed, without the request (whose headers carry the token)."""
    if isinstance(error, SlackApiError):
        response = error.response
        return f"{response.get('error', 'error')} (HTTP {response.status_code})"
    return f"{error.__class__.__name__}: {error}"
