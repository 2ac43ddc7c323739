"""Mixed load against two `notesbot serve` replicas on the whole corpus, with one of them stopped half way.

Starts two real servers (`python -m bot serve`, HTTP) on the shared corpus, sharing a fresh PostgreSQL
database (127.0.0.1:5432) and the index cache, with SLACK_API_URL pointing at the fake Slack Web API of
tests/fake_slack.py. Then, for `--seconds`, `--workers` clients send signed requests round robin to the
replicas: `/notes` slash commands, @mentions (Events API) and button presses (Next match, 👍), with the
queries of the eval set, each client sending its next request once the answer to the last one arrived (as a
person asks), so that the load follows what the replicas answer rather than how fast they acknowledge. Half way
through, one replica stops (`--fault`): SIGKILL, as a crash or an OOM kill; or SIGTERM, as a deploy. A request a
replica does not take (connection refused, or 503 while it stops) is sent, the same bytes, to the other one, as
the load balancer (deploy/nginx.conf) does.

Measures answers per second, the latency from sending a request to its answer reaching the fake Slack (p50, p99),
errors (requests no replica took), and the counts of requests acknowledged, answered, answered twice (in threads,
where everyone sees it; privately, where only an answer to a stopped replica's question whose post was cut short may
be, and is logged as answered again) and lost (acknowledged, never answered), the time the last answer of the
stopped replica's questions took after the fault, and the memory of each replica. `--slack-ms` makes each post to
Slack take that long, as a round trip to Slack does.

    NOTESBOT_CACHE_DIR=/tmp/notesbot-bench-cache .venv/bin/python bench/load.py --fault sigkill

The first run builds the index cache (minutes); later runs start from it. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
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
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.figures import percentile  # noqa: E402  (repo root is on the path now)
from bot.slack.durable import FOUND, NOT_FOUND, REPEATED  # noqa: E402
from bot.slack.messages import HELPFUL_ACTION, NEXT_ACTION, result_value  # noqa: E402
from bot.storage import make_engine, pending_answers  # noqa: E402
from tests.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.postgres import fresh_database  # noqa: E402
from tests.replicas import Replica  # noqa: E402
from tests.slack_sender import SIGNING_SECRET, SlackSender  # noqa: E402

MIX = {"slash_command": 0.5, "mention": 0.3, "button": 0.2}
SETTLE = 45.0  # seconds to wait after the load for the answers still due (a crashed replica's: some 10 s later)
PATIENCE = 40.0  # seconds a client waits for an answer before it asks its next question anyway
WARM_UP = 10  # answers from each replica before the clock starts
FORM = "application/x-www-form-urlencoded"


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
            self._lock.notify_all()
        return answered

    def wait_for_answer(self, key: str, timeout: float) -> bool:
        """Whether an answer arrived at `key` within `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: key in self.arrivals, max(0.0, timeout))


@dataclass
class Sent:
    kind: str
    key: str  # where its answer shows up in TimedFakeSlack.arrivals
    at: float
    replica: str = ""  # the replica that acknowledged it
    failed_over: bool = False
    error: str | None = None  # why no replica acknowledged it


@dataclass
class Load:
    replicas: list[Replica]
    fake: TimedFakeSlack
    queries: list[str]
    sent: list[Sent] = field(default_factory=list)
    dead: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    turn: int = 0
    senders: dict[str, SlackSender] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.senders = {replica.name: SlackSender(replica.url, self.fake) for replica in self.replicas}

    def next_replicas(self) -> list[Replica]:
        """The live replicas, starting with the next one in turn."""
        with self.lock:
            self.turn += 1
            alive = [r for r in self.replicas if r.name not in self.dead]
        return alive[self.turn % len(alive) :] + alive[: self.turn % len(alive)] if alive else []

    def one_request(self, rng: random.Random, ids: Counter, deadline: float) -> None:
        """Send one request (to the next replica, then the other if it is not taken) and wait for its answer, but
        not past `deadline` (the end of the run)."""
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        with self.lock:
            ids["n"] += 1
            number = ids["n"]
        key, body, content_type = self._request(kind, rng.choice(self.queries), number)
        record = Sent(kind, key, time.perf_counter())
        for attempt, replica in enumerate(self.next_replicas()):
            try:  # the same bytes to each replica in turn, as a load balancer re-sends a request
                response = self.senders[replica.name].post(body, content_type)
            except httpx.TransportError as error:
                record.error = f"{type(error).__name__} from {replica.name}"
                if replica.process.poll() is not None:
                    with self.lock:
                        self.dead.add(replica.name)
                continue
            if response.status_code == 503:  # stopping: not taken, try the other one
                record.error = f"HTTP 503 from {replica.name}"
                continue
            record.replica, record.failed_over = replica.name, attempt > 0
            record.error = None if response.status_code == 200 else f"HTTP {response.status_code}"
            break
        with self.lock:
            self.sent.append(record)
        if record.error is None:  # as a person does: the next question once this one is answered (or given up on)
            self.fake.wait_for_answer(record.key, min(PATIENCE, deadline - time.perf_counter()))

    def _request(self, kind: str, query: str, number: int) -> tuple[str, str, str]:
        """Where its answer will show, the body and its content type."""
        sender = next(iter(self.senders.values()))  # any: they build the same bodies
        if kind == "mention":
            ts = f"{1_800_000_000 + number}.000100"
            event = sender.message_event(f"<@UBOT0001> {query}", type="app_mention", ts=ts, event_ts=ts)
            self.fake.add_thread(event["channel"], ts, [event])  # where a replica taking over looks for its reply
            return f"thread:{ts}", sender.event_body(event, event_id=f"EvLOAD{number:08d}"), "application/json"
        response_url = self.fake.response_url()
        if kind == "slash_command":
            return urlparse_path(response_url), sender.command_body(query, response_url=response_url), FORM
        action = NEXT_ACTION if number % 2 else HELPFUL_ACTION
        return urlparse_path(response_url), sender.action_body(action, result_value(query, 0), response_url), FORM


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
        for method in ("response_url", "chat.postMessage"):
            fake.slow_down(method, args.slack_ms / 1000)
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
            report = _run(args, replicas, fake, queries, database_url)
        finally:
            for replica in replicas:
                replica.stop()
        logs = [replica.log() for replica in replicas]
        unknown = "not posted again, since it may have arrived"
        report["unknown_outcomes_logged"] = sum(log.count(unknown) for log in logs)
        report["replies_found_after_a_stop"] = sum(log.count(FOUND) for log in logs)
        report["replies_posted_again_after_a_stop"] = sum(log.count(NOT_FOUND) for log in logs)
        report["private_answers_repeated_after_a_stop"] = sum(log.count(REPEATED) for log in logs)
        report["repeated_by_work"] = dict(Counter(_REPEATED_WORK.findall("".join(logs))))
    print(json.dumps(report, indent=2))
    unexplained = report["answered_twice"] - report["private_answers_repeated_after_a_stop"]
    doubled = report["answered_twice_in_threads"] + max(unexplained, 0)
    return 0 if report["errors"] == 0 and doubled == 0 and report["lost_otherwise"] == 0 else 1


# The survivor's log line for each answer repeated: "answer 12 (slash_command): <REPEATED>; answering it again"
_REPEATED_WORK = re.compile(r"answer \d+ \(([\w.]+)\): " + re.escape(REPEATED))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--queries", type=Path, default=REPO.parent / "shared" / "eval" / "queries-dev.jsonl")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=8, help="clients sending at once")
    parser.add_argument("--fault", choices=["sigkill", "sigterm"], default="sigkill", help="how a replica stops")
    parser.add_argument("--fault-at", type=float, default=0.5, help="fraction of the run when a replica stops")
    parser.add_argument("--slack-ms", type=float, default=0, help="milliseconds each post to Slack takes")
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


def _run(
    args: argparse.Namespace, replicas: list[Replica], fake: TimedFakeSlack, queries: list[str], database_url: str
) -> dict:
    _warm_up(replicas, fake, queries)
    load = Load(replicas, fake, queries)
    ids: Counter = Counter()
    start = time.perf_counter()
    deadline = start + args.seconds
    fault_at = start + args.seconds * args.fault_at
    victim = replicas[-1]
    memory: dict[str, dict[str, float]] = {}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            load.one_request(rng, ids, deadline)

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        for seed in range(args.workers):
            pool.submit(client, seed)
        while time.perf_counter() < fault_at:
            time.sleep(0.2)
        memory[victim.name] = victim.memory_mb()
        stopped = time.perf_counter()
        if args.fault == "sigkill":
            victim.kill()
        else:
            victim.terminate()
        print(f"{victim.name} sent {args.fault.upper()} at {stopped - start:.1f} s", file=sys.stderr)
    for replica in replicas:
        if replica is not victim:
            memory[replica.name] = replica.memory_mb()
    exit_code = victim.exit_code(timeout=60)
    _wait_for_answers(load)
    return _report(args, load, memory, start, stopped, victim, exit_code) | _losses(load, database_url)


def _losses(load: Load, database_url: str) -> dict[str, int]:
    """The questions acknowledged and never answered, split by why: a post attempted by the stopped replica, whose
    outcome is unknown (the survivor does not post it again, and logs it: a post to Slack has no idempotency key),
    or anything else (none is the target)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            bodies = connection.execute(
                select(pending_answers.c.body).where(pending_answers.c.status == "unknown")
            ).scalars()
            unknown = {_answer_key(json.loads(body)) for body in bodies}
    finally:
        engine.dispose()
    lost = {s.key for s in load.sent if s.error is None and s.key not in load.fake.arrivals}
    return {"lost_after_an_unknown_outcome": len(lost & unknown), "lost_otherwise": len(lost - unknown)}


def _answer_key(body: dict[str, Any]) -> str:
    """Where the answer to a stored payload shows up in TimedFakeSlack.arrivals."""
    if "response_url" in body:
        return urlparse_path(body["response_url"])
    event = body.get("event") or {}
    return f"thread:{event.get('thread_ts') or event.get('ts')}"


def _wait_for_answers(load: Load) -> None:
    """Until every acknowledged request is answered, or SETTLE seconds passed."""
    deadline = time.perf_counter() + SETTLE
    while time.perf_counter() < deadline:
        if all(s.key in load.fake.arrivals for s in load.sent if s.error is None):
            return
        time.sleep(0.2)


def _latencies(load: Load, answered: list[Sent]) -> list[float]:
    """Milliseconds from sending each request to its (first) answer reaching Slack, sorted."""
    return sorted((load.fake.arrivals[s.key][0] - s.at) * 1000 for s in answered)


def _report(
    args: argparse.Namespace, load: Load, memory: dict, start: float, stopped: float, victim: Replica, exit_code: int
) -> dict:
    acked = [s for s in load.sent if s.error is None]
    answered = [s for s in acked if s.key in load.fake.arrivals]
    during = [s for s in answered if load.fake.arrivals[s.key][0] <= start + args.seconds]
    latency = _latencies(load, answered)
    twice = [s for s in answered if len(load.fake.arrivals[s.key]) > 1]
    lost = [s for s in acked if s.key not in load.fake.arrivals]
    victims = [s for s in answered if s.replica == victim.name]
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
        "slack_ms": args.slack_ms,
        "fault": f"{victim.name} {args.fault.upper()} at {stopped - start:.1f} s, exit code {exit_code}",
        "requests": len(load.sent),
        "acknowledged": len(acked),
        "answered": len(answered),
        "answered_twice": len(twice),
        "answered_twice_in_threads": sum(s.kind == "mention" for s in twice),  # public: none is the target
        "lost": len(lost),
        "lost_of_the_stopped_replica": sum(s.replica == victim.name for s in lost),
        "errors": len(load.sent) - len(acked),
        "error_examples": sorted({s.error for s in load.sent if s.error})[:5],
        "failed_over": sum(s.failed_over for s in acked),
        "answers_per_second": round(len(during) / args.seconds, 1),
        "latency_ms": {"p50": _percentile(latency, 50), "p99": _percentile(latency, 99), "max": round(latency[-1], 1)},
        "by_kind": by_kind,
        "latency_ms_before_and_after_the_fault": {
            phase: {"p50": _percentile(values, 50), "p99": _percentile(values, 99)}
            for phase, values in (
                ("before", _latencies(load, [s for s in answered if s.at < stopped])),
                ("after", _latencies(load, [s for s in answered if s.at >= stopped])),
            )
        },
        "last_answer_of_the_stopped_replica_s_after_the_fault": round(
            max((load.fake.arrivals[s.key][0] - stopped for s in victims), default=0.0), 1
        ),
        "apologies": sum(t.startswith("Sorry") for t in texts),
        "memory_mb": {name: {k: round(v) for k, v in m.items()} for name, m in sorted(memory.items())},
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
    }


def _percentile(values: list[float], q: float) -> float | None:
    """`percentile`, in the report's 0.1 ms, or None where nothing was answered (a kind, a phase)."""
    return round(percentile(values, q), 1) if values else None


if __name__ == "__main__":
    raise SystemExit(main())
