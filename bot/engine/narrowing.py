"""A query that narrows itself: `in:lexfridman computer vision`, `tag:ml transformers`.

Pure. `in:FOLDER` and `tag:TAG` words (any case, anywhere in the query) are taken out of the query and
name the notes to search: under any of the folders named AND carrying any of the tags named, and always
within the channel's own scope, never outside it. Folders and tags the vault does not have are named
back with the closest ones it has (rapidfuzz), rather than silently finding nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.scope import NoteSets, Scope

_OPERATOR = re.compile(r"(?<!\S)(in|tag):(\S*)", re.IGNORECASE)
CLOSE_MATCHES = 3
CLOSE_ENOUGH = 60  # rapidfuzz WRatio: below it a name is no help


@dataclass(frozen=True, slots=True)
class Narrowing:
    query: str  # the query without its `in:` and `tag:` words
    folders: Scope  # the folders named (`in:`), as a scope
    tags: Scope  # the tags named (`tag:`), as a scope

    @property
    def narrows(self) -> bool:
        return bool(self.folders.folders or self.tags.tags)


def read_narrowing(query: str) -> Narrowing:
    """The query's `in:` and `tag:` words, and the rest of it (an operator without a value is dropped)."""
    folders, tags = [], []
    for kind, value in _OPERATOR.findall(query):
        (folders if kind.lower() == "in" else tags).append(value)
    rest = " ".join(_OPERATOR.sub(" ", query).split())
    return Narrowing(rest, Scope(folders=tuple(f for f in folders if f.strip("/"))), Scope(tags=tuple(tags)))


def close_matches(name: str, known: list[str]) -> list[str]:
    """The names of `known` closest to `name`, best first."""
    found = process.extract(name, known, scorer=fuzz.WRatio, limit=CLOSE_MATCHES, score_cutoff=CLOSE_ENOUGH)
    return [match for match, _, _ in found]


def unknown_names(note_sets: NoteSets, narrowing: Narrowing) -> list[tuple[str, str, list[str]]]:
    """(kind, name, close matches) of each folder and tag the narrowing names that no note has."""
    unknown = note_sets.unknown(Scope(folders=narrowing.folders.folders, tags=narrowing.tags.tags))
    return [("folder", name, close_matches(name, note_sets.folders())) for name in unknown.folders] + [
        ("tag", name, close_matches(name, note_sets.tags())) for name in unknown.tags
    ]


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
    ]
