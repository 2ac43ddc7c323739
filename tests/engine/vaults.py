"""Small vaults written for a test: notes as their markdown, a searcher over them."""

from __future__ import annotations

from pathlib import Path

from bot.engine.index_cache import load_vault
from bot.engine.search import Searcher

# Three real notes of the shared corpus, for threads: "Applications of deep learning" touches on healthcare in two
# sentences, "Healthcare as a right in America" is all about it, and a cooking note is on another topic.
THREAD_VAULT = Path(__file__).resolve().parents[1] / "fixtures" / "thread_vault"


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def write_moment(
    root: Path, rel: str, title: str, video_id: str, heading: str, text: str, front_matter: str = ""
) -> None:
    """A note on one video whose only section, `heading`, links to a moment of it (`front_matter`: more lines
    of it, such as tags)."""
    anchor = '<a class="yt-timestamp" data-t="03:00">[03:00]</a>'
    write(root, rel, f"---\ntitle: {title}\nvideoId: {video_id}\n{front_matter}---\n## {heading}\n\n{text} {anchor}.\n")


def searcher_of(root: Path) -> Searcher:
    return Searcher(load_vault(root, cache_root=None).index)
