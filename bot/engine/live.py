"""Notes that change while the bot runs: a watched vault whose index is rebuilt and swapped in whole.

`LiveVault` owns the current `Snapshot` (a Searcher over a fully built index, and what it was built
from). A reload builds a new snapshot off to the side and replaces the attribute in one assignment,
so every request sees either the old index or the new one, never a half-built one; `live.current` is
the `searcher_source` the Slack app calls per request.

`NotesWatcher` watches NOTES_DIR with watchdog and waits for the folder to be quiet (about a second)
before reloading, so a `git pull` touching a thousand files costs one re-index. A reload parses only
the files whose stamp changed (bot.engine.index_cache's `VaultLoader` keeps the others parsed, per file, in
NOTESBOT_CACHE_DIR).

NOTES_DIR may be a symlink that is swapped to point elsewhere, as git-sync does on every sync (a new worktree, a
symlink made under a temporary name and renamed over the old one, the old worktree removed): the watch follows the
link. It watches the folder the link points to, and the folder holding the link for the rename; a swap re-indexes
once, and the removal of the old worktree, no longer linked to, is not a change of the notes.

A note saved broken (its front matter cannot be read) is logged as `path:line: error: ...`; it keeps
serving its last good version until it is fixed, and every other note keeps serving as usual. A
reload that fails as a whole (the folder unreadable) keeps the previous index serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch
from watchdog.observers.polling import PollingObserver

from bot.engine.index_cache import Vault, VaultLoader
from bot.engine.parsing import Problem
from bot.engine.search import Searcher

log = logging.getLogger(__name__)

# Events that can change what a note says. Opening or reading a file (as a reload itself does)
# must not count, or every reload would trigger the next one.
_CHANGES = {EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED, EVENT_TYPE_CLOSED}
_PROBLEMS_LOGGED = 20  # per reload; a pull that breaks hundreds of notes says how many more there are


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One built index and its searcher; never changed after it is made."""

    searcher: Searcher
    vault: Vault
    loaded_at: float  # wall-clock seconds (the `clock` of the LiveVault)
    build_seconds: float

    @property
    def note_count(self) -> int:
        return self.vault.index.note_count

    @property
    def section_count(self) -> int:
        return self.vault.index.section_count


class LiveVault:
    """Holds the current snapshot of a vault and replaces it, whole, on `reload()`."""

    def __init__(
        self, root: Path, cache_root: Path | None, clock: Callable[[], float] = time.time, progress: bool = False
    ) -> None:
        self.root = root
        self.cache_root = cache_root
        self._clock = clock
        self._reload_lock = threading.Lock()  # one reload at a time; readers never take it
        self._loader = VaultLoader(root, cache_root)
        self.reloads = 0
        self.failures = 0
        started = time.perf_counter()
        vault = self._loader.load(progress)
        self.snapshot = self._snapshot(vault, started)
        _log_problems(vault.problems, set())
        log.info("serving %d notes (%d sections) from %s", self.snapshot.note_count, self.snapshot.section_count, root)

    def current(self) -> Searcher:
        """The searcher to use for one request (a plain attribute read: no lock, never half-built)."""
        return self.snapshot.searcher

    def reload(self) -> Snapshot:
        """Re-index what changed on disk and swap it in; on failure keep serving the previous snapshot."""
        with self._reload_lock:
            previous = self.snapshot
            started = time.perf_counter()
            try:
                vault = self._rebuild()
            except Exception:
                self.failures += 1
                log.exception("re-indexing %s failed; still serving the index of before", self.root)
                return previous
            self.snapshot = self._snapshot(vault, started)
            self.reloads += 1
        _log_problems(vault.problems, set(previous.vault.problems))
        log.info(
            "re-indexed %s in %.1f s: %d notes (%d sections), was %d notes",
            self.root,
            self.snapshot.build_seconds,
            self.snapshot.note_count,
            self.snapshot.section_count,
            previous.note_count,
        )
        return self.snapshot

    def _rebuild(self) -> Vault:
        # the loader parses only what changed, and keeps serving the last good version of a note
        # saved broken
        return self._loader.load()

    def _snapshot(self, vault: Vault, started: float) -> Snapshot:
        return Snapshot(Searcher(vault.index), vault, self._clock(), time.perf_counter() - started)


def _log_problems(problems: Iterable[Problem], known: set[Problem]) -> None:
    """Log the problems not reported before, as `path:line: severity: message` (errors first)."""
    fresh = sorted((p for p in problems if p not in known), key=lambda p: (p.severity != "error", p.path, p.line))
    for problem in fresh[:_PROBLEMS_LOGGED]:
        log.log(logging.ERROR if problem.severity == "error" else logging.WARNING, "%s", problem)
    if len(fresh) > _PROBLEMS_LOGGED:
        log.warning("... and %d more problems: run `notesbot check` for all", len(fresh) - _PROBLEMS_LOGGED)


POLL_SECONDS = 5.0  # NOTES_WATCH=poll: how often every note is looked at


class NotesWatcher:
    """Reloads `live` once the vault has been quiet for `quiet` seconds after a change (or after
    `longest` seconds of uninterrupted changes, so a folder that never stops changing still updates).
    When NOTES_DIR or a folder above it is a symlink, a swap of that link is a change too (see the module's doc)."""

    def __init__(
        self, live: LiveVault, quiet: float = 1.0, longest: float = 30.0, poll_every: float | None = None
    ) -> None:
        self.live = live
        self.quiet = quiet
        self.longest = longest
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._last_change = 0.0
        # The OS's file events by default; polling (a stat of every file each `poll_every` seconds) for a
        # network volume, where a change made on another machine raises no event here.
        self._observer = Observer() if poll_every is None else PollingObserver(timeout=poll_every)
        self._thread = threading.Thread(target=self._run, name="notes-reloader", daemon=True)
        self._link = _swappable_link(live.root)
        self._target = live.root.resolve()
        self._notes_watch: ObservedWatch | None = None

    def start(self) -> NotesWatcher:
        self._watch_target()
        if self._link is not None:
            link = str(self._link)
            self._observer.schedule(
                _ChangeHandler(self.note_changed, lambda event: link in _paths(event)), str(self._link.parent)
            )
        self._observer.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        self._observer.stop()
        self._observer.join()
        self._thread.join()

    def note_changed(self) -> None:
        self._last_change = time.monotonic()
        self._changed.set()

    def _run(self) -> None:
        while True:
            self._changed.wait()
            if self._stopping.is_set():
                return
            self._wait_for_quiet()
            if self._stopping.is_set():
                return
            # Cleared before reading the folder: a change landing during the reload triggers another.
            self._changed.clear()
            self._follow_link()
            self.live.reload()

    def _wait_for_quiet(self) -> None:
        first = time.monotonic()
        while not self._stopping.is_set():
            now = time.monotonic()
            quiet_for = now - self._last_change
            if quiet_for >= self.quiet or now - first >= self.longest:
                return
            self._stopping.wait(min(self.quiet - quiet_for, self.longest - (now - first)))

    def _watch_target(self) -> None:
        """Watch the folder NOTES_DIR leads to now; events from one it no longer leads to are not notes changing."""
        target = self._target
        self._notes_watch = self._observer.schedule(
            _ChangeHandler(self.note_changed, lambda event: _concerns_notes(event) and target == self._target),
            str(target),
            recursive=True,
        )

    def _follow_link(self) -> None:
        """After the link was swapped, watch the folder it points to now instead of the one before."""
        target = self.live.root.resolve()
        if target == self._target or self._link is None:
            return
        log.info("%s now leads to %s", self._link, target)
        if self._notes_watch is not None:
            self._observer.unschedule(self._notes_watch)
        self._target = target
        self._watch_target()


def _swappable_link(root: Path) -> Path | None:
    """The symlink nearest to `root` among it and the folders above it, if any: the one a swap replaces."""
    return next((path for path in (root, *root.parents) if path.is_symlink()), None)


class _ChangeHandler(FileSystemEventHandler):
    def __init__(self, on_change: Callable[[], None], concerns: Callable[[FileSystemEvent], bool]) -> None:
        self._on_change = on_change
        self._concerns = concerns

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _CHANGES and self._concerns(event):
            self._on_change()


def _paths(event: FileSystemEvent) -> tuple[str, str]:
    return str(event.src_path), str(event.dest_path or "")


def _concerns_notes(event: FileSystemEvent) -> bool:
    """A markdown file, or a folder created, deleted or moved (which moves the notes inside it)."""
    if event.is_directory:
        return event.event_type != EVENT_TYPE_MODIFIED
    return any(path.lower().endswith(".md") for path in _paths(event))
