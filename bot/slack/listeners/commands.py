"""`/notes`: acknowledged at once, then answered privately through the command's `response_url`.

`/notes` or `/notes help` gives usage, `/notes digest ...` goes to the digest's command, anything else
is searched.
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

COMMAND = "/notes"  # as declared in deploy/slack-app-manifest.yml
HELP_WORDS = {"help", "-h", "--help", "?"}


def register(app: App, deps: ListenerDeps) -> None:
    @app.command(COMMAND)
    def notes_command(ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(answer_command, deps, body, client)


@deferred("slash_command")
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
        else:
            reply(private_answer(deps.searcher_source(), query_from_slack_text(text)))
