"""Link previews: for each YouTube or published-vault link of a `link_shared` event, what the notes say there.

Pure apart from the searcher. A link to a moment of a video in the vault gets the section covering that
moment (bot.engine.links says which); a link into the published vault the section its anchor names. The
preview is keyed by the URL exactly as Slack sent it (`&` may be `&amp;` there: it is read decoded, but
the key stays as sent, for Slack matches keys to the links of the message). Links to videos the vault
(within the channel's scope) has no note on, and links that are not readable video or page links, get
no preview: Slack's own stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bot.engine.links import LinkTarget
from bot.engine.scope import Scope
from bot.engine.search import Searcher, section_hit
from bot.engine.site import NoteSite
from bot.engine.youtube import VIDEO_HOSTS, read_youtube_link
from bot.slack.messages import link_preview

MAX_PREVIEWS = 10  # links previewed in one message: a long list of links is a list, not a question
COMPOSER = "COMPOSER"  # the `channel` of a link still being written (Slack sends the event again once posted)


def unfurl_domains(site: NoteSite | None) -> tuple[str, ...]:
    """The domains whose links the app previews (the manifest registers them)."""
    return (*VIDEO_HOSTS, *((site.host,) if site is not None else ()))


def shared_urls(event: dict[str, Any]) -> list[str]:
    """The distinct URLs of a link_shared event, in order, at most MAX_PREVIEWS."""
    urls = [link.get("url") for link in event.get("links") or [] if isinstance(link, dict)]
    return list(dict.fromkeys(url for url in urls if isinstance(url, str) and url))[:MAX_PREVIEWS]


def unfurl_target(event: dict[str, Any]) -> dict[str, str] | None:
    """Which message chat.unfurl attaches the previews to: the event's `unfurl_id` and `source` when it has
    them, else its `channel` and `message_ts`. None for a link still in the composer: its channel (and so
    the channel's scope) is not known until it is posted, and Slack then sends the event again."""
    channel = event.get("channel")
    if event.get("source") == "composer" or channel == COMPOSER:
        return None
    if event.get("unfurl_id") and event.get("source"):
        return {"unfurl_id": str(event["unfurl_id"]), "source": str(event["source"])}
    if channel and event.get("message_ts"):
        return {"channel": str(channel), "ts": str(event["message_ts"])}
    return None


def link_previews(
    searcher: Searcher, urls: Iterable[str], scope: Scope | None, site: NoteSite | None
) -> dict[str, dict[str, Any]]:
    """chat.unfurl's `unfurls`: each URL the vault (within `scope`) has a section for, and its preview."""
    within = searcher.note_sets.mask(scope) if scope is not None else None
    previews: dict[str, dict[str, Any]] = {}
    for url in urls:
        target = link_target(searcher, url, site, within)
        if target is not None:
            index = searcher.index
            also_in = [index.note_titles[note] for note in target.others]
            previews[url] = link_preview(section_hit(index, target.section), also_in, site)
    return previews


def link_target(searcher: Searcher, url: str, site: NoteSite | None, within: np.ndarray | None) -> LinkTarget | None:
    """The section a link points at: a moment of a video, or a section of the published vault."""
    video = read_youtube_link(url)
    if video is not None:
        return searcher.links.moment(video, within)
    page = site.read_url(url) if site is not None else None
    return searcher.links.page(site, page, within) if site is not None and page is not None else None
