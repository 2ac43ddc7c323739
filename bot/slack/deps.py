"""What the Slack listeners are given: the searcher, the shared database, the clock, the answer pool, digest
hooks, the channels' scopes and the published vault.

Every listener acknowledges (Bolt acknowledges events by itself) and hands the slow work (search, then one post)
to the answer pool through `ListenerDeps.later(work, deps, body, client)`, so that a burst of requests is
acknowledged at once. With `durable` (bot.slack.durable: what `notesbot serve` runs), the work is first recorded
in the shared database, so that a crash or a restart loses no acknowledged question: each piece of deferred work is
a module-level `work(deps, body, client)` registered with `@deferred("name")`. Tests hand in fakes: a fixed
searcher, a fresh database, a simulated clock. Whatever answers in a channel asks `deps.scope_for(team, channel)`
what that channel draws from, and renders its hits with `deps.site` (the "Read the note" links).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.engine.scope import Scope
from bot.engine.search import Hit, Searcher
from bot.engine.site import NoteSite
from bot.slack.channel_scopes import ChannelScopes
from bot.slack.delivery import Reply
from bot.slack.durable import DurableAnswers, name_of

log = logging.getLogger("notesbot.slack")

# Threads that search and post answers after the ack. Bolt acks a slash command from a worker of its own
# small pool: keeping the slow work out of that pool keeps acks fast under bursts. Two cores; answers also
# wait on Slack, hence a few more threads than cores.
ANSWER_WORKERS = 4

SearcherSource = Callable[[], Searcher]
Clock = Callable[[], datetime]
# `/notes digest <args>`: (args, the slash command payload, a function that answers the user privately).
DigestCommand = Callable[[str, dict[str, Any], Reply], None]
# Today's digest topic for App Home, or None when no digest is configured or nothing was chosen yet.
TodayTopic = Callable[[], Hit | None]


def new_answer_pool() -> Executor:
    """ANSWER_WORKERS threads for the answers."""
    return ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="notesbot-answer")


@dataclass(frozen=True, slots=True)
class ListenerDeps:
    searcher_source: SearcherSource  # the current searcher (the live vault's index, its searches observed)
    engine: Engine  # the database every process shares: an event is claimed there once
    clock: Clock
    answer_pool: Executor
    digest_command: DigestCommand | None = None  # without it, `/notes digest ...` is searched like any query
    today_topic: TodayTopic | None = None  # without it, App Home shows no topic
    channel_scopes: ChannelScopes | None = None  # without it, every channel draws from the whole vault
    site: NoteSite | None = None  # the published vault (NOTES_SITE_URL); None: no "Read the note" links
    durable: DurableAnswers | None = None  # without it, deferred work is not recorded (lost if the process stops)

    def scope_for(self, team_id: str | None, channel_id: str | None) -> Scope | None:
        """What a channel's answers draw from: its scope, or None for the whole vault."""
        return self.channel_scopes.scope_for(team_id, channel_id) if self.channel_scopes is not None else None

    def later(self, work: Callable[..., None], deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
        """Run `work(deps, body, client)` on the answer pool, recorded first when `durable`; an exception it lets
        through is logged, not lost. `work` must be registered with `@deferred` (TypeError otherwise)."""
        name_of(work)
        if self.durable is not None:
            self.durable.submit(work, deps, body, client)
        else:
            self.answer_pool.submit(work, deps, body, client).add_done_callback(_log_failure)


def _log_failure(future: Future) -> None:
    error = future.exception()
    if error is not None:
        log.error("answering failed: %r", error, exc_info=error)
