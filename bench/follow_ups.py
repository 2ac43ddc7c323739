"""Benchmark of follow-ups in threads: how often a follow-up's first hit is right, with and without the thread.

    .venv/bin/python bench/follow_ups.py --corpus ../shared/corpus/tubegraph --cache bench/out/cache \\
        --queries ../shared/eval/queries-dev.jsonl --queries ../shared/eval/queries-check.jsonl

Thread pairs are made from the vault by a fixed, seeded procedure, not picked by hand:

- **a thread**: a note N with at least two headed sections. Its first question is N's title, answered as the
  bot answers a mention (three hits). The thread counts only if that answer's first hit is in N: the thread is
  then about N, as the person asking sees it.
- **dependent follow-up**: "what about <words>?", <words> the content words of one of N's section headings
  that N's title lacks (at most FOLLOW_UP_WORDS). It needs the thread to be answered right: alone it is
  ambiguous, at least `--ambiguous` other notes having a section whose heading holds all those words.
  Right: that section of N.
- **stand-alone follow-up** (a new topic, in the same threads): from the vault, the words of a section's
  heading and its note's title (at most STANDALONE_WORDS) for a note in another top folder than N; from labelled
  queries (`--queries`, the eval's files), each query, asked in a thread on a note of another top folder.
  Right: its section.

A hit is right when it is the labelled section, or a section of the same heading in another note on the
same video (search shows such twins once). Threads alternate between two halves, "dev" and "check": the
constants of bot/engine/follow_up.py were chosen on dev; check confirms them.

Methods: the follow-up alone; the earlier question's words at weight w (`QueryTerms.with_context`); the notes
of the first answer preferred by factor f (`Preference`); both; and what the bot does (`search_follow_up`:
the preference, with the stand-alone rule). Prints one markdown table of first-hit rates.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine.analysis import normalize, stem, words  # noqa: E402  (the repo root is on the path only now)
from bot.engine.follow_up import (  # noqa: E402
    PREFERENCE_FACTOR,
    ThreadContext,
    Turn,
    read_in_context,
    search_follow_up,
)
from bot.engine.index_cache import load_vault  # noqa: E402
from bot.engine.scope import Preference, Scope  # noqa: E402
from bot.engine.search import Hit, Searcher  # noqa: E402

THREAD_HITS = 3  # as bot.slack.answers answers a mention
FOLLOW_UP_WORDS = 3
STANDALONE_WORDS = 5
WEIGHTS = (0.3, 0.5, 0.7)
FACTORS = (1.5, 2.0, 3.0)
HALVES = ("dev", "check")

Method = Callable[[Searcher, str, ThreadContext], Hit | None]


@dataclass(frozen=True, slots=True)
class Label:
    note: str
    heading: str
    video: str | None


@dataclass(frozen=True, slots=True)
class Case:
    half: str
    kind: str  # "dependent", "standalone (vault)", "standalone (labelled)"
    context: ThreadContext
    follow_up: str
    label: Label


@dataclass(frozen=True, slots=True)
class Thread:
    note: int
    context: ThreadContext


def is_right(hit: Hit | None, label: Label) -> bool:
    if hit is None:
        return False
    if (hit.note, hit.heading) == (label.note, label.heading):
        return True
    return bool(label.video) and hit.video_id == label.video and normalize(hit.heading) == normalize(label.heading)


def folder(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else ""


class Vault:
    """The searcher's index by note: each note's headed sections, and which sections' headings hold a term."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        index = searcher.index
        self.sections_of: dict[int, list[int]] = {}
        self.heading_holders: dict[str, set[int]] = {}
        for section in range(index.section_count):
            if index.section_levels[section] < 1 or not index.section_headings[section].strip():
                continue
            self.sections_of.setdefault(int(index.section_note[section]), []).append(section)
            for term in {stem(word) for word in words(index.section_headings[section])}:
                self.heading_holders.setdefault(term, set()).add(section)

    def label(self, section: int) -> Label:
        index = self.searcher.index
        note = int(index.section_note[section])
        return Label(index.note_paths[note], index.section_headings[section], index.note_videos[note])

    def notes_with_heading_of(self, terms: list[str]) -> set[int]:
        """The notes with a section whose heading holds all of `terms`."""
        sections = set.intersection(*(self.heading_holders.get(term, set()) for term in terms))
        return {int(self.searcher.index.section_note[s]) for s in sections}

    def unique_sections(self, note: int) -> list[int]:
        """The note's headed sections whose heading no other section of the note has."""
        headings = [normalize(self.searcher.index.section_headings[s]) for s in self.sections_of.get(note, [])]
        return [s for s, h in zip(self.sections_of.get(note, []), headings, strict=True) if headings.count(h) == 1]


def threads(vault: Vault, count: int, rng: random.Random) -> Iterator[Thread]:
    """Up to `count` threads whose first answer is on their note, in a random order of the notes."""
    index = vault.searcher.index
    notes = [note for note in range(index.note_count) if len(vault.unique_sections(note)) >= 2]
    rng.shuffle(notes)
    made = 0
    for note in notes:
        if made == count:
            return
        title = index.note_titles[note]
        hits = vault.searcher.search(title, THREAD_HITS)
        if not hits or hits[0].note != index.note_paths[note]:
            continue
        shown = tuple(dict.fromkeys(hit.note for hit in hits))
        made += 1
        yield Thread(note, ThreadContext.of([Turn(title, shown, in_context=False)]))


def dependent_follow_up(vault: Vault, thread: Thread, ambiguous: int, rng: random.Random) -> tuple[str, Label] | None:
    """A short follow-up on one of the thread note's sections, ambiguous without the thread; None if none is."""
    index = vault.searcher.index
    title_terms = {stem(word) for word in words(index.note_titles[thread.note])}
    sections = vault.unique_sections(thread.note)
    rng.shuffle(sections)
    for section in sections:
        own = [w for w in dict.fromkeys(words(index.section_headings[section])) if stem(w) not in title_terms]
        own = own[:FOLLOW_UP_WORDS]
        if not own:
            continue
        others = vault.notes_with_heading_of([stem(w) for w in own]) - {thread.note}
        if len(others) >= ambiguous:
            return f"what about {' '.join(own)}?", vault.label(section)
    return None


def standalone_follow_up(vault: Vault, thread: Thread, rng: random.Random) -> tuple[str, Label] | None:
    """A question naming its own topic: a section's heading and title words, from a note of another folder."""
    index = vault.searcher.index
    here = folder(index.note_paths[thread.note])
    notes = [n for n in vault.sections_of if folder(index.note_paths[n]) != here] or [
        n for n in vault.sections_of if n != thread.note
    ]
    if not notes:
        return None
    section = rng.choice(vault.sections_of[rng.choice(notes)])
    found = words(index.section_headings[section]) + words(index.note_titles[int(index.section_note[section])])
    return " ".join(list(dict.fromkeys(found))[:STANDALONE_WORDS]), vault.label(section)


def labelled_queries(paths: list[Path]) -> list[dict[str, str]]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line]


def make_cases(vault: Vault, count: int, ambiguous: int, labelled: list[dict[str, str]], seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    made: list[Thread] = []
    for thread in threads(vault, count, rng):
        dependent = dependent_follow_up(vault, thread, ambiguous, rng)
        if dependent is None:
            continue
        half = HALVES[len(made) % 2]
        made.append(thread)
        cases.append(Case(half, "dependent", thread.context, *dependent))
        standalone = standalone_follow_up(vault, thread, rng)
        if standalone is not None:
            cases.append(Case(half, "standalone (vault)", thread.context, *standalone))
    index = vault.searcher.index
    videos = dict(zip(index.note_paths, index.note_videos, strict=True))
    for at, query in enumerate(labelled):
        elsewhere = [t for t in made if folder(index.note_paths[t.note]) != folder(query["note"])]
        if query["note"] in videos and elsewhere:
            label = Label(query["note"], query["heading"], videos[query["note"]])
            cases.append(
                Case(HALVES[at % 2], "standalone (labelled)", rng.choice(elsewhere).context, query["query"], label)
            )
    return cases


def first(hits: list[Hit]) -> Hit | None:
    return hits[0] if hits else None


def preference(context: ThreadContext, factor: float) -> Preference:
    return Preference(Scope(notes=context.notes), factor)


def methods() -> list[tuple[str, Method]]:
    """Each way of answering a follow-up, by name: its first hit."""

    def alone(searcher: Searcher, query: str, _context: ThreadContext) -> Hit | None:
        return first(searcher.search(query, 1))

    def with_words(weight: float) -> Method:
        return lambda s, q, c: first(s.search_terms(read_in_context(s, s.read_query(q), c, weight), 1))

    def with_notes(factor: float) -> Method:
        return lambda s, q, c: first(s.search_terms(s.read_query(q), 1, prefer=preference(c, factor)))

    def with_both(weight: float, factor: float) -> Method:
        return lambda s, q, c: first(
            s.search_terms(read_in_context(s, s.read_query(q), c, weight), 1, prefer=preference(c, factor))
        )

    def bot(searcher: Searcher, query: str, context: ThreadContext) -> Hit | None:
        return first(search_follow_up(searcher, query, context, 1).hits)

    return [
        ("follow-up alone", alone),
        *((f"earlier words at {w}", with_words(w)) for w in WEIGHTS),
        *((f"first answer's notes ×{f}", with_notes(f)) for f in FACTORS),
        *((f"both: words at {w}, notes ×{f}", with_both(w, f)) for w in WEIGHTS for f in FACTORS),
        (f"the bot: notes ×{PREFERENCE_FACTOR} and the stand-alone rule (`search_follow_up`)", bot),
    ]


def table(searcher: Searcher, cases: list[Case]) -> list[str]:
    groups = sorted({(c.kind, c.half) for c in cases}, key=lambda g: (g[0] != "dependent", g[0], HALVES.index(g[1])))
    counts = {group: sum((case.kind, case.half) == group for case in cases) for group in groups}
    header = "| method | " + " | ".join(f"{kind}, {half} ({counts[kind, half]})" for kind, half in groups) + " |"
    lines = [header, "|---|" + "---:|" * len(groups)]
    for name, method in methods():
        right = dict.fromkeys(groups, 0)
        for case in cases:
            right[case.kind, case.half] += is_right(method(searcher, case.follow_up, case.context), case.label)
        lines.append(f"| {name} | " + " | ".join(f"{right[g] / counts[g]:.3f}" for g in groups) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--threads", type=int, default=400, help="threads to make (half dev, half check)")
    parser.add_argument("--ambiguous", type=int, default=5, help="other notes a dependent follow-up fits alone")
    parser.add_argument("--queries", type=Path, action="append", default=[], help="labelled queries (jsonl)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    searcher = Searcher(load_vault(args.corpus, args.cache).index)
    cases = make_cases(Vault(searcher), args.threads, args.ambiguous, labelled_queries(args.queries), args.seed)
    dependent = sum(case.kind == "dependent" for case in cases)
    if dependent < 2:
        sys.exit(f"follow-ups: {args.corpus} holds too few notes to make threads from")
    print(f"{dependent} threads, {len(cases)} follow-ups, seed {args.seed}, ambiguous in {args.ambiguous}+ notes")
    print("\n".join(table(searcher, cases)))


if __name__ == "__main__":
    main()
