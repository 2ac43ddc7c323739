"""The built index cached on disk, so that large vaults start fast and change cheaply.

Two things per vault in the cache folder: a store of parsed notes, one row per file (its path, mtime
and size tell a change), so that only changed files are parsed again and the rest are read back one at
a time rather than all held in memory; and the built index, keyed by the stamps of every file, so that
a restart with unchanged notes loads it without parsing anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.engine.index import NoteTerms, SearchIndex, build_index
from bot.engine.parsing import Link, Note, Problem
from bot.engine.vault import FileStamp, ParsedFile, broken_links, known_link_names, list_notes, parse_files

log = logging.getLogger(__name__)

# Bump when parsing or analysis change (parsed notes are then parsed again), or when the index layout or
# ranking weights change (the index is then rebuilt from the parsed notes): old caches are never misread.
PARSER_VERSION = "16"
INDEX_VERSION = "19"


@dataclass(slots=True)
class Vault:
    """A loaded vault: its index, and the problems its notes have."""

    root: Path
    index: SearchIndex
    problems: list[Problem]
    fingerprint: str


@dataclass(frozen=True, slots=True)
class CacheFiles:
    folder: Path

    @classmethod
    def for_vault(cls, root: Path, cache_root: Path) -> CacheFiles:
        key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
        return cls(cache_root / key)

    @property
    def parsed(self) -> Path:
        return self.folder / "parsed.sqlite3"

    @property
    def index(self) -> Path:
        return self.folder / "index.pickle"

    @property
    def index_key(self) -> Path:
        """The fingerprint of the cached index, in a file of its own: a stale index is known stale
        without loading it (which would cost as much memory as the index itself)."""
        return self.folder / "index.key"


def fingerprint(stamps: dict[str, FileStamp]) -> str:
    digest = hashlib.sha1(f"{PARSER_VERSION}/{INDEX_VERSION}".encode())
    for path, stamp in stamps.items():
        digest.update(f"{path}\0{stamp.mtime_ns}\0{stamp.size}\n".encode())
    return digest.hexdigest()


def load_vault(root: Path, cache_root: Path | None, progress: bool = False) -> Vault:
    """The vault's index: from the cache when no note changed, else rebuilt parsing only what changed."""
    return VaultLoader(root, cache_root).load(progress)


class VaultLoader:
    """Loads one vault again and again (a server reloads it when notes change), each time parsing only
    the files that changed since the parsed store last saw them. Without a cache folder the store
    lives in memory, for as long as the loader does."""

    def __init__(self, root: Path, cache_root: Path | None) -> None:
        self.root = root
        self.files = CacheFiles.for_vault(root, cache_root) if cache_root else None
        self.store = ParsedStore(self.files.parsed if self.files else None)

    def load(self, progress: bool = False) -> Vault:
        stamps = list_notes(self.root)
        stamp_key = fingerprint(stamps)
        cached = self._cached_index(stamp_key)
        if cached is not None:
            return cached
        vault = self._build(stamps, self._parsed(stamps, progress), stamp_key)
        if self.files is not None:
            _write(self.files.index, vault)
            _write(self.files.index_key, stamp_key)
        return vault

    def _cached_index(self, stamp_key: str) -> Vault | None:
        if self.files is None or _read(self.files.index_key) != stamp_key:
            return None
        cached = _read(self.files.index)
        if isinstance(cached, Vault) and cached.fingerprint == stamp_key:
            cached.root = self.root
            return cached
        return None

    def _parsed(self, stamps: dict[str, FileStamp], progress: bool) -> Iterator[ParsedFile]:
        """Every file's parse in path order, with the problems it has now: what changed is parsed into the
        store, batch by batch, the rest read back from it. A first build has nothing stored, so its notes
        are indexed as they are parsed (while the next ones are) rather than read back.

        A note saved broken (it cannot be served at all) does not replace the version the store has of
        it: that keeps being served, while the new problem is reported.
        """
        known = self.store.stamps()
        changed = {path: stamp for path, stamp in stamps.items() if known.get(path) != stamp}
        if changed:
            log.info("parsing %d changed notes (%d unchanged)", len(changed), len(stamps) - len(changed))
        fresh = self._parse(changed, progress)
        if not known:
            yield from fresh
            return
        problems = {parsed.path: parsed.problems for parsed in fresh}
        self.store.keep_only(set(stamps))
        for stored in self.store.read():
            yield dataclasses.replace(stored, problems=problems.get(stored.path, stored.problems))

    def _parse(self, changed: dict[str, FileStamp], progress: bool) -> Iterator[ParsedFile]:
        """Parse files into the store, batch by batch, handing each file on once stored."""
        with tqdm(total=len(changed), desc="indexing notes", unit="note", disable=not progress or None) as bar:
            for batch in parse_files(self.root, changed):
                self.store.write(p for p in batch if p.note is not None or not self.store.serves(p.path))
                yield from batch
                bar.update(len(batch))

    def _build(self, stamps: dict[str, FileStamp], parsed_files: Iterator[ParsedFile], stamp_key: str) -> Vault:
        index, problems = index_parsed(parsed_files, stamps)
        return Vault(self.root, index, problems, stamp_key)


def index_parsed(parsed_files: Iterable[ParsedFile], stamps: dict[str, FileStamp]) -> tuple[SearchIndex, list[Problem]]:
    """The index of the served notes among `parsed_files` (read one at a time, as they come), and the problems of
    them all: each file's own, then each wikilink naming no file of `stamps`, at its line."""
    problems: list[Problem] = []
    links: list[tuple[str, tuple[Link, ...]]] = []

    def served_notes() -> Iterator[tuple[Note, NoteTerms]]:
        for parsed in parsed_files:
            problems.extend(parsed.problems)
            if parsed.note is not None and parsed.terms is not None:
                links.append((parsed.note.path, parsed.note.links))
                yield parsed.note, parsed.terms

    index = build_index(served_notes())
    return index, problems + broken_links(links, known_link_names(stamps))


class ParsedStore:
    """Parsed notes by file, in SQLite (a file in the cache folder, or memory): written a batch at a
    time as they are parsed, read back one at a time in path order."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # several replicas may share a cache folder: wait for each other's writes rather than fail
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, "
            "served INTEGER, blob BLOB)"
        )
        version = self._db.execute("SELECT value FROM meta WHERE key = 'parser'").fetchone()
        if version != (PARSER_VERSION,):
            with self._db:
                self._db.execute("DELETE FROM parsed")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('parser', ?)", (PARSER_VERSION,))

    def stamps(self) -> dict[str, FileStamp]:
        rows = self._db.execute("SELECT path, mtime_ns, size FROM parsed")
        return {path: FileStamp(mtime_ns, size) for path, mtime_ns, size in rows}

    def serves(self, path: str) -> bool:
        """Whether the store has a version of this file that can be served."""
        row = self._db.execute("SELECT served FROM parsed WHERE path = ?", (path,)).fetchone()
        return bool(row and row[0])

    def write(self, files: Iterable[ParsedFile]) -> None:
        rows = [
            (p.path, p.stamp.mtime_ns, p.stamp.size, p.note is not None, pickle.dumps(p, pickle.HIGHEST_PROTOCOL))
            for p in files
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?, ?, ?, ?)", rows)

    def keep_only(self, paths: set[str]) -> None:
        gone = [(path,) for path in self.stamps() if path not in paths]
        with self._db:
            self._db.executemany("DELETE FROM parsed WHERE path = ?", gone)

    def read(self) -> Iterator[ParsedFile]:
        for (blob,) in self._db.execute("SELECT blob FROM parsed ORDER BY path"):
            yield pickle.loads(blob)


def _read(path: Path) -> object | None:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as error:  # a cache from another version or a torn write: rebuild it
        log.warning("ignoring unreadable cache %s: %s", path, error)
        return None


def _write(path: Path, value: object) -> None:
    """Write atomically, so that a reader (or a crash) never sees half a cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
