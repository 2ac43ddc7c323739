"""Writing notes as an editor or a `git pull` would, and reading what a searcher finds, for the reload tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.engine.search import Searcher


def write_note(root: Path, rel: str, title: str, body: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    video_id = hashlib.sha1(rel.encode()).hexdigest()[:11]  # one video per note, as in the corpus
    path.write_text(f"---\ntitle: {title}\nvideoId: {video_id}\n---\n\n{body}\n")


def notes_found(searcher: Searcher, query: str) -> set[str]:
    return {hit.note for hit in searcher.search(query, limit=50)}
