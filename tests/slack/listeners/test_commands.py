"""`/notes` in process: acknowledged with an empty 200, then usage, an answer, or the digest's reply, privately."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.slack.delivery import Reply
from bot.slack.listeners.commands import COMMAND
from tests.engine.vaults import searcher_of, write_moment
from tests.fake_slack import FakeSlack
from tests.slack.dispatch import BoltDispatcher
from tests.slack.listeners.conftest import MakeSlack
from tests.slack_sender import CHANNEL, FORM, USER


def test_a_command_is_acknowledged_with_an_empty_200(slack: BoltDispatcher) -> None:
    response = slack.command("computer vision")

    assert (response.status, response.body) == (200, "")


def test_a_command_sent_twice_with_one_trigger_id_is_acknowledged_twice_and_answered_once(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    body = slack.command_body("computer vision")  # as a proxy re-sends a request to another replica

    statuses = [slack.post(body, FORM).status for _ in range(2)]

    assert statuses == [200, 200]
    assert len(fake_slack.calls_to("response_url")) == 1


@pytest.mark.parametrize("text", ["", "help", "HELP", "-h", "--help", "?", "help me please"])
def test_no_words_or_a_help_word_answers_with_usage(slack: BoltDispatcher, fake_slack: FakeSlack, text: str) -> None:
    slack.command(text)

    [usage] = fake_slack.calls_to("response_url")
    assert usage.body["response_type"] == "ephemeral"
    assert "/notes computer vision" in usage.texts


def test_a_query_is_answered_privately_with_its_best_hit_and_the_answer_buttons(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("computer   vision")

    [answer] = fake_slack.calls_to("response_url")
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["blocks"][0]["text"]["text"] == "*Applications of deep learning*\nComputer Vision and Robotics"
    assert [e["action_id"] for e in answer.body["blocks"][-1]["elements"]] == [
        "notes_share",
        "notes_next",
        "notes_dismiss",
    ]


def test_an_answer_two_notes_on_one_video_give_names_the_other_note_and_is_not_shown_twice(
    make_slack: MakeSlack, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    for name, title in (("a.md", "Tides and the moon"), ("b.md", "Ocean <!channel> physics")):
        write_moment(vault, name, title, "moonvideo01", "Tides", "The moon pulls the oceans into tides")
    write_moment(vault, "c.md", "Coasts", "othervideo1", "Tides elsewhere", "Tides shape coasts")

    make_slack(over=searcher_of(vault)).command("moon tides")

    [answer] = fake_slack.calls_to("response_url")
    assert answer.body["blocks"][0]["text"]["text"].startswith("*Tides and the moon*")
    context = answer.body["blocks"][2]["elements"][0]["text"]
    assert context.endswith("Match 1 of 2 for “moon tides”\nAlso in Ocean &lt;!channel&gt; physics")


def test_a_query_is_read_as_typed_from_slack_markup(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.command("<@U0SOMEONE> R&amp;D <https://example.com|origami>")

    [answer] = fake_slack.calls_to("response_url")
    assert "Origami crane folds" in answer.texts
    assert "for “R&amp;D origami”" in answer.texts  # the mention dropped, the link's label kept, "&" escaped again


def test_digest_words_go_to_the_digest_command_which_answers_privately(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    given: list[tuple[str, dict[str, Any]]] = []

    def digest_command(args: str, payload: dict[str, Any], reply: Reply) -> None:
        given.append((args, payload))
        reply({"text": "Topic of the day is on for this channel."})

    make_slack(digest_command=digest_command).command("Digest on 09:00   Europe/Berlin")

    [(args, payload)] = given
    assert args == "on 09:00 Europe/Berlin"
    assert (payload["command"], payload["channel_id"], payload["user_id"]) == (COMMAND, CHANNEL, USER)
    [reply] = fake_slack.calls_to("response_url")
    assert reply.body == {"response_type": "ephemeral", "text": "Topic of the day is on for this channel."}


def test_without_a_digest_command_digest_words_are_searched_like_any_query(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("digest zzqx")

    [answer] = fake_slack.calls_to("response_url")
    assert "Nothing found for “digest zzqx”" in answer.texts


def test_a_digest_command_that_fails_gets_the_user_an_apology(make_slack: MakeSlack, fake_slack: FakeSlack) -> None:
    def broken(_args: str, _payload: dict[str, Any], _reply: Reply) -> None:
        raise RuntimeError("the database is away")

    make_slack(digest_command=broken).command("digest off")

    [apology] = fake_slack.calls_to("response_url")
    assert apology.body["text"].startswith("Sorry, I could not deliver the answer")
