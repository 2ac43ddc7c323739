"""Mixed load against two `notesbot serve` replicas on the whole corpus, with one replica killed half way.

Starts two real servers (`python -m bot serve`, HTTP) on the shared corpus, sharing a fresh PostgreSQL
database (127.0.0.1:5432) and the index cache, with SLACK_API_URL pointing at the fake Slack Web API of
tests/fake_slack.py. Then, for `--seconds`, `--workers` clients send signed requests round robin to the
replicas: `/notes` slash commands, @mentions (Events API) and button presses (Next match, 👍), with the
queries of the eval set. Half way through, one replica is killed with SIGKILL; a request it cannot take
is sent to the other one, as a load balancer would.

Measures answers per second, the latency from sending a request to its answer reaching the fake Slack
(p50, p99), errors (requests no replica took), answers lost (taken by the killed replica, never answered),
answers given twice, and the memory of each replica.

    NOTESBOT_CACHE_DIR=/tmp/notesbot-bench-cache .venv/bin/python bench/load.py

The first run builds the index cache (minutes); later runs start from it. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.figures import percentile  # noqa: E402  (repo root is on the path now)
from bot.slack.messages import HELPFUL_ACTION, NEXT_ACTION, result_value  # noqa: E402
from tests.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.postgres import fresh_database  # noqa: E402
from tests.replicas import Replica  # noqa: E402
from tests.slack_sender import SIGNING_SECRET, SlackSender  # noqa: E402

MIX = {"slash_command": 0.5, "mention": 0.3, "button": 0.2}
STRAGGLERS = 10.0  # seconds to wait after the load for answers still on their way
WARM_UP = 10  # answers from each replica before the clock starts


class TimedFakeSlack(FakeSlack):
    """The fake Web API, noting when each answer arrives: by response_url path, or by thread of a post."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[str, list[float]] = {}

    def _answer(self, kind: str, method: str, path: str, body: dict, headers: dict) -> tuple[int, dict, Any]:
        answered = super()._answer(kind, method, path, body, headers)
        key = path if kind == "response_url" else f"thread:{body.get('thread_ts')}"
        with self._lock:
            self.arrivals.setdefault(key, []).append(time.perf_counter())
        return answered


@dataclass
class Sent:
    kind: str
    key: str  # where its answer shows up in TimedFakeSlack.arrivals
    at: float
    replica: str
    failed_over: bool = False
    error: str | None = None


@dataclass
class Load:
    replicas: list[Replica]
    fake: TimedFakeSlack
    queries: list[str]
    sent: list[Sent] = field(default_factory=list)
    dead: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    turn: int = 0

    def next_replicas(self) -> list[Replica]:
        """The live replicas, starting with the next one in turn."""
        with self.lock:
            self.turn += 1
            alive = [r for r in self.replicas if r.name not in self.dead]
        return alive[self.turn % len(alive) :] + alive[: self.turn % len(alive)] if alive else []

    def one_request(self, rng: random.Random, ids: Counter) -> None:
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        query = rng.choice(self.queries)
        response_url = self.fake.response_url()
        with self.lock:
            ids["n"] += 1
            number = ids["n"]
        if kind == "mention":
            ts = f"{1_800_000_000 + number}.000100"
            key = f"thread:{ts}"
        else:
            key = urlparse_path(response_url)
        record = Sent(kind, key, time.perf_counter(), "")
        for attempt, replica in enumerate(self.next_replicas()):
            sender = SlackSender(replica.url, self.fake)
            try:
                response = self._send(sender, kind, query, response_url, number)
            except httpx.TransportError as error:
                record.error = f"{type(error).__name__} from {replica.name}"
                if replica.process.poll() is not None:
                    with self.lock:
                        self.dead.add(replica.name)
                continue
            record.replica, record.failed_over = replica.name, attempt > 0
            record.error = None if response.status_code == 200 else f"HTTP {response.status_code}"
            break
        with self.lock:
            self.sent.append(record)

    @staticmethod
    def _send(sender: SlackSender, kind: str, query: str, response_url: str, number: int) -> httpx.Response:
        if kind == "slash_command":
            body = sender.command_body(query, response_url=response_url)
            return sender.post(body, "application/x-www-form-urlencoded")
        if kind == "mention":
            ts = f"{1_800_000_000 + number}.000100"
            event = sender.message_event(f"<@UBOT0001> {query}", type="app_mention", ts=ts, event_ts=ts)
            return sender.event(event, event_id=f"EvLOAD{number:08d}")
        action = NEXT_ACTION if number % 2 else HELPFUL_ACTION
        return sender.action(action, result_value(query, 0), response_url=response_url)


def urlparse_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def main() -> int:
    args = _arguments()
    queries = [json.loads(line)["query"] for line in args.queries.read_text().splitlines() if line.strip()]
    cache = os.environ.get("NOTESBOT_CACHE_DIR", "/tmp/notesbot-bench-cache")
    with (
        tempfile.TemporaryDirectory(prefix="notesbot-load-") as scratch,
        TimedFakeSlack() as fake,
        fresh_database() as database_url,
    ):
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "NOTES_DIR": str(args.notes),
            "NOTESBOT_CACHE_DIR": cache,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
        }
        replicas = _start(settings, Path(scratch), args.start_timeout)
        try:
            report = _run(args, replicas, fake, queries)
        finally:
            for replica in replicas:
                replica.stop()
    print(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 and report["answered_twice"] == 0 else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--queries", type=Path, default=REPO.parent / "shared" / "eval" / "queries-dev.jsonl")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=8, help="clients sending at once")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the run when a replica dies")
    parser.add_argument("--start-timeout", type=float, default=1800, help="seconds to wait for a cold start")
    return parser.parse_args()


def _start(settings: dict[str, str], scratch: Path, timeout: float) -> list[Replica]:
    """The first replica builds the index cache if it is cold; the second then starts from it."""
    replicas = []
    for name in ("replica-1", "replica-2"):
        started = time.perf_counter()
        replica = Replica(name, settings, scratch / f"{name}.log")
        replicas.append(replica)
        replica.wait_ready(timeout)
        print(f"{name} ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return replicas


def _warm_up(replicas: list[Replica], fake: TimedFakeSlack, queries: list[str]) -> None:
    """A few answers from each replica first (as slack_ack.py does): the first searches of a process are slow."""
    for replica in replicas:
        sender = SlackSender(replica.url, fake)
        before = len(fake.calls_to("response_url"))
        for query in queries[:WARM_UP]:
            sender.command(query)
        fake.wait_for("response_url", count=before + WARM_UP, timeout=60)


def _run(args: argparse.Namespace, replicas: list[Replica], fake: TimedFakeSlack, queries: list[str]) -> dict:
    _warm_up(replicas, fake, queries)
    load = Load(replicas, fake, queries)
    ids: Counter = Counter()
    start = time.perf_counter()
    deadline = start + args.seconds
    kill_at = start + args.seconds * args.kill_at
    victim = replicas[-1]
    memory: dict[str, dict[str, float]] = {}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            load.one_request(rng, ids)

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        for seed in range(args.workers):
            pool.submit(client, seed)
        while time.perf_counter() < kill_at:
            time.sleep(0.2)
        memory[victim.name] = victim.memory_mb()
        victim.kill()
        killed = time.perf_counter() - start
        print(f"{victim.name} killed at {killed:.1f} s", file=sys.stderr)
    for replica in replicas:
        if replica is not victim:
            memory[replica.name] = replica.memory_mb()
    _wait_for_answers(load, victim.name)
    return _report(args, load, memory, start, start + killed, victim.name)


def _wait_for_answers(load: Load, victim: str) -> None:
    """Until every request a surviving replica took is answered (or STRAGGLERS seconds passed)."""
    deadline = time.perf_counter() + STRAGGLERS
    while time.perf_counter() < deadline:
        if all(s.key in load.fake.arrivals for s in load.sent if s.error is None and s.replica != victim):
            return
        time.sleep(0.2)


def _latencies(load: Load, answered: list[Sent]) -> list[float]:
    """Milliseconds from sending each request to its (first) answer reaching Slack, sorted."""
    return sorted((load.fake.arrivals[s.key][0] - s.at) * 1000 for s in answered)


def _report(args: argparse.Namespace, load: Load, memory: dict, start: float, killed: float, victim: str) -> dict:
    taken = [s for s in load.sent if s.error is None]
    answered = [s for s in taken if s.key in load.fake.arrivals]
    latency = _latencies(load, answered)
    twice = [s for s in answered if len(load.fake.arrivals[s.key]) > 1]
    lost = [s for s in taken if s.key not in load.fake.arrivals]
    texts = [c.body.get("text", "") for c in load.fake.calls if c.status == 200]
    by_kind = {}
    for kind in MIX:
        of_kind = _latencies(load, [s for s in answered if s.kind == kind])
        by_kind[kind] = {
            "sent": sum(s.kind == kind for s in load.sent),
            "answered": len(of_kind),
            "p50_ms": _percentile(of_kind, 50),
            "p99_ms": _percentile(of_kind, 99),
        }
    return {
        "seconds": args.seconds,
        "workers": args.workers,
        "requests": len(load.sent),
        "answered": len(answered),
        "answers_per_second": round(len(answered) / args.seconds, 1),
        "latency_ms": {"p50": _percentile(latency, 50), "p99": _percentile(latency, 99), "max": round(latency[-1], 1)},
        "by_kind": by_kind,
        "errors": len(load.sent) - len(taken),
        "error_examples": sorted({s.error for s in load.sent if s.error})[:5],
        "latency_ms_before_and_after_the_kill": {
            phase: {"p50": _percentile(values, 50), "p99": _percentile(values, 99)}
            for phase, values in (
                ("before", _latencies(load, [s for s in answered if s.at < killed])),
                ("after", _latencies(load, [s for s in answered if s.at >= killed])),
            )
        },
        "failed_over": sum(s.failed_over for s in taken),
        "lost_with_the_killed_replica": sum(s.replica == victim for s in lost),
        "lost_otherwise": sum(s.replica != victim for s in lost),
        "answered_twice": len(twice),
        "apologies": sum(t.startswith("Sorry") for t in texts),
        "killed": f"{victim} (SIGKILL) at {killed - start:.1f} s",
        "memory_mb": {name: {k: round(v) for k, v in m.items()} for name, m in sorted(memory.items())},
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
    }


def _percentile(values: list[float], q: float) -> float | None:
    """`percentile`, in the report's 0.1 ms, or None where nothing was answered (a kind, a phase)."""
    return round(percentile(values, q), 1) if values else None


if __name__ == "__main__":
    raise SystemExit(main())
