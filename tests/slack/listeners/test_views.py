"""The search modal in process: opened from its button, updated in place on each Enter (the view's id and hash),
answered in the ack of its Search button; a failed search keeps the modal open and says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from bot.engine.search import Searcher
from bot.slack.app import create_app
from bot.slack.delivery import make_web_client
from bot.slack.deps import ListenerDeps
from bot.slack.messages import OPEN_SEARCH_ACTION, SEARCH_BLOCK, SEARCH_INPUT, SEARCH_MODAL, search_modal
from tests.fake_slack import FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack.dispatch import BoltDispatcher, InlineExecutor

OPEN_VIEW = search_modal() | {"id": "V0SEARCH01", "hash": "1700000001.hash"}


def test_the_search_button_opens_the_modal(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    assert slack.action(OPEN_SEARCH_ACTION, "open").status == 200

    [opened] = fake_slack.calls_to("views.open")
    assert opened.body["view"]["callback_id"] == SEARCH_MODAL


def test_enter_shows_the_five_best_sections_in_place_of_the_modal(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    opened = fake_slack_opened(slack, fake_slack)

    assert slack.view_enter(opened, SEARCH_BLOCK, SEARCH_INPUT, "deep learning").status == 200

    [update] = fake_slack.calls_to("views.update")
    assert (update.body["view_id"], update.body["hash"]) == (opened["id"], opened["hash"])
    texts = json.dumps(update.body["view"]["blocks"], ensure_ascii=False)
    assert "The best 5 for “deep learning”" in texts and "Match 5 of 5" in texts
    assert update.body["view"]["blocks"][0]["element"]["initial_value"] == "deep learning"


def test_an_empty_enter_says_there_is_nothing_to_search(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.view_enter(fake_slack_opened(slack, fake_slack), SEARCH_BLOCK, SEARCH_INPUT, "   ")

    [update] = fake_slack.calls_to("views.update")
    assert "Nothing to search for" in json.dumps(update.body["view"]["blocks"])


def test_the_search_button_answers_with_the_results_in_its_ack(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    response = slack.view_submission(OPEN_VIEW, SEARCH_BLOCK, SEARCH_INPUT, "origami crane")

    answer = json.loads(response.body)
    assert (response.status, answer["response_action"]) == (200, "update")
    assert "Origami crane folds" in json.dumps(answer["view"]["blocks"])
    assert fake_slack.calls_to("views.update") == []


def test_a_search_that_fails_keeps_the_modal_open_and_says_so(
    fake_slack: FakeSlack, tmp_path: Path, sqlite_engine: Engine
) -> None:
    def broken() -> Searcher:
        raise RuntimeError("the index is away")

    deps = ListenerDeps(broken, sqlite_engine, lambda: datetime.now(UTC), InlineExecutor())
    settings = bot_settings(fake_slack, tmp_path)
    slack = BoltDispatcher(create_app(settings, make_web_client(settings), deps), fake_slack)

    response = slack.view_submission(OPEN_VIEW, SEARCH_BLOCK, SEARCH_INPUT, "origami")

    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {SEARCH_BLOCK: "Sorry, the search failed. Please try again."},
    }


def fake_slack_opened(slack: BoltDispatcher, fake_slack: FakeSlack) -> dict:
    """Open the modal from its button; the view as the fake answered it (with its id and hash)."""
    slack.action(OPEN_SEARCH_ACTION, "open")
    return fake_slack.calls_to("views.open")[-1].answer["view"]
