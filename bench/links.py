"""Links and scopes on a vault: query latency in a channel's scope and over the whole vault, and how long the bot
takes to answer a message with five YouTube links.

    .venv/bin/python bench/links.py --corpus ../shared/corpus/tubegraph --cache bench/out/cache

- **queries**: each query of --queries (default the eval's dev queries) searched twice, unscoped and scoped
  to the folder of its labelled note (one channel of the corpus: a channel's corner of the vault), in
  process and warm: one untimed pass (which also builds each scope's section mask, as a channel's first
  question does), then --repeat timed passes (each query unscoped, then scoped right after); p50, p99 and
  max of the per-query times, from query text to ten hits as an answer searches
  (`bot.slack.answers.scoped_search`: `in:`/`tag:` read, the channel's scope applied, the query searched).
- **five links**: messages of five YouTube links each, to the labelled notes' videos at their labelled
  section's moment (plus 30 s), handed as `link_shared` events to the real Bolt app in process
  (`app.dispatch`, answer pool inline), whose `chat.unfurl` goes to the fake Slack Web API of
  tests/fake_slack.py on loopback: the time from the event to Slack's answer to `chat.unfurl`, per message.
  Also the engine's part alone (`link_previews`: reading the links, finding the sections, building the
  previews), and the first message after an index is loaded, which also builds the vault's table of videos.

The index is built by this checkout's code into --cache (reused by later runs). Prints the figures as JSON
and, with --markdown, as the table of bench/RESULTS.md's "Links and scopes" section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.figures import percentile  # noqa: E402  (the repo root is on the path only now)
from bot.config import load_settings  # noqa: E402
from bot.engine.index_cache import load_vault  # noqa: E402
from bot.engine.scope import Scope  # noqa: E402
from bot.engine.search import Searcher  # noqa: E402
from bot.engine.site import NoteSite  # noqa: E402
from bot.migrate import create_schema  # noqa: E402
from bot.slack.answers import Search, scoped_search  # noqa: E402
from bot.slack.app import create_app  # noqa: E402
from bot.slack.delivery import make_web_client  # noqa: E402
from bot.slack.deps import ListenerDeps  # noqa: E402
from bot.slack.unfurls import link_previews  # noqa: E402
from bot.storage import make_engine  # noqa: E402
from tests.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.slack.dispatch import NOW, BoltDispatcher, InlineExecutor  # noqa: E402
from tests.slack_sender import SIGNING_SECRET  # noqa: E402

LINKS_PER_MESSAGE = 5
LIMIT = 10  # hits per query, as bench/engine.py times them
SITE = NoteSite("https://notes.example.com")  # previews then also build "Read the note" links
MOMENT_OFFSET = 30  # seconds after the labelled section starts: a link into the middle of it


def main() -> int:
    args = _arguments()
    labels = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    searcher = Searcher(load_vault(args.corpus, args.cache).index)
    figures: dict[str, Any] = {
        "machine": _machine(),
        "notes": searcher.index.note_count,
        "sections": searcher.index.section_count,
        "load_seconds": round(time.perf_counter() - started, 2),
    }
    figures |= query_latency(searcher, labels, args.repeat)
    figures |= five_link_messages(searcher, labels, args)
    print(json.dumps(figures, indent=2))
    if args.markdown:
        print(markdown(figures))
    return 0


def query_latency(searcher: Searcher, labels: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    """p50/p99/max of each query unscoped and scoped to its labelled note's top folder, warm."""
    cases = [(label["query"], Scope(folders=(label["note"].split("/")[0],))) for label in labels]
    runs: dict[str, Callable[[str, Scope], Search]] = {
        "unscoped": lambda query, _scope: scoped_search(searcher, query, LIMIT, None),
        "scoped": lambda query, scope: scoped_search(searcher, query, LIMIT, scope),
    }
    figures: dict[str, Any] = {"queries": len(cases), "timed_passes": repeat}
    times: dict[str, list[float]] = {name: [] for name in runs}
    # An untimed pass first (each scope's mask built, as by a channel's first question), then the timed ones; each
    # query unscoped then scoped right after, so that a busy moment of a shared machine weighs on both alike.
    for timed in [False] + [True] * repeat:
        for query, scope in cases:
            for name, run in runs.items():
                began = time.perf_counter()
                run(query, scope)
                if timed:
                    times[name].append((time.perf_counter() - began) * 1000)
    figures |= {f"{name}_ms": _spread(taken) for name, taken in times.items()}
    inside = sum(
        all(hit.note.startswith(scope.folders[0] + "/") for hit in scoped_search(searcher, query, LIMIT, scope).hits)
        for query, scope in cases
    )
    figures["scoped_queries_with_every_hit_in_scope"] = inside
    return figures


def link_messages(searcher: Searcher, labels: list[dict[str, Any]]) -> list[list[str]]:
    """Messages of five links each: the labelled notes' videos, at their labelled section's moment + 30 s."""
    index = searcher.index
    section_of = {
        (index.note_paths[int(index.section_note[i])], index.section_headings[i]): i for i in range(index.section_count)
    }
    urls = []
    for label in labels:
        section = section_of.get((label["note"], label["heading"]))
        if section is None:
            continue
        video = index.note_videos[int(index.section_note[section])]
        moment = max(int(index.section_first_ts[section]), 0) + MOMENT_OFFSET
        if video:
            urls.append(f"https://www.youtube.com/watch?v={video}&t={moment}s")
    return [urls[i : i + LINKS_PER_MESSAGE] for i in range(0, len(urls) - LINKS_PER_MESSAGE + 1, LINKS_PER_MESSAGE)]


def five_link_messages(searcher: Searcher, labels: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    messages = link_messages(searcher, labels)
    began = time.perf_counter()
    link_previews(searcher, messages[0], None, SITE)  # the first links after a load: the video table is built
    first_use = (time.perf_counter() - began) * 1000
    engine_times = []
    for urls in messages * args.repeat:
        began = time.perf_counter()
        link_previews(searcher, urls, None, SITE)
        engine_times.append((time.perf_counter() - began) * 1000)
    with tempfile.TemporaryDirectory(prefix="notesbot-links-") as scratch, FakeSlack() as fake:
        slack = _bolt_app(searcher, fake, Path(scratch))
        answer_times = []
        for urls in messages * args.repeat:
            event = fake.links_shared(urls)
            began = time.perf_counter()
            slack.event(event)  # returns once the listener's work (search, chat.unfurl) is done
            answer_times.append((time.perf_counter() - began) * 1000)
        unfurls = fake.calls_to("chat.unfurl", answered_ok=True)
        if fake.violations:
            raise SystemExit(f"the fake Slack refused what the bot sent: {fake.violations[:3]}")
    previewed = sum(len(call.body["unfurls"]) for call in unfurls)
    return {
        "messages": len(messages) * args.repeat,
        "links_previewed": f"{previewed} of {len(messages) * args.repeat * LINKS_PER_MESSAGE}",
        "first_message_after_load_engine_ms": round(first_use, 2),
        "five_links_engine_ms": _spread(engine_times),
        "five_links_event_to_unfurl_ms": _spread(answer_times),
    }


def _bolt_app(searcher: Searcher, fake: FakeSlack, scratch: Path) -> BoltDispatcher:
    """The real Bolt app over `searcher`, its Web API the fake Slack, its answer pool inline."""
    settings = load_settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.base_url,
        database_url=f"sqlite:///{scratch / 'bench.sqlite3'}",
        notes_site_url=SITE.base_url,
    )
    engine = make_engine(settings.database_url)
    create_schema(engine)
    deps = ListenerDeps(lambda: searcher, engine, lambda: NOW, InlineExecutor(), site=settings.note_site)
    return BoltDispatcher(create_app(settings, make_web_client(settings), deps), fake)


def _spread(times: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(times, 50), 3),
        "p99": round(percentile(times, 99), 3),
        "max": round(max(times), 3),
        "count": len(times),
    }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f} before"


def markdown(figures: dict[str, Any]) -> str:
    rows = [
        ("query, unscoped", figures["unscoped_ms"]),
        ("query, scoped to one channel's folder", figures["scoped_ms"]),
        ("five links: lookup and previews (engine)", figures["five_links_engine_ms"]),
        ("five links: event to chat.unfurl answered (Bolt + fake Slack)", figures["five_links_event_to_unfurl_ms"]),
    ]
    lines = ["| figure | p50, ms | p99, ms | max, ms | samples |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {s['p50']:.2f} | {s['p99']:.2f} | {s['max']:.2f} | {s['count']} |" for name, s in rows]
    return "\n".join(lines)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--queries", type=Path, default=REPO.parent / "shared" / "eval" / "queries-dev.jsonl")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--markdown", action="store_true", help="also print the RESULTS.md table")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(main())
