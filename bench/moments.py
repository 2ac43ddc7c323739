"""How many sections link to a moment of their video, reading each note's stamps together
(`read_note_timestamps`, today) and reading each stamp alone (`parse_timestamp`, before).

    .venv/bin/python bench/moments.py --corpus ../shared/corpus/tubegraph

Every note is parsed once as the engine parses it; where reading the stamps together gives any stamp other
seconds than reading it alone, the note is parsed again with each stamp read alone, so both counts come
from the parser itself. Prints sections, sections with a moment each way, and stamps read each way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine import parsing  # noqa: E402  (the repo root is on the path only now)
from bot.engine.timestamps import parse_timestamp, read_note_timestamps  # noqa: E402
from bot.engine.vault import list_notes  # noqa: E402

BATCH = 200  # notes per task of the pool


def stamp_by_stamp(raws: Sequence[str]) -> list[int | None]:
    """How stamps were read before: each alone."""
    return [parse_timestamp(raw) for raw in raws]


def counts_of(root: Path, rel_paths: list[str]) -> Counter:
    """Sections, sections with a moment (together, alone) and stamps read (together, alone) of some notes."""
    counts: Counter = Counter()
    for rel_path in rel_paths:
        raw = (root / rel_path).read_bytes()
        differs = []

        def together(raws: Sequence[str], differs: list = differs) -> list[int | None]:
            read, alone = read_note_timestamps(raws), stamp_by_stamp(raws)
            counts["stamps"] += len(raws)
            counts["stamps_read_together"] += sum(s is not None for s in read)
            counts["stamps_read_alone"] += sum(s is not None for s in alone)
            differs.append(read != alone)
            return read

        with mock.patch.object(parsing, "read_note_timestamps", together):
            note = parsing.parse_note(rel_path, raw).note
        if note is None:
            continue
        with_moment = sum(bool(section.timestamps) for section in note.sections)
        counts["sections"] += len(note.sections)
        counts["sections_with_moment_together"] += with_moment
        if any(differs):
            counts["notes_read_differently"] += 1
            with mock.patch.object(parsing, "read_note_timestamps", stamp_by_stamp):
                before = parsing.parse_note(rel_path, raw).note
            with_moment = sum(bool(section.timestamps) for section in before.sections)
        counts["sections_with_moment_alone"] += with_moment
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    args = parser.parse_args()
    paths = sorted(list_notes(args.corpus))
    batches = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
    total: Counter = Counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        for counts in pool.map(counts_of, [args.corpus] * len(batches), batches):
            total.update(counts)
    print(json.dumps({"notes": len(paths), **dict(sorted(total.items()))}, indent=2))


if __name__ == "__main__":
    main()
