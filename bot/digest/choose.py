"""Choosing the topic of the day: a section worth reading for a channel, from the notes it has not seen.

Pure: the index and what the channel has seen in, a section out, random but reproducible from a seed,
so every process (and every retry) that chooses for the same channel and day chooses the same section.
A channel with a scope (`/notes scope`) gets its topics from the notes of its scope only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import numpy as np

from bot.engine.index import SearchIndex
from bot.engine.search import Hit, section_hit
from bot.engine.vault import link_keys
from bot.slack.messages import moment_url

MIN_WORDS = 30  # a section shorter than this is a caption, not something to read over coffee
RELATED_LIMIT = 3  # related notes named under the digest: a pointer onward, not a reading list


@dataclass(frozen=True, slots=True)
class DigestDay:
    """One channel's digest of one day, the unit that is posted exactly once."""

    team_id: str
    channel_id: str
    local_date: date

    def __str__(self) -> str:
        return f"{self.channel_id} on {self.local_date.isoformat()}"


@dataclass(frozen=True, slots=True)
class Topic:
    hit: Hit
    related: tuple[str, ...]  # titles of the notes its wikilinks lead to


@dataclass(frozen=True, slots=True)
class Featured:
    """What a channel has seen in its current cycle through the vault."""

    cycle: int
    notes: frozenset[str]


def worth_reading(index: SearchIndex, section: int) -> bool:
    """A section with a timestamp, a video to link to and enough text to read."""
    note = int(index.section_note[section])
    return (
        index.section_first_ts[section] >= 0
        and moment_url(index.note_videos[note], 0) is not None
        and len(index.section_texts[section].split()) >= MIN_WORDS
    )


def sections_worth_reading(index: SearchIndex) -> dict[int, list[int]]:
    """The sections worth reading, by note id."""
    worth: dict[int, list[int]] = {}
    for i in np.flatnonzero(index.section_first_ts >= 0):
        if worth_reading(index, int(i)):
            worth.setdefault(int(index.section_note[i]), []).append(int(i))
    return worth


def choose_topic(
    index: SearchIndex, featured: Featured, seed: str, day: DigestDay, within: np.ndarray | None = None
) -> Topic | None:
    """A section from a note the channel has not seen in this cycle (any note once all were seen), of the
    notes `within` (a mask over note ids: the channel's scope) when given.

    The draw depends only on the seed and the day, so every process (and every retry) that chooses
    for the same channel and day chooses the same section.
    """
    worth = {note: found for note, found in sections_worth_reading(index).items() if within is None or within[note]}
    notes = {index.note_paths[n]: n for n in worth}
    unseen = sorted(set(notes) - featured.notes) or sorted(notes)
    if not unseen:
        return None
    rng = random.Random(f"{seed}|{day.team_id}|{day.channel_id}|{day.local_date.isoformat()}")
    note = notes[rng.choice(unseen)]
    return topic_of(index, rng.choice(worth[note]))


def topic_of(index: SearchIndex, section: int) -> Topic:
    return Topic(section_hit(index, section), related_titles(index, int(index.section_note[section])))


def find_topic(index: SearchIndex, note_path: str, heading: str) -> Topic | None:
    """The section worth reading of `note_path` under `heading`, if the vault still has it."""
    try:
        note = index.note_paths.index(note_path)
    except ValueError:
        return None
    for section in np.flatnonzero(index.section_note == note):
        if index.section_headings[section] == heading and worth_reading(index, int(section)):
            return topic_of(index, int(section))
    return None


def related_titles(index: SearchIndex, note: int) -> tuple[str, ...]:
    """Titles of up to three other notes of the vault that the note's wikilinks name, in link order."""
    by_name: dict[str, int] = {}
    for other, path in enumerate(index.note_paths):
        for key in link_keys(path):
            by_name.setdefault(key, other)
    titles: list[str] = []
    for written in index.note_link_targets[note]:
        keys = link_keys(written.strip().lstrip("/"))
        target = next((by_name[k] for k in keys if k in by_name), None)
        if target is not None and target != note and index.note_titles[target] not in titles:
            titles.append(index.note_titles[target])
    return tuple(titles[:RELATED_LIMIT])
