"""deploy/slack-app-manifest.yml declares what the app listens to and calls, and nothing more: its events are the
ones the listeners subscribe to, its scopes the ones the Web API methods the code calls (and those events) need."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from bot.engine.site import NoteSite
from bot.slack.listeners.commands import COMMAND
from bot.slack.listeners.shortcuts import FIND_IN_NOTES, SEARCH_THE_NOTES
from bot.slack.oauth import BOT_SCOPES
from bot.slack.unfurls import unfurl_domains
from tests.slack_sender import SlackSender

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "slack-app-manifest.yml"
LISTENERS = ROOT / "bot" / "slack" / "listeners"

HISTORY = {"channels:history", "groups:history", "im:history", "mpim:history"}
# The bot scopes each Web API method the bot calls needs, as Slack's method reference lists them.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "views_open": set(),
    "views_update": set(),
    "views_publish": set(),
    "chat_unfurl": {"links:write"},
    "assistant_threads_setStatus": {"assistant:write"},
    "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"},
    # a thread's first message, in whichever kind of conversation the bot is called into
    "conversations_replies": HISTORY,
    # the digest's check of its channel (public or private) before posting again
    "conversations_history": {"channels:history", "groups:history"},
}
# The bot scopes each event needs.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "link_shared": {"links:read"},
    "message.im": {"im:history"},
    "assistant_thread_started": {"assistant:write"},
    "assistant_thread_context_changed": {"assistant:write"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}
# Needed for what the bot does rather than for a method or an event.
OTHER_SCOPES = {
    "commands": "the /notes slash command and the shortcuts",
    "chat:write.public": "the topic of the day in a public channel the bot was not invited to",
}
# What the `Assistant` middleware's listeners and Bolt's revocation listeners subscribe to.
ASSISTANT_EVENTS = {
    "thread_started": "assistant_thread_started",
    "thread_context_changed": "assistant_thread_context_changed",
    "user_message": "message.im",
}
REVOCATION_EVENTS = {"app_uninstalled", "tokens_revoked"}
_WEB_API_METHOD = re.compile(r"(chat|views|assistant|conversations|users|reactions|files|pins)_[A-Za-z_]+")


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def methods_called() -> set[str]:
    """The Web API methods the bot calls on a client (`client.chat_postMessage`, ...), read from its source."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and _WEB_API_METHOD.fullmatch(node.attr) and _is_client(node.value):
                found.add(node.attr)
    return found


def _is_client(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name.endswith("client")


def events_listened() -> set[str]:
    """The events the listeners subscribe to, read from their source: `app.event("...")` (a `message`
    listener answers direct messages only: `message.im`), the Assistant middleware's decorators, and Bolt's
    uninstall listeners."""
    found = set()
    for path in LISTENERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "event":
                name = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                found.add("message.im" if name == "message" else name)
            if isinstance(node, ast.Attribute) and node.attr in ASSISTANT_EVENTS:
                found.add(ASSISTANT_EVENTS[node.attr])
            if isinstance(node, ast.Attribute) and node.attr == "enable_token_revocation_listeners":
                found |= REVOCATION_EVENTS
    return found


def test_declares_the_notes_command_at_the_events_url():
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["url"] == "https://example.com/slack/events"
    assert command["should_escape"] is False


def test_declares_the_shortcuts_the_app_answers():
    shortcuts = {(s["callback_id"], s["type"]) for s in manifest()["features"]["shortcuts"]}
    assert shortcuts == {(FIND_IN_NOTES, "message"), (SEARCH_THE_NOTES, "global")}
    assert all(len(s["name"]) <= 24 and len(s["description"]) <= 80 for s in manifest()["features"]["shortcuts"])


def test_has_the_assistant_panel():
    assert manifest()["features"]["assistant_view"]["assistant_description"]


def test_subscribes_to_exactly_the_events_the_listeners_handle_at_the_same_url():
    settings = manifest()["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == events_listened()
    assert events_listened() == set(EVENT_SCOPES)  # each has its scopes below
    assert settings["event_subscriptions"]["request_url"] == "https://example.com/slack/events"
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://example.com/slack/events"}


def test_every_subscribed_event_reaches_a_listener(slack: SlackSender):
    """Bolt answers 404 to an event no listener takes (the uninstall events are OAuth mode's, tested there)."""
    for name in set(manifest()["settings"]["event_subscriptions"]["bot_events"]) - REVOCATION_EVENTS:
        event_type, _, channel_type = name.partition(".")
        event = {"type": event_type, "user": "U0ASKER01", "ts": "1.1", "text": "hi", "channel": "D0DIRECT1"}
        event |= {"channel_type": channel_type} if channel_type else {}
        event |= {"assistant_thread": {"channel_id": "D0DIRECT1", "thread_ts": "1.1", "user_id": "U0ASKER01"}}
        assert slack.event(event).status_code == 200, name


def test_asks_for_exactly_the_scopes_the_methods_called_and_the_events_need():
    called = methods_called()
    assert called <= set(METHOD_SCOPES), f"scopes of {called - set(METHOD_SCOPES)} unknown to this test"
    needed = set().union(*(METHOD_SCOPES[m] for m in called), *EVENT_SCOPES.values(), OTHER_SCOPES)
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == sorted(needed)
    assert sorted(scopes) == sorted(BOT_SCOPES)  # what OAuth installs ask for, from the code


def test_app_home_has_the_home_and_messages_tabs():
    home = manifest()["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True


def test_oauth_sends_people_back_to_the_redirect_route():
    assert manifest()["oauth_config"]["redirect_urls"] == ["https://example.com/slack/oauth_redirect"]


def test_asks_to_read_and_preview_links():
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    assert {"links:read", "links:write"} <= set(scopes)


def test_registers_the_youtube_hosts_and_the_notes_site_as_unfurl_domains_within_slack_s_five():
    domains = manifest()["features"]["unfurl_domains"]
    example_site = NoteSite("https://notes.example.com")
    assert domains == list(unfurl_domains(example_site))
    assert domains[:4] == ["youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"]
    assert len(domains) <= 5  # "Your app can register up to five domains"
