"""A channel's corner of the vault, in process: `/notes scope` sets, says and lifts what a channel draws from
(only folders and tags the vault has); a scoped channel's answers, buttons and mentions never show a note
outside its scope while another channel's do; a query narrows itself with `in:` and `tag:`, within the scope."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.engine.scope import Scope
from bot.slack.channel_scopes import ChannelScopes, read_scope
from bot.slack.listeners.shortcuts import FIND_IN_NOTES
from bot.slack.messages import NEXT_ACTION, SHARE_ACTION, result_value
from tests.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.dispatch import NOW, BoltDispatcher
from tests.slack.listeners.conftest import MakeSlack
from tests.slack_sender import CHANNEL

OTHER = "C0OTHER01"


@pytest.fixture
def scopes(sqlite_engine: Engine) -> ChannelScopes:
    return ChannelScopes(sqlite_engine)


@pytest.fixture
def slack(make_slack: MakeSlack, scopes: ChannelScopes) -> BoltDispatcher:
    return make_slack(channel_scopes=scopes)


def replies(fake_slack: FakeSlack) -> list[str]:
    return [call.texts for call in fake_slack.calls_to("response_url")]


def last_reply(fake_slack: FakeSlack) -> str:
    return replies(fake_slack)[-1]


def test_scope_limits_the_channel_to_folders_the_vault_has_and_says_so(
    slack: BoltDispatcher, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    slack.command("scope lexfridman/ LONG")

    assert "This channel now draws from `lexfridman/`, `long/` (3 notes)" in last_reply(fake_slack)
    assert read_scope(sqlite_engine, TEAM_ID, CHANNEL) == Scope(folders=("lexfridman", "long"))
    slack.command("scope")
    assert "This channel draws from `lexfridman/`, `long/` (3 notes)" in last_reply(fake_slack)


def test_scope_all_lifts_it_and_scope_alone_then_says_the_whole_vault(
    slack: BoltDispatcher, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    slack.command("scope long/")
    slack.command("scope all")
    assert "now draws from the whole vault again (4 notes)" in last_reply(fake_slack)
    assert read_scope(sqlite_engine, TEAM_ID, CHANNEL) is None
    slack.command("scope")
    assert "This channel draws from the whole vault (4 notes)" in last_reply(fake_slack)


def test_unknown_folders_and_tags_are_named_with_close_matches_and_change_nothing(
    slack: BoltDispatcher, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    slack.command("scope lexfridmn/ tag:ml")

    reply = last_reply(fake_slack)
    assert "The notes have no folder `lexfridmn/`. Close: `lexfridman/`." in reply
    assert "The notes have no tag `ml`." in reply
    assert "Nothing changed." in reply
    assert read_scope(sqlite_engine, TEAM_ID, CHANNEL) is None


def test_what_the_scope_command_quotes_back_is_escaped(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.command("scope <!channel> &lt;https://evil.example|x&gt; `tick`")

    reply = last_reply(fake_slack)
    assert "<!channel>" not in reply and "<https://evil" not in reply
    assert "Nothing changed." in reply


def test_a_scoped_channel_never_answers_from_outside_its_scope_while_another_channel_does(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("scope long/")
    slack.command("computer vision")  # only lexfridman/ has it
    slack.command("computer vision", channel_id=OTHER)

    scoped, unscoped = replies(fake_slack)[-2:]
    assert "Nothing found for “computer vision”. (This channel draws from `long/`.)" in scoped
    assert "Applications of deep learning" not in scoped
    assert "Computer Vision and Robotics" in unscoped


def test_headings_suggested_when_nothing_is_found_come_from_the_scope_only(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("scope long/")
    slack.command("computr visin robotcs")

    reply = last_reply(fake_slack)
    assert "Computer Vision and Robotics" not in reply


def test_the_buttons_of_a_scoped_answer_stay_within_the_scope(
    slack: BoltDispatcher, fake_slack: FakeSlack, scopes: ChannelScopes
) -> None:
    scopes.save(TEAM_ID, CHANNEL, Scope(folders=("long",)), "U0ADMIN01", NOW)
    for position in range(3):
        slack.action(NEXT_ACTION, result_value("zeppelin origami deep learning", position))
    slack.action(SHARE_ACTION, result_value("zeppelin origami deep learning", 0))

    shown = "\n".join(replies(fake_slack))
    assert "Zeppelin history" in shown or "Origami folding notes" in shown
    assert "Applications of deep learning" not in shown


def test_a_mention_in_a_scoped_channel_is_answered_from_its_scope(
    slack: BoltDispatcher, fake_slack: FakeSlack, scopes: ChannelScopes
) -> None:
    scopes.save(TEAM_ID, CHANNEL, Scope(folders=("long",)), "U0ADMIN01", NOW)
    slack.event(slack.message_event(f"<@{BOT_USER_ID}> how does computer vision work?", type="app_mention"))
    slack.event(
        slack.message_event(f"<@{BOT_USER_ID}> how does computer vision work?", type="app_mention", channel=OTHER)
    )

    scoped, unscoped = (call.texts for call in fake_slack.calls_to("chat.postMessage"))
    assert "Applications of deep learning" not in scoped
    assert "Applications of deep learning" in unscoped


@pytest.mark.parametrize(
    ("query", "found", "absent"),
    [
        ("in:long hangar", "Zeppelin history", "Applications of deep learning"),
        ("in:lexfridman/ computer vision", "Computer Vision and Robotics", "Zeppelin"),
        ("in:long computer vision", "Nothing found", "Applications of deep learning"),
    ],
)
def test_a_query_narrows_itself_to_a_folder(
    slack: BoltDispatcher, fake_slack: FakeSlack, query: str, found: str, absent: str
) -> None:
    slack.command(query)

    reply = last_reply(fake_slack)
    assert found in reply and absent not in reply


def test_a_narrowing_outside_the_channel_s_scope_finds_nothing_and_says_why(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("scope long/")
    slack.command("in:lexfridman computer vision")

    reply = last_reply(fake_slack)
    assert "That is outside what this channel draws from (`long/`)." in reply
    assert "Computer Vision and Robotics" not in reply


def test_a_narrowing_to_a_folder_or_tag_the_vault_lacks_names_close_ones(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.command("in:lexfridmn tag:ml computer vision")

    reply = last_reply(fake_slack)
    assert "The notes have no folder `lexfridmn` (close: `lexfridman`)." in reply
    assert "The notes have no tag `ml`." in reply


def test_what_a_narrowing_quotes_back_is_escaped(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    slack.command("in:&lt;!here&gt; tag:&lt;https://evil.example|x&gt; computer vision")

    reply = last_reply(fake_slack)
    assert "The notes have no folder `&lt;!here&gt;`" in reply
    assert "<!here>" not in reply and "<https://evil" not in reply


def test_a_follow_up_in_a_scoped_channel_s_thread_stays_within_the_scope(
    slack: BoltDispatcher, fake_slack: FakeSlack, scopes: ChannelScopes
) -> None:
    scopes.save(TEAM_ID, CHANNEL, Scope(folders=("long",)), "U0ADMIN01", NOW)
    first = slack.message_event(f"<@{BOT_USER_ID}> zeppelin hangar", type="app_mention")
    slack.event(first)
    follow_up = slack.message_event(f"<@{BOT_USER_ID}> and computer vision?", type="app_mention", thread_ts=first["ts"])
    slack.event(follow_up)

    answer, follow_up_answer = (call.texts for call in fake_slack.calls_to("chat.postMessage"))
    assert "Zeppelin history" in answer
    assert "Applications of deep learning" not in follow_up_answer


def test_find_in_notes_in_a_scoped_channel_answers_from_its_scope(
    slack: BoltDispatcher, fake_slack: FakeSlack, scopes: ChannelScopes
) -> None:
    scopes.save(TEAM_ID, CHANNEL, Scope(folders=("long",)), "U0ADMIN01", NOW)
    message = {"user": "U0OTHER01", "ts": "1.5", "text": "how does computer vision work?"}
    slack.message_shortcut(FIND_IN_NOTES, message)
    slack.message_shortcut(FIND_IN_NOTES, message, channel=OTHER)

    scoped, unscoped = (call.texts for call in fake_slack.calls_to("chat.postEphemeral"))
    assert "Applications of deep learning" not in scoped
    assert "Computer Vision and Robotics" in unscoped
