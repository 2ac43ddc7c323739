"""Scopes: the part of a vault a search draws from, as a set of notes.

A `Scope` names notes by folder (every note under `lexfridman/`), by front-matter tag (`ml`, which also
takes the nested `ml/nlp`, as Obsidian's tag search does), by path or by the video they are on; a note in any of
them is in the scope.
`NoteSets` resolves scopes against one index into boolean masks over its notes, which is what
`Searcher.search_terms(..., within=...)` filters its first stage with. Pure: the index is data.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from bot.engine.index import SearchIndex


@dataclass(frozen=True, slots=True)
class Scope:
    """Notes under any of `folders` (relative to the vault, with or without a trailing `/`; "" is the whole
    vault), carrying any of `tags` (without `#`, any case), at any of `notes` (paths in the vault), or on any
    of `videos` (YouTube video ids, as notes' `videoId`). An empty scope holds no note.

    Each is kept sorted, once, one way written (`lexfridman/` as `lexfridman`, `#ML` as `ml`), so that
    scopes naming the same notes the same way are equal values (and share one cached mask)."""

    folders: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    videos: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        written = {
            "folders": {folder.strip().strip("/") for folder in self.folders},
            "tags": {tag.strip().lstrip("#").casefold() for tag in self.tags} - {""},
            "notes": set(self.notes),
            "videos": {video.strip() for video in self.videos} - {""},
        }
        for name, values in written.items():
            object.__setattr__(self, name, tuple(sorted(values)))


@dataclass(frozen=True, slots=True)
class Preference:
    """Notes a search favours (those of an earlier answer in a thread, say): the first-stage score of each
    of their sections is multiplied by `factor`, so they can reach the rerank and win close calls."""

    notes: Scope | np.ndarray  # a scope, or a boolean mask over note ids
    factor: float

    def __post_init__(self) -> None:
        if not self.factor > 0:
            raise ValueError(f"a preference's factor is positive, not {self.factor}")


class NoteSets:
    """The notes of one index by folder, tag and path, to resolve scopes into masks quickly: a folder is a
    run of the paths in sorted order (found by bisection), a tag a list of notes."""

    def __init__(self, index: SearchIndex) -> None:
        self.note_count = index.note_count
        order = sorted(range(index.note_count), key=index.note_paths.__getitem__)
        self._sorted_paths = [index.note_paths[i] for i in order]
        self._by_sorted = np.array(order, dtype=np.intp)
        self._note_ids = {path: i for i, path in enumerate(index.note_paths)}
        self._by_tag: dict[str, list[int]] = {}
        for note, tags in enumerate(index.note_tags):
            for tag in tags:
                self._by_tag.setdefault(tag, []).append(note)
        self._by_video: dict[str, list[int]] = {}
        for note, video in enumerate(index.note_videos):
            if video:
                self._by_video.setdefault(video, []).append(note)

    def tags(self) -> list[str]:
        """Every tag some note carries, sorted."""
        return sorted(self._by_tag)

    def folders(self) -> list[str]:
        """Every folder holding a note, at any depth, sorted (`a` and `a/b` for `a/b/note.md`)."""
        found = set()
        for path in self._sorted_paths:
            parts = path.split("/")[:-1]
            found.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
        return sorted(found)

    def mask(self, scope: Scope) -> np.ndarray:
        """Which notes are in `scope`, as a boolean array over note ids."""
        within = np.zeros(self.note_count, dtype=bool)
        for folder in scope.folders:
            within[self._in_folder(folder)] = True
        for tag in scope.tags:
            for held, notes in self._by_tag.items():
                if held == tag or held.startswith(tag + "/"):
                    within[notes] = True
        within[[self._note_ids[path] for path in scope.notes if path in self._note_ids]] = True
        for video in scope.videos:
            within[self._by_video.get(video, [])] = True
        return within

    def unknown(self, scope: Scope) -> Scope:
        """The folders, tags, paths and videos of `scope` that hold no note of the vault (to tell the user)."""
        return Scope(
            tuple(folder for folder in scope.folders if not len(self._in_folder(folder))),
            tuple(tag for tag in scope.tags if not self.mask(Scope(tags=(tag,))).any()),
            tuple(path for path in scope.notes if path not in self._note_ids),
            tuple(video for video in scope.videos if video not in self._by_video),
        )

    def _in_folder(self, folder: str) -> np.ndarray:
        """The notes under `folder` ("" for all): the sorted paths from `folder/` up to the next folder."""
        if not folder:
            return self._by_sorted
        prefix = folder + "/"
        start = bisect.bisect_left(self._sorted_paths, prefix)
        end = bisect.bisect_left(self._sorted_paths, prefix[:-1] + chr(ord("/") + 1), lo=start)
        return self._by_sorted[start:end]
