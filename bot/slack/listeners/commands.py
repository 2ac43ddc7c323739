"""`/notes`: acknowledged at once, then answered privately through the command's `response_url`.

`/notes` or `/notes help` gives usage, `/notes digest ...` goes to the digest's command, `/notes scope ...`
sets what the channel draws from (bot.slack.scope_command), anything else is searched within the
channel's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.answers import private_answer
from bot.slack.delivery import apology_on_failure, private_reply
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.messages import help_message
from bot.slack.payloads import query_from_slack_text
from bot.slack.scope_command import scope_command

COMMAND = "/notes"  # as declared in deploy/slack-app-manifest.yml
HELP_WORDS = {"help", "-h", "--help", "?"}


def register(app: App, deps: ListenerDeps) -> None:
    @app.command(COMMAND)
    def notes_command(ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(answer_command, deps, body, client)


@deferred("slash_command", repeatable=True)
def answer_command(deps: ListenerDeps, command: dict[str, Any], client: WebClient) -> None:
    """Reply to `/notes <text>`: usage, the digest's reply, or the answer to the query."""
    reply = private_reply(command.get("response_url"), client, command)
    text = " ".join((command.get("text") or "").split())
    first, _, rest = text.partition(" ")
    with apology_on_failure(reply, "a slash command"):
        if not text or first.lower() in HELP_WORDS:
            reply(help_message())
        elif first.lower() == "digest" and deps.digest_command is not None:
            deps.digest_command(rest, command, reply)
        elif first.lower() == "scope" and deps.channel_scopes is not None:
            note_sets = deps.searcher_source().note_sets
            reply(scope_command(deps.channel_scopes, note_sets, deps.clock(), query_from_slack_text(rest), command))
        else:
            scope = deps.scope_for(command.get("team_id"), command.get("channel_id"))
            query = query_from_slack_text(text)
            reply(private_answer(deps.searcher_source(), query, scope=scope, site=deps.site))
