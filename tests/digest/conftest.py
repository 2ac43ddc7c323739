"""Fixtures for the digest: small vaults written in tmp_path, a simulated clock, databases, and an
in-process Slack channel that remembers what was posted (for history checks and lost answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine

from bot.digest.poster import DigestPoster
from bot.engine.index import SearchIndex
from bot.engine.index_cache import load_vault

FILLER = (
    "This part of the talk walks through the idea step by step, with examples from practice, the "
    "trade-offs people meet when they build it, and what the speaker would do differently today "
    "if they started again from scratch with what they know now."
)


def anchor(stamp: str) -> str:
    return f'<a class="yt-timestamp" data-t="{stamp}">[{stamp}]</a>'


def note_text(title: str, video_id: str | None, sections: list[tuple[str, str]], links: list[str] = ()) -> str:
    """A note as the vault holds them: front matter, a `From:` line, then `## heading` sections."""
    front = f"---\ntitle: {title}\n" + (f"videoId: {video_id}\n" if video_id else "") + "---\n\n"
    body = "From: [[channel]] <br/>\n\n"
    if links:
        body += "See also " + ", ".join(f"[[{link}]]" for link in links) + ".\n\n"
    return front + body + "".join(f"## {heading}\n\n{text}\n\n" for heading, text in sections)


def good_section(heading: str, stamp: str = "00:38:00", extra: str = "") -> tuple[str, str]:
    """A section worth reading: a timestamp and plenty of text."""
    return heading, f"{extra}{FILLER} {anchor(stamp)}"


def write_note(root: Path, name: str, text: str) -> Path:
    path = root / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_topics_vault(root: Path, count: int) -> list[str]:
    """`count` notes with one section worth reading each (and sections that are not); their paths."""
    paths = []
    for n in range(count):
        sections = [
            good_section(f"Main idea {n}", f"00:{n:02d}:30"),
            ("Aside", f"Short, with a moment {anchor('00:01:00')}"),  # too little text
            ("No moment", FILLER),  # no timestamp
        ]
        write_note(root, f"talk_{n:02d}", note_text(f"Talk {n}", f"vid{n:08d}", sections))
        paths.append(f"talk_{n:02d}.md")
    return paths


def index_of(root: Path) -> SearchIndex:
    return load_vault(root, None).index


class SimClock:
    """Simulated time: tests move it; the code under test only reads it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def slack_error(status: int, error: str, headers: dict[str, str] | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("The request to the Slack API failed.", response)


@dataclass
class FakeChannel:
    """A stand-in for WebClient with one workspace's channels: posts land in `messages`.

    `script` holds what the next chat.postMessage calls do instead of a plain success:
    "500" (an error answer, nothing posted), "429", "timeout" (nothing posted, no answer),
    "lost" (posted, but the answer never arrives), or a Slack error code such as "channel_not_found".
    `history_error`, when set, makes conversations.history fail with that code.
    """

    script: list[str] = field(default_factory=list)
    history_error: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    post_calls: int = 0
    history_calls: int = 0

    def chat_postMessage(self, *, channel: str, text: str, blocks: list, **options: Any) -> dict[str, Any]:
        self.post_calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "500":
            raise slack_error(500, "internal_error")
        if step == "429":
            raise slack_error(429, "ratelimited", {"Retry-After": "3"})
        if step == "timeout":
            raise TimeoutError("The read operation timed out")
        if step not in ("ok", "lost"):
            raise slack_error(200, step)
        ts = f"{1_800_000_000 + len(self.messages)}.000100"
        self.messages.append(
            {"channel": channel, "ts": ts, "text": text, "blocks": blocks, "bot_id": "BBOT", **options}
        )
        if step == "lost":
            raise TimeoutError("The read operation timed out")
        return {"ok": True, "channel": channel, "ts": ts}

    def conversations_history(self, *, channel: str, include_all_metadata: bool = False, **_: Any) -> dict:
        self.history_calls += 1
        if self.history_error:
            raise slack_error(200, self.history_error)
        found = [m for m in reversed(self.messages) if m["channel"] == channel]
        if not include_all_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False}

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["channel"] == channel]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC))


def make_poster(engine: Engine, client: Any, index: SearchIndex | Any, clock: SimClock, **options: Any) -> DigestPoster:
    """A poster whose waits move the simulated clock instead of sleeping."""
    index_source = index if callable(index) else (lambda: index)
    return DigestPoster(engine, lambda _team: client, index_source, clock, sleep=clock.advance, **options)
