"""How the ranking's index-time constants (BM25F's field weights and length normalisation, K1) move its quality:
the corpus indexed again with each setting, and every labelled query set scored.

    .venv/bin/python bench/sweep_bm25f.py [--corpus ../shared/corpus/tubegraph] [--cache bench/out/cache] \
        [--queries ../shared/eval/queries-dev.jsonl --queries ...] SETTING [SETTING ...]

A SETTING is `shipped`, or constants of `bot/engine/scoring.py` with values: `K1=0.75`, `K1=0.75,TITLE_WEIGHT=0.5`.
Each is indexed from the cache folder's parsed notes (parsing only what they lack: about 6 s a setting on the
whole corpus, 2 cores), searched as `notesbot search --batch` lists sections (ten a query, twins in their places),
and scored by the eval's score.py. One line a setting: section Hit@1 and MRR@10 of each query set, and of all
the sets together.

The constants are set for the sweep only and put back after: it measures, it ships nothing. Develop on the dev
queries; the check queries confirm a setting chosen there (bench/RESULTS.md, issue 14's rule).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bot.engine.index as index_module  # noqa: E402  (the repo root is on the path only now)
import bot.engine.scoring as scoring  # noqa: E402
from bench.engine import load_score, read_jsonl  # noqa: E402
from bot.engine.index import SearchIndex, build_index  # noqa: E402
from bot.engine.index_cache import CacheFiles, ParsedStore, load_vault  # noqa: E402
from bot.engine.search import Hit, Searcher, sections_found  # noqa: E402

# The constants an index is built with (index.py imports them by name, so both modules hold them)
INDEX_CONSTANTS = ("TITLE_WEIGHT", "HEADING_WEIGHT", "BODY_WEIGHT", "TITLE_B", "HEADING_B", "BODY_B", "NOTE_B", "K1")
LIMIT = 10  # sections a query, as bench/engine.py scores them (MRR@10)


def read_setting(text: str) -> dict[str, float]:
    """`shipped` is no change; else `NAME=value` pairs, comma separated, of INDEX_CONSTANTS."""
    if text == "shipped":
        return {}
    setting = {}
    for pair in text.split(","):
        name, _, value = pair.partition("=")
        if name not in INDEX_CONSTANTS:
            raise ValueError(f"{name!r} is not one of {', '.join(INDEX_CONSTANTS)}")
        setting[name] = float(value)
    return setting


@contextmanager
def constants(setting: dict[str, float]) -> Iterator[None]:
    """The index-time constants set as `setting` says while the block runs, the shipped ones after."""
    modules = (scoring, index_module)
    shipped = {name: getattr(scoring, name) for name in setting}
    try:
        for name, value in setting.items():
            for module in modules:
                if hasattr(module, name):
                    setattr(module, name, value)
        yield
    finally:
        for name, value in shipped.items():
            for module in modules:
                if hasattr(module, name):
                    setattr(module, name, value)


def rebuilt(store: ParsedStore) -> SearchIndex:
    """The vault indexed anew from its parsed notes, with the constants as they are now set."""
    return build_index((p.note, p.terms) for p in store.read() if p.note is not None and p.terms is not None)


def figures(searcher: Searcher, query_sets: dict[str, list[dict]], score: ModuleType) -> dict[str, dict]:
    """score.py's "all" row for each query set and for all of them together."""
    results = {
        name: [{"query": q["query"], "hits": listed(searcher.search(q["query"], LIMIT))} for q in queries]
        for name, queries in query_sets.items()
    }
    table = {name: score.score(query_sets[name], rows)["all"] for name, rows in results.items()}
    everything = [q for queries in query_sets.values() for q in queries]
    table["all sets"] = score.score(everything, [row for rows in results.values() for row in rows])["all"]
    return table


def listed(hits: list[Hit]) -> list[dict[str, str]]:
    """The sections of `hits` as `notesbot search --batch` lists them, as score.py reads them."""
    return [{"note": hit.note, "heading": hit.heading} for hit, _ in sections_found(hits, LIMIT)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("settings", nargs="+", help="`shipped`, or NAME=value[,NAME=value...]")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--queries", type=Path, action="append", help="a labelled set (default: dev, then check)")
    parser.add_argument("--score", type=Path, help="score.py (default: the one beside the first --queries)")
    args = parser.parse_args(argv)
    try:
        settings = [(text, read_setting(text)) for text in args.settings]
    except ValueError as error:
        parser.error(str(error))
    paths = args.queries or [REPO.parent / "shared" / "eval" / f"queries-{name}.jsonl" for name in ("dev", "check")]
    query_sets = {path.stem.removeprefix("queries-"): read_jsonl(path) for path in paths}
    score = load_score(args.score or paths[0].parent / "score.py")
    load_vault(args.corpus, args.cache)  # parses whatever the cache's parsed notes lack
    store = ParsedStore(CacheFiles.for_vault(args.corpus, args.cache).parsed)
    columns = [f"{name}: {metric}" for name in [*query_sets, "all sets"] for metric in ("Hit@1", "MRR@10")]
    print("| setting | " + " | ".join(columns) + " |\n|---|" + "---:|" * len(columns))  # a markdown table
    for text, setting in settings:
        with constants(setting):
            table = figures(Searcher(rebuilt(store)), query_sets, score)
        cells = (f"{row['section_hit@1']:.3f} | {row['section_mrr@10']:.3f}" for row in table.values())
        print(f"| {text} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
