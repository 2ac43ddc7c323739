"""The buttons of a `/notes` answer: share to the channel, next match in place, dismiss."""

from __future__ import annotations

from bot.slack.messages import result_value


def first_answer(slack, fake_slack, query: str) -> dict:
    slack.command(query)
    return fake_slack.wait_for("response_url")[0].body


def button_value(message: dict, action_id: str) -> str:
    return next(e["value"] for e in message["blocks"][-1]["elements"] if e["action_id"] == action_id)


def test_share_posts_the_match_in_the_channel_saying_who_shared_it(slack, fake_slack):
    answer = first_answer(slack, fake_slack, "computer vision")
    url = fake_slack.response_url()
    assert slack.action("notes_share", button_value(answer, "notes_share"), url).status_code == 200
    shared, deleted = fake_slack.wait_for("response_url", count=3)[1:]
    assert shared.path == deleted.path == url.removeprefix(fake_slack.origin)
    assert shared.body["response_type"] == "in_channel"
    assert "Shared by <@U0ASKER01>" in shared.body["blocks"][-1]["elements"][0]["text"]
    assert "Computer Vision and Robotics" in shared.body["blocks"][0]["text"]["text"]
    assert all(b["type"] != "actions" for b in shared.body["blocks"])
    assert deleted.body == {"delete_original": True}


def test_next_match_replaces_the_answer_and_cycles_back_to_the_first(slack, fake_slack):
    answer = first_answer(slack, fake_slack, "computer vision")
    shown = [answer["blocks"][0]["text"]["text"]]
    value = button_value(answer, "notes_next")
    for round_ in range(2):
        slack.action("notes_next", value)
        replaced = fake_slack.wait_for("response_url", count=2 + round_)[-1].body
        assert replaced["replace_original"] is True
        shown.append(replaced["blocks"][0]["text"]["text"])
        value = button_value(replaced, "notes_next")
    assert "Challenges in Real-World Applications" in shown[1]
    assert shown[2] == shown[0]  # two matches: the second "next" comes back to the first


def test_dismiss_deletes_the_answer(slack, fake_slack):
    answer = first_answer(slack, fake_slack, "computer vision")
    slack.action("notes_dismiss", button_value(answer, "notes_dismiss"))
    assert fake_slack.wait_for("response_url", count=2)[-1].body == {"delete_original": True}


def test_sharing_a_match_the_vault_no_longer_has_shows_a_fresh_answer(slack, fake_slack):
    slack.action("notes_share", result_value("computer vision", 7))
    [fresh] = fake_slack.wait_for("response_url")
    assert fresh.body["response_type"] == "ephemeral"
    assert "Computer Vision and Robotics" in fresh.body["blocks"][0]["text"]["text"]


def test_a_button_value_that_is_not_ours_gets_an_apology(slack, fake_slack):
    slack.action("notes_next", "not json")
    [apology] = fake_slack.wait_for("response_url")
    assert "Sorry" in apology.body["text"]
