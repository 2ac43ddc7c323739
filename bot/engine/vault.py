"""Notes on disk: finding a vault's markdown files, reading and parsing them, checking its wikilinks.

The only module of the notes engine that reads the notes themselves. Parsing a large vault is spread
over the machine's cores; one unreadable file becomes a `Problem`, never a failure of the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.engine.index import NoteTerms, analyze_note
from bot.engine.parsing import Link, Note, Problem, parse_note
from bot.engine.records import pickled_as_fields

# Obsidian's and Quartz's own folders, version control and trash are not notes.
_SKIPPED_DIRS = {".obsidian", ".trash", ".git", "node_modules", ".quartz-cache"}
_PARALLEL_FROM = 200  # fewer files than this parse faster in one process than the pool takes to start
_BATCH = 64  # files a worker parses per job


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class FileStamp:
    mtime_ns: int
    size: int


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: str
    stamp: FileStamp
    note: Note | None
    terms: NoteTerms | None
    problems: tuple[Problem, ...]


def list_notes(root: Path) -> dict[str, FileStamp]:
    """Every markdown file under `root`, by path relative to it, with what tells a change."""
    found: dict[str, FileStamp] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        # paths as strings, a folder's prefix made once: a Path per file took half of listing a large vault,
        # which every start does
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        for name in files:
            if not name.lower().endswith(".md"):
                continue
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            found[prefix + name] = FileStamp(info.st_mtime_ns, info.st_size)
    return dict(sorted(found.items()))


def parse_file(root: Path, rel_path: str, stamp: FileStamp) -> ParsedFile:
    path = root / rel_path
    try:
        if _links_outside(root, path):
            return _unread(rel_path, stamp, "a symbolic link to a file outside the vault: not read")
        raw = path.read_bytes()
    except OSError as error:
        return _unread(rel_path, stamp, f"cannot read the file: {error.strerror or error}")
    result = parse_note(rel_path, raw)
    terms = analyze_note(result.note) if result.note else None
    return ParsedFile(rel_path, stamp, result.note, terms, tuple(result.problems))


def _links_outside(root: Path, path: Path) -> bool:
    """Whether `path` is a symbolic link to a file outside `root`: whatever a vault links to would be served
    to everyone in the workspace, and a link can point anywhere on the machine (its secrets included)."""
    return path.is_symlink() and not path.resolve().is_relative_to(root.resolve())


def _unread(rel_path: str, stamp: FileStamp, why: str) -> ParsedFile:
    return ParsedFile(rel_path, stamp, None, None, (Problem(rel_path, 1, why, "error"),))


def parse_files(root: Path, stamps: dict[str, FileStamp], workers: int | None = None) -> Iterator[list[ParsedFile]]:
    """Parse many files, in batches as they are done (in parallel when there are many), so that a
    caller can store each batch and let it go rather than hold a whole vault's parsed notes."""
    items = list(stamps.items())
    workers = workers or os.cpu_count() or 1
    jobs = [(root, items[i : i + _BATCH]) for i in range(0, len(items), _BATCH)]
    if len(items) < _PARALLEL_FROM or workers == 1:
        yield from map(_parse_batch, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_parse_batch, jobs)


def _parse_batch(job: tuple[Path, list[tuple[str, FileStamp]]]) -> list[ParsedFile]:
    root, items = job
    return [parse_file(root, path, stamp) for path, stamp in items]


def link_keys(path: str) -> tuple[str, str]:
    """The names a wikilink may use for a note: its path without `.md`, and its file name alone."""
    without_suffix = path[:-3] if path.lower().endswith(".md") else path
    return without_suffix.casefold(), _file_name(without_suffix).casefold()


def _file_name(path: str) -> str:
    """`PurePosixPath(path).name` without making a path (a vault's links are checked by the hundred thousand):
    its last part that is neither empty nor `.`."""
    return next((part for part in reversed(path.split("/")) if part and part != "."), "")


def resolve_link(target: str, known: set[str]) -> bool:
    """Whether `[[target]]` names a note of the vault, as Obsidian resolves it (case-insensitively)."""
    return any(key in known for key in link_keys(target.strip().lstrip("/")))


def known_link_names(paths: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        names.update(link_keys(path))
    return names


def broken_links(links_by_note: Iterable[tuple[str, tuple[Link, ...]]], known: set[str]) -> list[Problem]:
    """A warning for each wikilink that names no note of the vault, at its line."""
    return [
        Problem(path, link.line, f"wikilink [[{link.target}]] names no note of the vault")
        for path, links in links_by_note
        for link in links
        if not resolve_link(link.target, known)
    ]
