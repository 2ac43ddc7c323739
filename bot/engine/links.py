"""What a shared link points at in the vault: the section covering a moment of a video, or the section a
published page's anchor names.

Pure: built from one index (once, by `Searcher.links`), then each lookup reads a few sections of the
notes on the video or page. Lookups take `within`, a boolean mask over note ids (a channel's scope):
notes outside it are neither chosen nor named.

- A moment `t` of a video: in each note on the video, the section with the latest first timestamp at or
  before `t` (the first such section in the note if several start together); of several notes, the one
  whose section starts closest before `t` covers it best. A link without a moment, or one before every
  stamped section, stands for the video itself: each note's first section (its first heading; its
  introduction only if it has none), from the note whose first section starts earliest.
- A page of the published vault: its note, at the section whose heading the anchor names (the note's first
  section when there is no anchor or an unknown one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.engine.index import SearchIndex
from bot.engine.site import NoteSite, PageRef
from bot.engine.youtube import VideoLink

NO_MOMENT = np.iinfo(np.int64).max  # a section without a timestamp starts after every moment


@dataclass(frozen=True, slots=True)
class LinkTarget:
    section: int  # the section to show
    others: tuple[int, ...]  # the other notes (ids) on the same video, within the scope, in vault order


def note_ranges(index: SearchIndex) -> tuple[np.ndarray, np.ndarray]:
    """Where each note's sections start and end (a note's sections are consecutive, in note order)."""
    notes = np.arange(index.note_count)
    return (
        np.searchsorted(index.section_note, notes, side="left"),
        np.searchsorted(index.section_note, notes, side="right"),
    )


class LinkTargets:
    """The vault's notes by video and by published page, to find what a shared link points at."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._starts, self._ends = note_ranges(index)
        self._notes_of_video: dict[str, list[int]] = {}
        self._page_notes: dict[NoteSite, dict[str, int]] = {}
        for note, video_id in enumerate(index.note_videos):
            if video_id:
                self._notes_of_video.setdefault(video_id, []).append(note)

    def videos(self) -> int:
        """How many videos the vault has notes on."""
        return len(self._notes_of_video)

    def moment(self, link: VideoLink, within: np.ndarray | None = None) -> LinkTarget | None:
        """The section covering the link's moment, from the note covering it best; None when no note
        (within the scope) is on the video."""
        notes = [n for n in self._notes_of_video.get(link.video_id, ()) if within is None or within[n]]
        if not notes:
            return None
        best = None
        if link.seconds is not None:
            covering = [(self._covering(note, link.seconds), note) for note in notes]
            best = min(((gap, note, section) for (gap, section), note in covering if gap >= 0), default=None)
        if best is None:
            best = min((self._first_start(note), note, self._first_section(note)) for note in notes)
        _, chosen, section = best
        return LinkTarget(section, tuple(n for n in notes if n != chosen))

    def page(self, site: NoteSite, ref: PageRef, within: np.ndarray | None = None) -> LinkTarget | None:
        """The section a link into the published vault names; None for a page of no note (in scope)."""
        note = self._pages(site).get(ref.page)
        if note is None or (within is not None and not within[note]):
            return None
        sections = range(int(self._starts[note]), int(self._ends[note]))
        wanted = ref.anchor.casefold() if site.style == "obsidian" else ref.anchor.lower()
        for section, name in zip(sections, self._anchors(site, sections), strict=True):
            if wanted and name == wanted:
                return LinkTarget(section, ())
        return LinkTarget(self._first_section(note), ())

    def _covering(self, note: int, seconds: int) -> tuple[int, int]:
        """(how long before `seconds` it starts, section) of the note's section covering the moment;
        (-1, -1) when every stamped section of the note starts later (or none has a stamp)."""
        start = int(self._starts[note])
        first_ts = self.index.section_first_ts[start : int(self._ends[note])].astype(np.int64)
        started = (first_ts >= 0) & (first_ts <= seconds)
        if not started.any():
            return -1, -1
        latest = int(first_ts[started].max())
        return seconds - latest, start + int(np.flatnonzero(started & (first_ts == latest))[0])

    def _first_section(self, note: int) -> int:
        start, end = int(self._starts[note]), int(self._ends[note])
        headed = np.flatnonzero(self.index.section_levels[start:end] > 0)
        return start + int(headed[0]) if len(headed) else start

    def _first_start(self, note: int) -> int:
        first_ts = int(self.index.section_first_ts[self._first_section(note)])
        return first_ts if first_ts >= 0 else int(NO_MOMENT)

    def _anchors(self, site: NoteSite, sections: Sequence[int]) -> list[str]:
        """How `site` names each of a note's sections in a link (folded as `page` compares them)."""
        if site.style == "obsidian":
            return [" ".join(self.index.section_headings[i].split()).casefold() for i in sections]
        return [self.index.section_anchors[i] for i in sections]

    def _pages(self, site: NoteSite) -> dict[str, int]:
        """The note of each page of `site` (made once per site, for as long as this index is served)."""
        pages = self._page_notes.get(site)
        if pages is None:
            pages = {}
            for note, path in enumerate(self.index.note_paths):
                pages.setdefault(site.page_key(path), note)
            self._page_notes[site] = pages
        return pages
