"""A vault kept by git-sync: NOTES_DIR is a symlink that git-sync points at a new worktree on each sync (a new
folder, a symlink made under a temporary name, renamed over the old one, the old worktree removed). Each swap is seen
and re-indexed once, however many swaps come."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.live import LiveVault, NotesWatcher
from tests.reload.notes_on_disk import notes_found, write_note
from tests.waiting import eventually


class GitSync:
    """Swaps worktrees under `root` as git-sync v4 does: `root/.worktrees/<hash>`, the link `root/current`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.link = root / "current"
        self.commits = 0

    def sync(self, notes: dict[str, tuple[str, str]]) -> None:
        """Check `notes` (path -> (title, body)) out as a new commit and point the link at it."""
        self.commits += 1
        tree = self.root / ".worktrees" / f"{self.commits:040x}"
        for rel, (title, body) in notes.items():
            write_note(tree, rel, title, body)
        previous = self.link.resolve() if self.link.is_symlink() else None
        temporary = self.root / "tmp-link"
        os.symlink(tree.relative_to(self.root), temporary)
        os.rename(temporary, self.link)  # atomic: a reader sees the old tree or the new one
        if previous is not None:
            shutil.rmtree(previous)  # git-sync removes the worktree it no longer links to


ROBOTS = {"lexfridman/robots.md": ("Robots", "## Grasping\nRobots learn grasping by trial and error.")}


@pytest.fixture
def git_sync(tmp_path: Path) -> GitSync:
    syncing = GitSync(tmp_path / "git")
    syncing.sync(ROBOTS)
    return syncing


@pytest.fixture(params=["events", "poll"])
def watched(request: pytest.FixtureRequest, git_sync: GitSync, tmp_path: Path) -> Iterator[LiveVault]:
    live = LiveVault(git_sync.link, tmp_path / "cache")
    watcher = NotesWatcher(live, quiet=0.3, poll_every=0.2 if request.param == "poll" else None).start()
    yield live
    watcher.stop()


def test_a_swapped_worktree_is_answered_and_indexed_once(git_sync: GitSync, watched: LiveVault) -> None:
    assert notes_found(watched.current(), "grasping") == {"lexfridman/robots.md"}

    git_sync.sync({"lexfridman/robots.md": ("Robots", "## Walking\nLegged robots learn to walk on ice.")})

    assert eventually(lambda: notes_found(watched.current(), "walk ice") == {"lexfridman/robots.md"})
    time.sleep(1.0)  # a second reload (say, for the old worktree's removal) would have started by now
    assert watched.reloads == 1
    assert notes_found(watched.current(), "grasping") == set()


def test_every_later_swap_is_seen_too(git_sync: GitSync, watched: LiveVault) -> None:
    for round_ in range(1, 4):
        git_sync.sync(ROBOTS | {f"new/note_{round_}.md": (f"Note {round_}", f"## Topic\nZeppelins {round_}.")})
        assert eventually(lambda r=round_: watched.current().index.note_count == 2 and watched.reloads == r)

    time.sleep(1.0)
    assert watched.reloads == 3
    assert notes_found(watched.current(), "zeppelins") == {"new/note_3.md"}


def test_an_edit_inside_the_current_worktree_is_still_seen(git_sync: GitSync, watched: LiveVault) -> None:
    git_sync.sync(ROBOTS)
    assert eventually(lambda: watched.reloads == 1)

    write_note(git_sync.link, "lexfridman/robots.md", "Robots", "## Swimming\nRobots swim like fish.")

    assert eventually(lambda: notes_found(watched.current(), "swim fish") == {"lexfridman/robots.md"})
