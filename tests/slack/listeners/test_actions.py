"""The buttons of an answer in process: share, next match, dismiss, and 👍 / 👎 recorded against the section shown."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bot.slack.messages import (
    DISMISS_ACTION,
    HELPFUL_ACTION,
    NEXT_ACTION,
    SHARE_ACTION,
    UNHELPFUL_ACTION,
    result_value,
)
from bot.storage import feedback
from tests.fake_slack import TEAM_ID, FakeSlack
from tests.slack.dispatch import BoltDispatcher
from tests.slack_sender import USER

NOTE = "lexfridman/applications_of_deep_learning.md"


def heading_shown(message: dict) -> str:
    return message["blocks"][0]["text"]["text"]


def ratings(engine: Engine) -> list[tuple]:
    f = feedback.c
    with engine.connect() as connection:
        rows = connection.execute(select(f.team_id, f.user_id, f.query, f.note_path, f.heading, f.helpful))
        return [tuple(row) for row in rows]


def test_every_button_is_acknowledged_with_an_empty_200(slack: BoltDispatcher) -> None:
    for action in (SHARE_ACTION, NEXT_ACTION, DISMISS_ACTION, HELPFUL_ACTION, UNHELPFUL_ACTION):
        response = slack.action(action, result_value("computer vision", 0))
        assert (response.status, response.body) == (200, ""), action


def test_share_posts_the_match_in_the_channel_and_deletes_the_private_answer(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()

    slack.action(SHARE_ACTION, result_value("computer vision", 1), url)

    shared, deleted = fake_slack.calls_to("response_url")
    assert shared.path == deleted.path == url.removeprefix(fake_slack.origin)
    assert shared.body["response_type"] == "in_channel"
    assert "Challenges in Real-World Applications" in heading_shown(shared.body)
    assert f"Shared by <@{USER}>" in shared.texts
    assert deleted.body == {"delete_original": True}


def test_sharing_a_match_the_vault_no_longer_has_shows_a_fresh_answer(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.action(SHARE_ACTION, result_value("computer vision", 7))

    [fresh] = fake_slack.calls_to("response_url")
    assert fresh.body["response_type"] == "ephemeral"
    assert "Computer Vision and Robotics" in heading_shown(fresh.body)


def test_next_match_replaces_the_answer_with_the_following_hit_then_the_first_again(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.action(NEXT_ACTION, result_value("computer vision", 0))
    slack.action(NEXT_ACTION, result_value("computer vision", 1))

    second, first = (call.body for call in fake_slack.calls_to("response_url"))
    assert second["replace_original"] is True and first["replace_original"] is True
    assert "Challenges in Real-World Applications" in heading_shown(second)
    assert "Computer Vision and Robotics" in heading_shown(first)


def test_dismiss_deletes_the_answer(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.action(DISMISS_ACTION, result_value("computer vision", 0))

    [deleted] = fake_slack.calls_to("response_url")
    assert deleted.body == {"delete_original": True}


def test_a_button_value_that_is_not_ours_gets_an_apology(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.action(SHARE_ACTION, '{"q": "computer vision"}')

    [apology] = fake_slack.calls_to("response_url")
    assert apology.body["text"].startswith("Sorry")


def test_thumbs_down_is_recorded_against_the_section_shown_and_thanked_privately(
    slack: BoltDispatcher, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    slack.action(UNHELPFUL_ACTION, result_value("computer vision", 0))

    assert ratings(sqlite_engine) == [(TEAM_ID, USER, "computer vision", NOTE, "Computer Vision and Robotics", 0)]
    [thanks] = fake_slack.calls_to("response_url")
    assert thanks.body["response_type"] == "ephemeral" and thanks.body["replace_original"] is False
    assert thanks.body["text"].startswith("Thanks")


def test_thumbs_up_on_a_match_the_vault_no_longer_has_is_recorded_without_a_section(
    slack: BoltDispatcher, sqlite_engine: Engine
) -> None:
    slack.action(HELPFUL_ACTION, result_value("computer vision", 7))

    assert ratings(sqlite_engine) == [(TEAM_ID, USER, "computer vision", None, None, 1)]


def test_a_forged_rating_records_nothing_and_says_nothing(
    slack: BoltDispatcher, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    slack.action(UNHELPFUL_ACTION, "not a result value")

    assert ratings(sqlite_engine) == []
    assert fake_slack.calls_to("response_url") == []
