"""The built index cached on disk, so that large vaults start fast.

Two files per vault: the parsed notes by file (path, mtime and size tell a change), so that only
changed files are parsed again; and the built index, keyed by the stamps of every file, so that a
restart with unchanged notes loads it without parsing anything.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bot.index import SearchIndex, build_index
from bot.parsing import Problem
from bot.vault import FileStamp, ParsedFile, broken_links, known_link_names, list_notes, parse_files

log = logging.getLogger(__name__)

# Bump when parsing or analysis change (parsed notes are then parsed again), or when the index layout or
# ranking weights change (the index is then rebuilt from the parsed notes): old caches are never misread.
PARSER_VERSION = "7"
INDEX_VERSION = "9"


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
        return self.folder / "parsed.pickle"

    @property
    def index(self) -> Path:
        return self.folder / "index.pickle"


def fingerprint(stamps: dict[str, FileStamp]) -> str:
    digest = hashlib.sha1(f"{PARSER_VERSION}/{INDEX_VERSION}".encode())
    for path, stamp in stamps.items():
        digest.update(f"{path}\0{stamp.mtime_ns}\0{stamp.size}\n".encode())
    return digest.hexdigest()


def load_vault(root: Path, cache_root: Path | None, progress: bool = False) -> Vault:
    """The vault's index: from the cache when no note changed, else rebuilt parsing only what changed."""
    stamps = list_notes(root)
    print_ = fingerprint(stamps)
    files = CacheFiles.for_vault(root, cache_root) if cache_root else None
    if files is not None:
        cached = _read(files.index)
        if isinstance(cached, Vault) and cached.fingerprint == print_:
            cached.root = root
            return cached
    parsed = parse_changed(root, stamps, read_parsed(files) if files is not None else {}, progress)
    vault = vault_from_parsed(root, parsed, print_)
    if files is not None:
        _write(files.parsed, (PARSER_VERSION, parsed))
        _write(files.index, vault)
    return vault


def read_parsed(files: CacheFiles) -> dict[str, ParsedFile]:
    """The parsed files cached on disk; none when there is no cache or it is from another parser."""
    cached = _read(files.parsed)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == PARSER_VERSION:
        return cached[1]
    return {}


def parse_changed(
    root: Path, stamps: dict[str, FileStamp], previous: dict[str, ParsedFile], progress: bool = False
) -> dict[str, ParsedFile]:
    """Parsed files for `stamps`, reusing those of `previous` whose file did not change."""
    unchanged = {p: previous[p] for p, s in stamps.items() if p in previous and previous[p].stamp == s}
    changed = {p: s for p, s in stamps.items() if p not in unchanged}
    if changed:
        log.info("parsing %d changed notes (%d unchanged)", len(changed), len(unchanged))
    with tqdm(total=len(changed), desc="indexing notes", unit="note", disable=not progress or None) as bar:
        fresh = parse_files(root, changed, on_parsed=bar.update)
    merged = unchanged | {p.path: p for p in fresh}
    return {path: merged[path] for path in stamps}


def vault_from_parsed(root: Path, parsed: dict[str, ParsedFile], print_: str) -> Vault:
    served = [p for p in parsed.values() if p.note is not None and p.terms is not None]
    notes = [p.note for p in served]
    index = build_index(notes, [p.terms for p in served])  # type: ignore[misc]
    problems = [problem for p in parsed.values() for problem in p.problems]
    problems += broken_links(notes, known_link_names(parsed))  # type: ignore[arg-type]
    return Vault(root, index, problems, print_)


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
