"""Benchmark of the notes engine beside the anchors a user would otherwise pick (bm25s, tantivy).

    .venv/bin/python bench/engine.py --corpus ../shared/corpus/tubegraph --out bench/out/

Quality, on each labelled query set (the eval's dev set, to develop on, and its check set, to confirm) and on
all of them together: section Hit@1, Hit@5, MRR@10 and note Hit@1 per query kind, scored by the eval's own
score.py, and beside them moment@1 (the first hit links to the labelled section's video within a minute of
its moment, whichever twin note gives it) and video@1. Speed: cold build, warm start from the cache, query
latency p50/p99 (in process, warm) and peak memory. Every measurement runs in a process of its own so that
peak memories do not mix; the anchors index exactly our sections, taken from the built index. Raw figures
and every engine's results go to --out; the "Search quality" and "Search speed" sections of bench/RESULTS.md
are rewritten.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import platform
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.figures import percentile  # noqa: E402  (the repo root is on the path only now)

SHARED = REPO.parent / "shared"
LIMIT = 10  # hits per query: MRR@10 needs ten
ENGINES = ("notesbot", "bm25s", "tantivy")
ANCHORS = ENGINES[1:]
# what the figures depend on, every module of the notes engine: a run on a working tree that changes a
# file in it (added, edited or deleted) says so
ENGINE_DIR = "bot/engine"
METRICS = (
    ("section_hit@1", "section Hit@1"),
    ("section_hit@5", "section Hit@5"),
    ("section_mrr@10", "section MRR@10"),
    ("note_hit@1", "note Hit@1"),
    ("moment@1", "moment@1"),
    ("video@1", "video@1"),
)
BOTH = "both"  # every query set together, where the absolute targets apply
# Absolute quality targets of issue 14 on every query set together, by (kind, metric); every row of every
# set must also beat both anchors.
QUALITY_FLOORS = {
    ("all", "section_hit@1"): 0.79,
    ("question", "section_hit@1"): 0.80,
    ("all", "section_mrr@10"): 0.85,
    ("all", "moment@1"): 0.90,
}
P99_TARGET_MS = 25.0
P50_OVER_TANTIVY = 1.5  # query p50 at most this many times tantivy's in the same run (issue 14)
WARM_START_TARGET_S = 2.0
PEAK_TARGET_MB = 1000.0  # 1 GB
QUALITY_HEADING = "## Search quality"
SPEED_HEADING = "## Search speed"
RESULTS_INTRO = """# Benchmark results

Figures measured by the scripts under `bench/`; each section says what it measures, on which machine, and
how to rerun it.

- **Search quality**: how often the notes engine ranks the labelled section first (Hit@1), in the top five
  (Hit@5), its MRR@10, and how often the right note comes first, per query kind, beside bm25s and tantivy.
- **Search speed**: cold index build, warm start from the cache, query latency and peak memory on the whole
  corpus, beside bm25s and tantivy.
"""


@dataclass(frozen=True, slots=True)
class Found:
    """A hit as every engine reports it: the section (note path, heading) and the moment it links to."""

    note: str
    heading: str
    video: str | None
    timestamp: int | None


SearchFn = Callable[[str], list[Found]]  # query -> hits, best first


# --- the sections every engine indexes ------------------------------------------------------------


@dataclass(slots=True)
class Sections:
    """Our sections as plain columns: what the anchors index and what their hits are reported as."""

    notes: list[str]
    titles: list[str]
    headings: list[str]  # the heading as written, what score.py compares
    heading_fields: list[str]  # heading path and heading, the text of the heading field
    texts: list[str]
    videos: list[str | None]  # the video of each section's note
    moments: list[int | None]  # each section's first timestamp (seconds), where it has one

    @classmethod
    def of_index(cls, index) -> Sections:  # index: bot.engine.index.SearchIndex
        note_of = index.section_note.tolist()
        return cls(
            notes=[index.note_paths[n] for n in note_of],
            titles=[index.note_titles[n] for n in note_of],
            headings=list(index.section_headings),
            heading_fields=[
                " ".join((*p, h)) for p, h in zip(index.section_paths, index.section_headings, strict=True)
            ],
            texts=list(index.section_texts),
            videos=[index.note_videos[n] for n in note_of],
            moments=[int(t) if t >= 0 else None for t in index.section_first_ts.tolist()],
        )

    def hits(self, ids: Sequence[int]) -> list[Found]:
        return [Found(self.notes[i], self.headings[i], self.videos[i], self.moments[i]) for i in ids]


# --- engines: build over sections, then answer queries --------------------------------------------


def bm25s_search(sections: Sections, workdir: Path) -> SearchFn:
    """bm25s as its README sets it up: English stopwords, PyStemmer English stemming, default BM25."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = [
        f"{t}\n{h}\n{x}" for t, h, x in zip(sections.titles, sections.heading_fields, sections.texts, strict=True)
    ]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    k = min(LIMIT, len(corpus))  # bm25s refuses a k above the corpus size

    def search(query: str) -> list[Found]:
        tokens = bm25s.tokenize(query, stopwords="en", stemmer=stemmer, show_progress=False)
        docs, scores = retriever.retrieve(tokens, k=k, show_progress=False)
        # bm25s pads the top k with documents that match nothing (score 0): those are no hits
        return sections.hits([int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0])

    return search


TANTIVY_FIELDS = ("title", "heading", "body")
_TANTIVY_SYNTAX = re.compile(r"""([+\-&|!(){}\[\]^"'~*?:\\/<>=`])""")


def tantivy_search(sections: Sections, workdir: Path) -> SearchFn:
    """tantivy with BM25 over title, heading and body (English stemming), the query parsed over all three."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    for field in TANTIVY_FIELDS:
        builder.add_text_field(field, tokenizer_name="en_stem")
    builder.add_unsigned_field("section", stored=True)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(workdir))
    writer = index.writer()
    for i, fields in enumerate(zip(sections.titles, sections.heading_fields, sections.texts, strict=True)):
        writer.add_document(tantivy.Document(section=i, **dict(zip(TANTIVY_FIELDS, fields, strict=True))))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def search(query: str) -> list[Found]:
        parsed = tantivy_query(index, query)
        return sections.hits(
            [searcher.doc(address)["section"][0] for _, address in searcher.search(parsed, LIMIT).hits]
        )

    return search


def tantivy_query(index, query: str):
    """Plain text, never query syntax: special characters escaped; lenient parsing for what still trips
    the parser (a bare AND or OR)."""
    escaped = _TANTIVY_SYNTAX.sub(r"\\\1", query)
    try:
        return index.parse_query(escaped, list(TANTIVY_FIELDS))
    except ValueError:
        return index.parse_query_lenient(escaped, list(TANTIVY_FIELDS))[0]


ANCHOR_BUILDERS: dict[str, Callable[[Sections, Path], SearchFn]] = {
    "bm25s": bm25s_search,
    "tantivy": tantivy_search,
}


# --- workers: one measurement each, in a process of its own ----------------------------------------


def run_queries(search: SearchFn, queries: list[str], results: Path, repeat: int) -> dict:
    """One pass writing the results (and warming up), then `repeat` timed passes over the same queries."""
    with results.open("w", encoding="utf-8") as out:
        for query in queries:
            hits = [
                {"note": hit.note, "heading": hit.heading, "video_id": hit.video, "timestamp": hit.timestamp}
                for hit in search(query)
            ]
            out.write(json.dumps({"query": query, "hits": hits}, ensure_ascii=False) + "\n")
    timings = []
    for _ in range(repeat):
        for query in queries:
            start = time.perf_counter()
            search(query)
            timings.append(time.perf_counter() - start)
    return latency_figures(timings)


def latency_figures(timings: list[float]) -> dict:
    ms = [t * 1000 for t in timings]
    return {
        "timed_queries": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }


def peak_memory() -> dict:
    """ru_maxrss (KiB on Linux) of this process, and of its largest child (the parse pool, if any), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    return {"peak_mb": own, "largest_child_peak_mb": children}


def work_build(args: argparse.Namespace) -> dict:
    """Cold build: load the vault into an empty cache folder (parse, index, write the cache)."""
    from bot.engine.index_cache import load_vault

    start = time.perf_counter()
    vault = load_vault(args.corpus, args.out / "cache")
    build_s = time.perf_counter() - start
    return {
        "build_s": build_s,
        "notes": vault.index.note_count,
        "sections": vault.index.section_count,
    }


def work_notesbot(args: argparse.Namespace) -> dict:
    """Warm start from the cache a cold build left, then the queries: what a restarted bot does."""
    from bot.engine.index_cache import load_vault
    from bot.engine.search import Searcher, sections_found

    start = time.perf_counter()
    vault = load_vault(args.corpus, args.out / "cache")
    loaded = time.perf_counter()
    searcher = Searcher(vault.index)
    ready = time.perf_counter()

    def search(query: str) -> list[Found]:
        found = sections_found(searcher.search(query, LIMIT), LIMIT)  # twins in their places, as --batch lists them
        return [Found(hit.note, hit.heading, hit.video_id, hit.timestamp) for hit, _ in found]

    latency = run_queries(search, all_queries(args.queries), results_path(args.out, "notesbot"), args.repeat)
    return {"load_s": loaded - start, "warm_start_s": ready - start, **latency}


def work_export(args: argparse.Namespace) -> dict:
    """Our sections, from the built index, for the anchors to index."""
    from bot.engine.index_cache import load_vault

    sections = Sections.of_index(load_vault(args.corpus, args.out / "cache").index)
    with sections_path(args.out).open("wb") as out:
        pickle.dump(sections, out, protocol=pickle.HIGHEST_PROTOCOL)
    labels = label_moments(sections, [row for path in args.queries for row in read_jsonl(path)], load_score(args.score))
    labels_path(args.out).write_text(json.dumps(labels) + "\n", encoding="utf-8")
    return {
        "sections": len(sections.notes),
        "labels_without_moment": sum(label["timestamp"] is None for label in labels),
    }


def work_anchor(args: argparse.Namespace) -> dict:
    """Build one anchor over our sections (already in memory, as a user's would be), then the queries."""
    with sections_path(args.out).open("rb") as handle:
        sections = pickle.load(handle)
    start = time.perf_counter()
    search = ANCHOR_BUILDERS[args.worker](sections, args.out / f"{args.worker}-index")
    build_s = time.perf_counter() - start
    latency = run_queries(search, all_queries(args.queries), results_path(args.out, args.worker), args.repeat)
    return {"build_s": build_s, **latency}


WORKERS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "build": work_build,
    "notesbot": work_notesbot,
    "export": work_export,
    "bm25s": work_anchor,
    "tantivy": work_anchor,
}


def worker_main(args: argparse.Namespace) -> None:
    figures = WORKERS[args.worker](args) | peak_memory()
    figures_path(args.out, args.worker).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


# --- the whole run ---------------------------------------------------------------------------------


def results_path(out: Path, engine: str) -> Path:
    return out / f"results-{engine}.jsonl"


def figures_path(out: Path, worker: str) -> Path:
    return out / f"figures-{worker}.json"


def sections_path(out: Path) -> Path:
    return out / "sections.pickle"


def labels_path(out: Path) -> Path:
    return out / "labels.json"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def all_queries(paths: Sequence[Path]) -> list[str]:
    """The text of every query of every set, the sets one after the other."""
    return [row["query"] for path in paths for row in read_jsonl(path)]


def set_name(path: Path) -> str:
    """A query set's name in the tables: `queries-check.jsonl` is "check"."""
    return path.stem.removeprefix("queries-")


def run_worker(worker: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", worker, *run_options(args)]
    print(f"bench: {worker}…", file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    return json.loads(figures_path(args.out, worker).read_text(encoding="utf-8"))


def run_options(args: argparse.Namespace, show: Callable[[Path], str] = str) -> list[str]:
    """The options of this run: for its workers, and (with paths as `shown`) for the rerun command."""
    paths = [
        ("--corpus", args.corpus),
        *(("--queries", path) for path in args.queries),
        ("--score", args.score),
        ("--out", args.out),
        ("--results", args.results),
    ]
    flags = ["--reuse-cache"] if args.reuse_cache else []
    return [*(part for option, path in paths for part in (option, show(path))), "--repeat", str(args.repeat), *flags]


def run_cli(args: argparse.Namespace) -> dict:
    """The same queries through the real command line, on the warm cache: `notesbot search --batch`."""
    queries_txt = args.out / "queries.txt"
    queries_txt.write_text("".join(q + "\n" for q in all_queries(args.queries)), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "bot",
        "search",
        "--batch",
        "--notes",
        str(args.corpus),
        "--limit",
        str(LIMIT),
    ]
    environment = os.environ | {"NOTESBOT_CACHE_DIR": str(args.out / "cache")}
    print("bench: cli…", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with queries_txt.open("rb") as stdin, results_path(args.out, "cli").open("wb") as stdout:
        subprocess.run(command, stdin=stdin, stdout=stdout, env=environment, check=True)
    return {"wall_s": time.perf_counter() - start}


def load_score(path: Path) -> ModuleType:
    """The eval's own score.py (its `score`, `norm_note` and `norm_heading`), imported from its file (not
    copied)."""
    spec = importlib.util.spec_from_file_location("eval_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"bench: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the moment: what a person clicking "Watch" gets -----------------------------------------------

MOMENT_WINDOW_S = 60  # a first hit this close to the labelled section's moment, on its video, plays the same part


def label_moments(sections: Sections, queries: list[dict], score: ModuleType) -> list[dict]:
    """Each query's labelled section as the moment it links to: its note, heading, video and first
    timestamp (the first section of the note with that heading, as score.py compares headings)."""
    where: dict[tuple[str, str], int] = {}
    for i, (note, heading) in enumerate(zip(sections.notes, sections.headings, strict=True)):
        where.setdefault((score.norm_note(note), score.norm_heading(heading)), i)
    labels = []
    for query in queries:
        at = where.get((score.norm_note(query["note"]), score.norm_heading(query["heading"])))
        video, moment = (sections.videos[at], sections.moments[at]) if at is not None else (None, None)
        labels.append({"note": query["note"], "heading": query["heading"], "video": video, "timestamp": moment})
    return labels


def plays_the_moment(hit: dict, label: dict, score: ModuleType) -> bool:
    """Whether a hit links to the labelled section's video within MOMENT_WINDOW_S of its moment; for a
    labelled section without one, whether the hit is that section."""
    if label["video"] is None or label["timestamp"] is None:
        return score.norm_note(hit["note"]) == score.norm_note(label["note"]) and score.norm_heading(
            hit["heading"]
        ) == score.norm_heading(label["heading"])
    return (
        hit.get("video_id") == label["video"]
        and hit.get("timestamp") is not None
        and abs(hit["timestamp"] - label["timestamp"]) <= MOMENT_WINDOW_S
    )


def plays_the_video(hit: dict, label: dict, score: ModuleType) -> bool:
    """Whether a hit is on the labelled section's video (in its note, where that has no video)."""
    if label["video"] is None:
        return score.norm_note(hit["note"]) == score.norm_note(label["note"])
    return hit.get("video_id") == label["video"]


def moment_figures(queries: list[dict], results: list[dict], labels: list[dict], score: ModuleType) -> dict:
    """moment@1 and video@1, overall and per kind, as score.py's tables are keyed."""
    rows: dict[str, Counter] = {}
    for query, result, label in zip(queries, results, labels, strict=True):
        first = result["hits"][0] if result["hits"] else None
        for group in ("all", query.get("kind", "?")):
            counts = rows.setdefault(group, Counter())
            counts["n"] += 1
            counts["moment@1"] += first is not None and plays_the_moment(first, label, score)
            counts["video@1"] += first is not None and plays_the_video(first, label, score)
    return {
        group: {key: round(counts[key] / counts["n"], 3) for key in ("moment@1", "video@1")}
        for group, counts in rows.items()
    }


def quality_figures(queries: list[dict], results: list[dict], labels: list[dict], score: ModuleType) -> dict:
    """score.py's figures with moment@1 and video@1 beside them, overall and per kind."""
    figures = score.score(queries, results)
    for group, moments in moment_figures(queries, results, labels, score).items():
        figures[group] |= moments
    return figures


def misses(queries: list[dict], results: list[dict], score: Callable[[list[dict], list[dict]], dict]) -> list[dict]:
    """The queries whose labelled section is not first (as score.py judges), with the top three instead."""
    missed = []
    for query, result in zip(queries, results, strict=True):
        top = result["hits"][:3]
        if score([query], [result])["all"]["section_hit@1"] < 1:
            missed.append(
                {
                    "id": query["id"],
                    "kind": query["kind"],
                    "query": query["query"],
                    "want": [query["note"], query["heading"]],
                    "got": [[h["note"], h["heading"]] for h in top],
                }
            )
    return missed


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
        "?",
    )
    free = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.split("\n")
    memory = next((line.split()[1] for line in free if line.startswith("Mem:")), "?")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gb": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "engine_commit": engine_commit(REPO),
        "load_average": os.getloadavg()[0],  # other work on the machine skews the timings
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def engine_commit(repo: Path) -> str:
    """The commit the engine of `repo` is at, saying so if its working tree changes the engine."""

    def git(*arguments: str) -> str:
        run = subprocess.run(["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=False)
        return run.stdout.strip()

    dirty = git("status", "--porcelain", "--", ENGINE_DIR)
    return (git("rev-parse", "--short", "HEAD") or "?") + (" + uncommitted changes to the engine" if dirty else "")


def run_all(args: argparse.Namespace, command_line: str) -> dict:
    host = machine()  # first: the load average before the run says how busy the machine was
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.reuse_cache:
        shutil.rmtree(args.out / "cache", ignore_errors=True)  # a cold build starts from an empty cache
    figures = {name: run_worker(name, args) for name in ("build", "notesbot", "export", *ANCHORS)}
    figures["cli"] = run_cli(args)
    # a few hundred MB of copies, of no use once measured (the index cache stays, for the command line)
    sections_path(args.out).unlink()
    for anchor in ANCHORS:
        shutil.rmtree(args.out / f"{anchor}-index", ignore_errors=True)
    score = load_score(args.score)
    engine_results = {engine: read_jsonl(results_path(args.out, engine)) for engine in (*ENGINES, "cli")}
    labels = json.loads(labels_path(args.out).read_text(encoding="utf-8"))
    sets = {set_name(path): read_jsonl(path) for path in args.queries}
    quality, misses_by_set, start = {}, [], 0
    for name, queries in sets.items():
        part = slice(start, start + len(queries))
        quality[name] = {
            engine: quality_figures(queries, results[part], labels[part], score)
            for engine, results in engine_results.items()
        }
        misses_by_set += [{"set": name, **m} for m in misses(queries, engine_results["notesbot"][part], score.score)]
        start = part.stop
    if len(sets) > 1:
        every = [query for queries in sets.values() for query in queries]
        quality[BOTH] = {
            engine: quality_figures(every, results, labels, score) for engine, results in engine_results.items()
        }
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": host,
        "command": command_line,
        "corpus": shown(args.corpus),
        "queries": {name: shown(path) for name, path in zip(sets, args.queries, strict=True)},
        "score": shown(args.score),
        "out": shown(args.out),
        "repeat": args.repeat,
        "cold_build": not args.reuse_cache,
        "kinds": {name: _kind_counts(queries) for name, queries in sets.items()},
        "figures": figures,
        "quality": quality,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (args.out / "misses-notesbot.jsonl").write_text(
        "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses_by_set), encoding="utf-8"
    )
    return summary


def _kind_counts(queries: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(query.get("kind", "?") for query in queries).items()))


def shown(path: Path) -> str:
    """A path as the rerun command gives it: relative to the repository, where the command runs."""
    return os.path.relpath(path.resolve(), REPO)


# --- bench/RESULTS.md ------------------------------------------------------------------------------

QUALITY_TEXT = """{heading}

Run of {date} ({machine}). Every engine searches the same {sections:,} sections of {notes:,} notes
(`{corpus}`) for the queries of {sets}; the results are scored by the eval's own `score.py` (a hit is
the labelled note and heading) and by the moment they link to: **moment@1** counts a first hit on the
labelled section's video within {window} s of that section's first timestamp (what a person clicking
"Watch" gets; where the labelled section has no timestamp, only the section itself counts), **video@1**
a first hit on its video. Each engine's hits link to their section's first timestamp alike.
`queries-dev.jsonl` is the set the ranking is developed on; `queries-check.jsonl` only confirms.

- notesbot: `bot.engine.index_cache.load_vault` + `bot.engine.search.Searcher`, the first {limit} sections a query
  as `notesbot search --batch` lists them (`sections_found`: each hit, and the twin notes' sections it leads,
  in rank order).
- bm25s: one document per section (note title, heading path and heading, text), English stopwords,
  PyStemmer English stemming, default BM25; hits scoring 0 are dropped.
- tantivy: title, heading (path and heading) and body as three `en_stem` text fields, BM25, the query
  parsed as plain text over all three (special characters escaped; no fuzzy terms, so typos stay typos).

{table}

Through the real command line (`notesbot search --batch --limit {limit}`, then `score.py`): {cli}.
The queries notesbot does not answer first are in `{out}/misses-notesbot.jsonl`, with the top three it gave.

{rerun}
"""

SPEED_TEXT = """{heading}

Run of {date} ({machine}), same corpus and queries as above. Each engine is measured in a process of
its own, so peaks do not mix; peak memory is that process's `ru_maxrss`.

- cold build: notesbot's `load_vault` into an empty cache folder (parse every note in a pool of worker
  processes, index, write the cache); the anchors' build is tokenizing and indexing our sections, already
  in memory (no markdown parsing).
- warm start: a second process loading the index from that cache and building the `Searcher`.
- query latency: in process, warm: the {n} queries run once untimed, then {repeat} timed passes
  ({timed} timings), each from query text to the {limit} (note, heading) hits; p50 and p99 are nearest-rank
  percentiles (`bench/figures.py`).
- the real command line (`notesbot search --batch`, a new process on the warm cache, all {n} queries):
  {cli_s:.1f} s wall time.

| figure | notesbot | bm25s | tantivy | target | |
|---|---:|---:|---:|---|---|
| {build_kind}, s | {build[build_s]:.1f} | {bm25s[build_s]:.1f} | {tantivy[build_s]:.1f} | | |
| peak memory of the cold build, MB | {build[peak_mb]:,.0f} \
+ parse workers (largest {build[largest_child_peak_mb]:,.0f}) | | | < 1,000 | {build_peak_verdict} |
| warm start from the cache (load + searcher ready), s | {ours[warm_start_s]:.2f} | | | < {warm_target:.0f} \
| {warm_verdict} |
| query p50, ms | {ours[p50_ms]:.2f} | {bm25s[p50_ms]:.2f} | {tantivy[p50_ms]:.2f} \
| < bm25s and ≤ {p50_over:.1f} × tantivy ({p50_ceiling:.2f}) | {p50_verdict} |
| query p99, ms | {ours[p99_ms]:.2f} | {bm25s[p99_ms]:.2f} | {tantivy[p99_ms]:.2f} | < {p99_target:.0f} \
| {p99_verdict} |
| query max, ms | {ours[max_ms]:.2f} | {bm25s[max_ms]:.2f} | {tantivy[max_ms]:.2f} | | |
| peak memory, load + search (anchors: build + search), MB | {ours[peak_mb]:,.0f} | {bm25s[peak_mb]:,.0f} \
| {tantivy[peak_mb]:,.0f} | < 1,000 | {peak_verdict} |

{rerun}
"""


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def quality_table(quality: dict, kinds: list[str]) -> str:
    """One row per kind and metric: each engine's figure on each query set, the target and whether
    notesbot meets it (above both anchors on every set; the absolute floor on all sets together)."""
    sets = list(quality)
    head = " | ".join(f"{name} ({quality[name]['notesbot'][kinds[0]]['n']:.0f}): {e}" for name in sets for e in ENGINES)
    rows = [f"| kind | metric | {head} | target | |", "|---|---|" + "---:|" * len(sets) * len(ENGINES) + "---|---|"]
    for kind in kinds:
        for key, label in METRICS:
            present = [name for name in sets if kind in quality[name]["notesbot"]]
            floor = QUALITY_FLOORS.get((kind, key))
            whole = quality[sets[-1]]["notesbot"].get(kind, {}).get(key)
            met = all(
                quality[name]["notesbot"][kind][key] > max(quality[name][a][kind][key] for a in ANCHORS)
                for name in present
            ) and (floor is None or (whole is not None and whole >= floor))
            target = (f"≥ {floor:.2f} on {sets[-1]} and " if floor is not None else "") + "above both anchors"
            figures = " | ".join(
                f"{quality[name][e][kind][key]:.3f}" if name in present else "" for name in sets for e in ENGINES
            )
            rows.append(f"| {kind} | {label} | {figures} | {target} | {verdict(met)} |")
    return "\n".join(rows)


def quality_section(summary: dict) -> str:
    quality = summary["quality"]
    differing = [name for name, engines in quality.items() if engines["cli"] != engines["notesbot"]]
    kinds = dict.fromkeys(kind for counts in summary["kinds"].values() for kind in counts)
    sets = ", ".join(
        f'`{path}` ({sum(summary["kinds"][name].values())}, "{name}")' for name, path in summary["queries"].items()
    )
    return QUALITY_TEXT.format(
        heading=QUALITY_HEADING,
        sets=sets,
        window=MOMENT_WINDOW_S,
        table=quality_table(quality, ["all", *sorted(kinds)]),
        cli="the same figures as in process"
        if not differing
        else "**differs** from in process on " + ", ".join(differing),
        **_common(summary),
        **summary["figures"]["build"],
    )


def speed_section(summary: dict) -> str:
    figures = summary["figures"]
    build, ours, bm25s, tantivy = figures["build"], figures["notesbot"], figures["bm25s"], figures["tantivy"]
    p50_ceiling = P50_OVER_TANTIVY * tantivy["p50_ms"]
    return SPEED_TEXT.format(
        heading=SPEED_HEADING,
        n=sum(sum(counts.values()) for counts in summary["kinds"].values()),
        build_kind="cold build" if summary["cold_build"] else "build (**not cold**: run with --reuse-cache)",
        repeat=summary["repeat"],
        timed=ours["timed_queries"],
        cli_s=figures["cli"]["wall_s"],
        build=build,
        ours=ours,
        bm25s=bm25s,
        tantivy=tantivy,
        warm_target=WARM_START_TARGET_S,
        p99_target=P99_TARGET_MS,
        p50_ceiling=p50_ceiling,
        p50_over=P50_OVER_TANTIVY,
        build_peak_verdict=verdict(build["peak_mb"] + build["largest_child_peak_mb"] < PEAK_TARGET_MB),
        warm_verdict=verdict(ours["warm_start_s"] < WARM_START_TARGET_S),
        p50_verdict=verdict(ours["p50_ms"] < bm25s["p50_ms"] and ours["p50_ms"] <= p50_ceiling),
        p99_verdict=verdict(ours["p99_ms"] < P99_TARGET_MS),
        peak_verdict=verdict(ours["peak_mb"] < PEAK_TARGET_MB),
        **_common(summary),
    )


def _common(summary: dict) -> dict:
    """What both sections say: when, where, on what, and how to run it again."""
    m = summary["machine"]
    machine_line = (
        f"{m['nproc']} cores (`nproc`), {m['memory_gb']} GB RAM (`free -g`), {m['cpu']}, load average "
        f"{m['load_average']:.1f} before the run, Python {m['python']}, engine at commit {m['engine_commit']}"
    )
    out = summary["out"]
    rerun = (
        f"Rerun (rewrites this section and the other one of this run): `{summary['command']}`.\n"
        f"The same quality run through the command line: `NOTESBOT_CACHE_DIR={out}/cache .venv/bin/notesbot "
        f"search --batch --notes {summary['corpus']} --limit {LIMIT} < {out}/queries.txt > results.jsonl`, then "
        f"`python3 {summary['score']} QUERIES results.jsonl` with QUERIES each of "
        + ", ".join(f"`{path}`" for path in summary["queries"].values())
        + " (one after the other in `queries.txt`: split `results.jsonl` at the same lines)."
    )
    return {
        "date": summary["date"],
        "machine": machine_line,
        "corpus": summary["corpus"],
        "queries": summary["queries"],
        "out": out,
        "limit": LIMIT,
        "rerun": rerun,
    }


def replace_section(document: str, heading: str, body: str) -> str:
    """`document` with the section under `heading` (up to the next `## ` heading) replaced by `body`
    (which starts with that heading), or with `body` appended when there is no such section yet."""
    lines = document.splitlines()
    if heading not in lines:
        return document.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n"
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join([*lines[:start], *body.rstrip("\n").splitlines(), *tail]) + "\n"


def write_results(path: Path, summary: dict) -> None:
    document = path.read_text(encoding="utf-8") if path.exists() else RESULTS_INTRO
    document = replace_section(document, QUALITY_HEADING, quality_section(summary))
    document = replace_section(document, SPEED_HEADING, speed_section(summary))
    path.write_text(document, encoding="utf-8")


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "tubegraph", help="the vault to index")
    parser.add_argument(
        "--queries",
        type=Path,
        action="append",
        help='a set of labelled queries, one {"id", "note", "heading", "kind", "query"} a line; give it once per '
        "set (default: the eval's queries-dev.jsonl, then its queries-check.jsonl)",
    )
    parser.add_argument("--score", type=Path, help="the eval's score.py (default: beside --queries)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="raw figures, results and cache")
    parser.add_argument(
        "--results",
        type=Path,
        default=REPO / "bench" / "RESULTS.md",
        help="the file whose quality and speed sections are rewritten",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (default 3)")
    parser.add_argument(
        "--reuse-cache",
        action="store_true",
        help="keep the index cache of an earlier run (its build is then no cold build; for ranking work)",
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.queries = args.queries or [SHARED / "eval" / "queries-dev.jsonl", SHARED / "eval" / "queries-check.jsonl"]
    args.score = args.score or args.queries[0].parent / "score.py"
    for name, path in [("corpus", args.corpus), *(("queries", q) for q in args.queries), ("score", args.score)]:
        if not path.exists():
            parser.error(f"--{name}: nothing at {path}")
    if len({set_name(path) for path in args.queries}) < len(args.queries):
        parser.error("--queries: two sets of the same name")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    command_line = shlex.join([".venv/bin/python", "bench/engine.py", *run_options(args, shown)])
    summary = run_all(args, command_line)
    write_results(args.results, summary)
    print(
        json.dumps(
            {
                "quality": {name: {e: q[e]["all"] for e in ENGINES} for name, q in summary["quality"].items()},
                "figures": summary["figures"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
