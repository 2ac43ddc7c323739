"""A query that narrows itself: `in:lexfridman computer vision`, `tag:ml transformers`, `video:s3MuSOl1Rog occlusion`.

Pure. `in:FOLDER`, `tag:TAG` and `video:ID` (or `video:ID@SECONDS`) words (any case for the operator, anywhere in
the query) are taken out of the query and name the notes to search: under any of the folders named AND carrying any
of the tags named AND on any of the videos named, and always within the channel's own scope, never outside it.
Folders and tags the vault does not have are named back with the closest ones it has (rapidfuzz), rather than
silently finding nothing. A YouTube link pasted into a question in Slack is read as its `video:` word
(bot.slack.payloads); a video the vault has no note on narrows nothing beside words of the question's own
(`known_videos`), and is named back when the question is nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.scope import NoteSets, Scope
from bot.engine.youtube import VideoLink

_OPERATOR = re.compile(r"(?<!\S)(in|tag|video):(\S*)", re.IGNORECASE)
_VIDEO = re.compile(r"([^@\s]+)(?:@(\d{1,7}))?")  # `video:ID`, or `video:ID@SECONDS` for a moment of it
CLOSE_MATCHES = 3
CLOSE_ENOUGH = 60  # rapidfuzz WRatio: below it a name is no help


@dataclass(frozen=True, slots=True)
class Narrowing:
    query: str  # the query without its `in:`, `tag:` and `video:` words
    folders: Scope  # the folders named (`in:`), as a scope
    tags: Scope  # the tags named (`tag:`), as a scope
    links: tuple[VideoLink, ...]  # the videos named (`video:`), each with its moment where one is named

    @property
    def videos(self) -> Scope:
        """The videos named, as a scope."""
        return Scope(videos=tuple(link.video_id for link in self.links))

    @property
    def narrows(self) -> bool:
        return bool(self.folders.folders or self.tags.tags or self.videos.videos)


def read_narrowing(query: str) -> Narrowing:
    """The query's `in:`, `tag:` and `video:` words, and the rest of it (an operator without a value is dropped)."""
    named: dict[str, list[str]] = {"in": [], "tag": [], "video": []}
    for kind, value in _OPERATOR.findall(query):
        named[kind.lower()].append(value)
    rest = " ".join(_OPERATOR.sub(" ", query).split())
    folders = Scope(folders=tuple(folder for folder in named["in"] if folder.strip("/")))
    links = tuple(_video_link(value) for value in named["video"] if value)
    return Narrowing(rest, folders, Scope(tags=tuple(named["tag"])), links)


def _video_link(value: str) -> VideoLink:
    match = _VIDEO.fullmatch(value)
    if match is None:  # an `@` and more than a moment: all of it names the video (none has such an id)
        return VideoLink(value, None)
    return VideoLink(match.group(1), int(match.group(2)) if match.group(2) else None)


def known_videos(note_sets: NoteSets, narrowing: Narrowing) -> Narrowing:
    """The narrowing without the videos the vault has no note on, where the query has words of its own: a link pasted
    beside a question is its context rather than a command, so such a video leaves the question to the rest of the
    narrowing. A question of nothing but videos keeps them all (and is told which the notes lack)."""
    unknown = set(note_sets.unknown(narrowing.videos).videos)
    if not narrowing.query or not unknown:
        return narrowing
    return replace(narrowing, links=tuple(link for link in narrowing.links if link.video_id not in unknown))


def close_matches(name: str, known: list[str]) -> list[str]:
    """The names of `known` closest to `name`, best first."""
    found = process.extract(name, known, scorer=fuzz.WRatio, limit=CLOSE_MATCHES, score_cutoff=CLOSE_ENOUGH)
    return [match for match, _, _ in found]


def unknown_names(note_sets: NoteSets, narrowing: Narrowing) -> list[tuple[str, str, list[str]]]:
    """(kind, name, close matches) of each folder, tag and video the narrowing names that no note has."""
    named = Scope(folders=narrowing.folders.folders, tags=narrowing.tags.tags, videos=narrowing.videos.videos)
    unknown = note_sets.unknown(named)
    return (
        [("folder", name, close_matches(name, note_sets.folders())) for name in unknown.folders]
        + [("tag", name, close_matches(name, note_sets.tags())) for name in unknown.tags]
        + [("video", name, []) for name in unknown.videos]
    )


def notes_within(note_sets: NoteSets, channel: Scope | None, narrowing: Narrowing) -> Scope | np.ndarray | None:
    """Which notes a narrowed query in a channel searches: None for all; the one scope that applies, as it is
    (a searcher keeps a scope's mask for the next search in it: a channel's questions reuse it); or, when
    several apply, the notes in all of them, as a mask over note ids."""
    scopes = [scope for scope, named in _parts(channel, narrowing) if named]
    if len(scopes) <= 1:
        return scopes[0] if scopes else None
    within = note_sets.mask(scopes[0])
    for scope in scopes[1:]:
        within &= note_sets.mask(scope)
    return within


def holds_notes(note_sets: NoteSets, within: Scope | np.ndarray | None) -> bool:
    """Whether `notes_within`'s answer holds any note at all."""
    if within is None:
        return note_sets.note_count > 0
    return bool((note_sets.mask(within) if isinstance(within, Scope) else within).any())


def _parts(channel: Scope | None, narrowing: Narrowing) -> list[tuple[Scope, bool]]:
    return [
        (channel or Scope(), channel is not None),
        (narrowing.folders, bool(narrowing.folders.folders)),
        (narrowing.tags, bool(narrowing.tags.tags)),
        (narrowing.videos, bool(narrowing.videos.videos)),
    ]
