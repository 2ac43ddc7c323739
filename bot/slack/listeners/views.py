"""The search modal: opened by the "Search the notes" button (App Home, the help), each Enter in its input
and its Search button show the best sections in place.

Opening it must happen within the 3 seconds a trigger_id lives, so it is done in the listener, right after
the ack. An Enter (a block_actions payload from the modal's input) is worked out on the answer pool and
shown with `views.update` on the view's id and hash: Slack refuses a hash that a later update has made
stale, so an older search never overwrites a newer one. The Search button (a view_submission) is answered
in its ack, which keeps the modal open with the results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.answers import modal_results
from bot.slack.delivery import call
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.messages import OPEN_SEARCH_ACTION, SEARCH_BLOCK, SEARCH_INPUT, SEARCH_MODAL, search_modal
from bot.slack.payloads import pressed

log = logging.getLogger("notesbot.slack")

Ack = Callable[..., None]


def register(app: App, deps: ListenerDeps) -> None:
    @app.action(OPEN_SEARCH_ACTION)
    def open_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_search_modal(client, body)

    @app.action({"block_id": SEARCH_BLOCK, "action_id": SEARCH_INPUT})
    def enter_pressed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(update_search_modal, deps, body, client)

    @app.view(SEARCH_MODAL)
    def search_button(ack: Ack, body: dict[str, Any]) -> None:
        try:
            view = modal_results(deps.searcher_source(), submitted_query(body), site=deps.site)
        except Exception:  # the modal stays open and says so, rather than Slack's "could not connect"
            log.exception("searching from the modal failed")
            ack(response_action="errors", errors={SEARCH_BLOCK: "Sorry, the search failed. Please try again."})
            return
        ack(response_action="update", view=view)


def open_search_modal(client: WebClient, body: dict[str, Any]) -> None:
    """Open an empty search modal with the payload's trigger_id (a failure is logged with Slack's reason)."""
    call(client.views_open, trigger_id=body.get("trigger_id"), view=search_modal())


@deferred("search_modal_enter", repeatable=True)
def update_search_modal(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Show the best sections for the words entered, in place of the modal the Enter came from."""
    view = body.get("view") or {}
    results = modal_results(deps.searcher_source(), pressed(body).get("value") or "", site=deps.site)
    call(client.views_update, view_id=view.get("id"), hash=view.get("hash"), view=results)


def submitted_query(body: dict[str, Any]) -> str:
    """The words in the modal's input when its Search button was pressed."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return (values.get(SEARCH_BLOCK, {}).get(SEARCH_INPUT) or {}).get("value") or ""
