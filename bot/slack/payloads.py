"""Reading what Slack sends: the question in a message's text, a result button's value, who pressed it and where.

Slack encodes a message's text: `&`, `<`, `>` as entities, mentions as `<@U123>`, links as `<url|label>`.
The question is read back as typed; everything quoted from it is escaped again when it is posted
(bot.slack.messages).
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine.follow_up import ThreadContext
from bot.engine.youtube import read_youtube_link
from bot.slack.messages import read_result_thread, read_result_value

MAX_QUERY_CHARS = 300  # longer input is cut at a word: no real question needs more, and search time grows

_SLACK_MENTION = re.compile(r"<[@!][^>]*>")
# A link as Slack writes it in a message: `<https://…|label>`, or `<https://…>` for one pasted whole (a link written
# without its scheme comes with what was typed as its label). A link to a YouTube video stands in the question as
# its `video:` word (`video:ID@SECONDS` for a moment of it), which narrows the search to the notes on that video
# (bot.engine.narrowing); another counts as
# its label; the address of one pasted whole is no words of the question ("https www example com" would be
# searched for).
_SLACK_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
# An emoji as Slack writes it in a message: `:thinking_face:`, `:+1:`, `:wave::skin-tone-2:`. Its name is no word of the
# question ("thinking face" would be searched for); digits between colons, as in `12:30:45`, are no emoji.
_SLACK_EMOJI = re.compile(r":[a-z0-9_+'-]*[a-z+][a-z0-9_+'-]*:")


def limit_query(text: str) -> str:
    """At most MAX_QUERY_CHARS characters of `text`, cut at a word where there is one."""
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_CHARS:
        return text
    head = text[: MAX_QUERY_CHARS + 1]
    space = head.rfind(" ")
    return head[:space] if space > 0 else text[:MAX_QUERY_CHARS]


def query_from_slack_text(text: str) -> str:
    """The query in a message or slash command as Slack encodes it: mentions, emoji and pasted addresses dropped,
    links reduced to their labels (a YouTube video's to its `video:` word), entities decoded, so "R&amp;D" is read as
    typed (the answer escapes whatever it quotes again)."""
    text = _SLACK_MENTION.sub(" ", text)
    text = _SLACK_LINK.sub(_link_words, text)
    text = _SLACK_EMOJI.sub(" ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _link_words(link: re.Match[str]) -> str:
    address, label = link.group(1), link.group(2)
    video = read_youtube_link(address.replace("&amp;", "&"))
    if video is not None:
        return f" video:{video.video_id}{'' if video.seconds is None else f'@{video.seconds}'} "
    if label is not None:
        return label
    return " " if "://" in address else address


def from_a_bot(event: dict[str, Any]) -> bool:
    """An event written by a bot (this one included), which the bot must not answer."""
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message")


def pressed(body: dict[str, Any]) -> dict[str, Any]:
    """The button of a block_actions payload."""
    return (body.get("actions") or [{}])[0]


def button_value(body: dict[str, Any]) -> tuple[str, int]:
    """The query and position a result's button carries (ValueError if it is not ours)."""
    query, position = read_result_value(pressed(body).get("value") or "")
    return query, max(0, position)


def button_thread(body: dict[str, Any]) -> tuple[ThreadContext, str | None]:
    """The thread's context a result's button carries, and the thread its Share posts in (None: the channel)."""
    return read_result_thread(pressed(body).get("value") or "")


def action_context(body: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload's channel and user, named as in a slash command payload."""
    return {"channel_id": (body.get("channel") or {}).get("id"), "user_id": (body.get("user") or {}).get("id")}


_WORD_CHARACTER = re.compile(r"[^\W_]")


def asks_nothing(question: str) -> bool:
    """A mention with no question in it: no word at all ("@notesbot", "@notesbot ?")."""
    return _WORD_CHARACTER.search(question) is None


def thread_of(message: dict[str, Any]) -> str | None:
    """The ts of the thread a message (or mention) was written in; None when it starts no thread's reply."""
    thread_ts = message.get("thread_ts")
    return thread_ts if thread_ts and thread_ts != message.get("ts") else None


def team_of(body: dict[str, Any]) -> str:
    """The workspace a payload comes from: an event's `team_id`, an interaction's `team` or its user's team."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return team or ""
