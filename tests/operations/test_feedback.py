"""👍 / 👎 on an answer is recorded with the note and heading it rated, thanked privately, and feeds the report."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.report import UNHELPFUL, collect_gaps, group_by_topic
from bot.slack.messages import HELPFUL_ACTION, UNHELPFUL_ACTION
from bot.storage import feedback
from tests.fake_slack import FakeSlack
from tests.operations.conftest import ServedBot


def answer_buttons(fake_slack: FakeSlack) -> dict[str, str]:
    [answer] = fake_slack.wait_for("response_url")
    return {e["action_id"]: e["value"] for b in answer.body["blocks"] if b["type"] == "actions" for e in b["elements"]}


def ratings(bot: ServedBot) -> list:
    with bot.ops.engine.connect() as connection:
        columns = (feedback.c.query, feedback.c.note_path, feedback.c.heading, feedback.c.helpful, feedback.c.user_id)
        return connection.execute(select(*columns)).all()


def test_an_answer_offers_helpful_and_not_helpful(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")

    buttons = answer_buttons(fake_slack)

    assert buttons[HELPFUL_ACTION] == buttons[UNHELPFUL_ACTION] == buttons["notes_share"]


def test_thumbs_down_is_recorded_against_the_section_shown_and_thanked(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")
    value = answer_buttons(fake_slack)[UNHELPFUL_ACTION]

    assert bot.slack.action(UNHELPFUL_ACTION, value).status_code == 200
    [_, thanks] = fake_slack.wait_for("response_url", count=2)

    note = "lexfridman/applications_of_deep_learning.md"
    assert ratings(bot) == [("computer vision", note, "Computer Vision and Robotics", 0, "U0ASKER01")]
    assert thanks.body["response_type"] == "ephemeral"
    assert thanks.body["replace_original"] is False  # the answer stays
    assert "Thanks" in thanks.body["text"]


def test_thumbs_up_is_recorded_as_helpful(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")
    bot.slack.action(HELPFUL_ACTION, answer_buttons(fake_slack)[HELPFUL_ACTION])
    fake_slack.wait_for("response_url", count=2)

    assert [row[3] for row in ratings(bot)] == [1]


def test_a_thumbs_down_shows_up_in_the_report(bot: ServedBot, fake_slack: FakeSlack) -> None:
    bot.slack.command("computer vision")
    bot.slack.action(UNHELPFUL_ACTION, answer_buttons(fake_slack)[UNHELPFUL_ACTION])
    fake_slack.wait_for("response_url", count=2)

    since = datetime.now(UTC) - timedelta(days=1)
    [topic] = [t for t in group_by_topic(collect_gaps(bot.ops.engine, since, 0.0)) if t.gaps[0].kind == UNHELPFUL]

    assert topic.gaps[0].query == "computer vision"
    assert topic.gaps[0].note == "lexfridman/applications_of_deep_learning.md"


def test_a_forged_button_value_records_nothing(bot: ServedBot, fake_slack: FakeSlack) -> None:
    assert bot.slack.action(UNHELPFUL_ACTION, "not a result value").status_code == 200

    time.sleep(0.5)  # the listener runs after the ack: give it time to (wrongly) record something
    assert ratings(bot) == []
    assert fake_slack.calls_to("response_url") == []
