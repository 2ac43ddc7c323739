"""Whether a change to parsing or indexing builds the same thing: every note's parse and the whole index,
recorded once as digests, compared after.

    .venv/bin/python bench/same_build.py --record bench/out/build-before.jsonl
    .venv/bin/python bench/same_build.py --compare bench/out/build-before.jsonl

Every markdown file of --corpus (default the whole shared corpus) is parsed by this checkout's code, with no
cache: a file's row is the digest of its parsed note (title, video, links, tags, and every section's heading,
path, level, clean text, timestamps and line), of its problems, and of its index terms (`analyze_note`). The
notes are then indexed as `load_vault` indexes them, and every column of the index (vocabulary, postings with
their impacts, section columns, typo words) gets a digest of its own, as does the list of the vault's problems.

--record writes one JSON line a file, then one for the index. --compare exits 1 naming every file (up to
--show) and index column that differs, 0 when all are the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine.index import NoteTerms, Postings, SearchIndex, TextColumn  # noqa: E402
from bot.engine.index_cache import index_parsed  # noqa: E402
from bot.engine.vault import ParsedFile, list_notes, parse_files  # noqa: E402

INDEX_ROW = "(index)"  # the path of the row that holds the index's digests: no markdown file is named so


def digest(*parts: object) -> str:
    """A digest of values whose `repr` is exact and stable: strings, numbers, tuples, frozen dataclasses."""
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def array_digest(array: np.ndarray) -> str:
    return hashlib.sha1(str(array.dtype).encode() + np.ascontiguousarray(array).tobytes()).hexdigest()[:20]


def terms_digest(terms: NoteTerms | None) -> str:
    if terms is None:
        return digest(None)
    return digest(
        terms.vocabulary,
        terms.title.tolist(),
        terms.tokens.tolist(),
        terms.section_ends.tolist(),
        terms.heading_lengths.tolist(),
        terms.surface_words,
        terms.surface_counts.tolist(),
    )


def file_row(parsed: ParsedFile) -> dict[str, str]:
    return {
        "path": parsed.path,
        "note": digest(parsed.note),
        "problems": digest(parsed.problems),
        "terms": terms_digest(parsed.terms),
    }


def column_digest(value: object) -> str:
    if isinstance(value, np.ndarray):
        return array_digest(value)
    if isinstance(value, TextColumn):
        return hashlib.sha1(bytes(value.blob) + value.ends.tobytes()).hexdigest()[:20]
    if isinstance(value, Postings):
        return digest(array_digest(value.ptr), array_digest(value.docs.astype(np.int32)), array_digest(value.impacts))
    if isinstance(value, dict):
        return digest(list(value.items()))  # in order: a term's id is its place
    return digest(value)


def index_row(index: SearchIndex, problems: list) -> dict[str, str]:
    columns = {name: column_digest(getattr(index, name)) for name in SearchIndex.__dataclass_fields__}
    return {"path": INDEX_ROW, **columns, "vault problems": digest(problems)}


def build_rows(corpus: Path) -> Iterator[dict[str, str]]:
    """A row per file as it is parsed, then the index's row once every served note is indexed."""
    stamps = list_notes(corpus)
    rows: list[dict[str, str]] = []

    def parsed_files() -> Iterator[ParsedFile]:
        for batch in parse_files(corpus, stamps):
            for parsed in batch:
                rows.append(file_row(parsed))
                yield parsed

    index, problems = index_parsed(parsed_files(), stamps)
    yield from rows
    yield index_row(index, problems)


def differences(recorded: list[dict[str, str]], found: list[dict[str, str]]) -> list[str]:
    """Each file or index column whose digest differs, and each file only one side has."""
    before = {row["path"]: row for row in recorded}
    now = {row["path"]: row for row in found}
    lines = [f"{path}: only in the record" for path in before.keys() - now.keys()]
    lines += [f"{path}: not in the record" for path in now.keys() - before.keys()]
    for path in sorted(before.keys() & now.keys()):
        changed = [key for key in before[path] if before[path][key] != now[path].get(key)]
        if changed:
            lines.append(f"{path}: {', '.join(changed)} differ")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--record", type=Path, metavar="FILE", help="write every file's and the index's digests")
    action.add_argument("--compare", type=Path, metavar="FILE", help="exit 1 if any digest differs from FILE")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--show", type=int, default=20, help="differences printed at most (default 20)")
    args = parser.parse_args(argv)
    for name in ("corpus", *(["compare"] if args.compare else [])):
        if not getattr(args, name).exists():
            parser.error(f"--{name}: nothing at {getattr(args, name)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = list(build_rows(args.corpus))
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in found), encoding="utf-8")
        print(f"same_build: recorded {len(found) - 1} files and the index in {args.record}")
        return 0
    with args.compare.open(encoding="utf-8") as handle:
        recorded = [json.loads(line) for line in handle if line.strip()]
    different = differences(recorded, found)
    if different:
        print(f"same_build: {len(different)} differ:", *different[: args.show], sep="\n", file=sys.stderr)
        return 1
    print(f"same_build: all {len(found) - 1} files and every index column are the same as in {args.compare}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
