"""deploy/slack-app-manifest.yml declares what the app listens to and calls, and nothing more."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.engine.site import NoteSite
from bot.slack.listeners.commands import COMMAND
from bot.slack.oauth import BOT_SCOPES
from bot.slack.unfurls import unfurl_domains

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_declares_the_notes_command_at_the_events_url():
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["url"] == "https://example.com/slack/events"
    assert command["should_escape"] is False


def test_subscribes_to_the_events_the_app_handles_at_the_same_url():
    settings = manifest()["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "app_mention",
        "app_uninstalled",
        "link_shared",
        "message.im",
        "tokens_revoked",
    ]
    assert settings["event_subscriptions"]["request_url"] == "https://example.com/slack/events"
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://example.com/slack/events"}


def test_asks_only_for_the_scopes_the_app_needs():
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
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
