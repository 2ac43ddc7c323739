"""Whether a change to the engine ranks as before: every query's top ten, recorded once, compared after.

    .venv/bin/python bench/same_hits.py --record bench/out/hits-before.jsonl
    .venv/bin/python bench/same_hits.py --compare bench/out/hits-before.jsonl

Each query of --queries (default the eval's dev queries) is searched on --corpus (default the whole shared
corpus) with `Searcher.search(query, limit=10)`; a query's row is its hits in order as (note path, heading,
score). The index is built by this checkout's code every run: the cache folder's parsed notes are reused
(so a rerun parses nothing), its built index never is, as it may come from code before the change.

--record writes one JSON line a query. --compare exits 1 naming the first query whose hits differ (at
which rank, what was recorded, what is found now), 0 when every query finds the same hits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine.index import SearchIndex  # noqa: E402  (the repo root is on the path only now)
from bot.engine.index_cache import CacheFiles, load_vault  # noqa: E402
from bot.engine.search import Searcher  # noqa: E402

LIMIT = 10  # the hits bench/engine.py scores (MRR@10)

Hits = list[list[str | float]]  # a query's hits: [note, heading, score], best first
Rows = list[tuple[str, Hits]]  # (query, its hits), in the order of the queries


def fresh_index(corpus: Path, cache: Path) -> SearchIndex:
    """The corpus indexed by this checkout's code, from the cache's parsed notes (parsing what they lack)."""
    CacheFiles.for_vault(corpus, cache).index_key.unlink(missing_ok=True)  # a stale key: the index is rebuilt
    return load_vault(corpus, cache).index


def read_queries(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["query"] for line in handle if line.strip()]


def top_hits(searcher: Searcher, queries: list[str]) -> Rows:
    # Hit.score is already rounded (4 decimals): the figure a user sees, and what ranked them
    return [
        (query, [[hit.note, hit.heading, hit.score] for hit in searcher.search(query, limit=LIMIT)])
        for query in queries
    ]


def write_rows(path: Path, rows: Rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for query, hits in rows:
            out.write(json.dumps({"query": query, "hits": hits}, ensure_ascii=False) + "\n")


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8") as handle:
        return [(row["query"], row["hits"]) for row in (json.loads(line) for line in handle if line.strip())]


def first_difference(recorded: Rows, found: Rows) -> str | None:
    """What differs first, in the order of the queries, or None when nothing does."""
    if [query for query, _ in recorded] != [query for query, _ in found]:
        return f"the queries differ: {len(recorded)} recorded, {len(found)} searched now (another --queries?)"
    for (query, before), (_, now) in zip(recorded, found, strict=True):
        if before == now:
            continue
        shorter = min(len(before), len(now))
        rank = next((i for i in range(shorter) if before[i] != now[i]), shorter)
        was = before[rank] if rank < len(before) else "nothing"
        is_now = now[rank] if rank < len(now) else "nothing"
        return f"query {query!r}: hit {rank + 1} was {was}, is now {is_now}"
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--record", type=Path, metavar="FILE", help="write every query's top ten to FILE")
    action.add_argument("--compare", type=Path, metavar="FILE", help="exit 1 if any query's top ten differs from FILE")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--queries", type=Path, default=REPO.parent / "shared" / "eval" / "queries-dev.jsonl")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    args = parser.parse_args(argv)
    for name in ("corpus", "queries", *(["compare"] if args.compare else [])):
        if not getattr(args, name).exists():
            parser.error(f"--{name}: nothing at {getattr(args, name)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = top_hits(Searcher(fresh_index(args.corpus, args.cache)), read_queries(args.queries))
    if args.record:
        write_rows(args.record, found)
        print(f"same_hits: recorded the top {LIMIT} of {len(found)} queries in {args.record}")
        return 0
    difference = first_difference(read_rows(args.compare), found)
    if difference is not None:
        print(f"same_hits: {difference}", file=sys.stderr)
        return 1
    print(f"same_hits: the same top {LIMIT} for all {len(found)} queries as {args.compare}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
