"""How fast `notesbot serve` acknowledges slash commands, and how many it answers per second.

Starts the real server (`python -m bot serve`, HTTP under uvicorn) on the whole corpus, with
SLACK_API_URL pointing at the fake Slack Web API of tests/fake_slack.py, then sends it signed `/notes`
commands, `--concurrency` at a time, with queries from the eval set. Measures, per command, the time
until the HTTP acknowledgement (what Slack waits for, 3 s at most), and the time until all answers
reached their response_url.

    NOTESBOT_CACHE_DIR=/tmp/notesbot-bench-cache .venv/bin/python bench/slack_ack.py

The first run builds the index (minutes); later runs start warm from the cache. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle, islice
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.figures import percentile  # noqa: E402  (the repo root is on the path only now)
from tests.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.slack_sender import SIGNING_SECRET, SlackSender, free_port  # noqa: E402

ACK_DEADLINE = 3.0  # Slack shows the user an error past this
WARM_UP = 10


def main() -> int:
    args = _arguments()
    queries = _queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="notesbot-bench-") as scratch, FakeSlack() as fake:
        port = free_port()
        log_path = Path(scratch) / "server.log"
        started = time.perf_counter()
        server = _start_server(args, fake, port, Path(scratch), log_path)
        try:
            _wait_healthy(port, server, log_path, timeout=args.start_timeout)
            startup = time.perf_counter() - started
            sender = SlackSender(f"http://127.0.0.1:{port}", fake)
            _run(sender, fake, queries[:WARM_UP], args.concurrency)
            answered_before = len(fake.calls_to("response_url", answered_ok=True))
            commands = list(islice(cycle(queries), args.commands))
            acks, elapsed = _run(sender, fake, commands, args.concurrency, answered_before)
        finally:
            server.terminate()
            server.wait(timeout=30)
        answers = fake.calls_to("response_url", answered_ok=True)[answered_before:]
    _report(args, startup, acks, elapsed, answers)
    return 0 if max(acks) < ACK_DEADLINE else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--queries", type=Path, default=REPO.parent / "shared" / "eval" / "queries-dev.jsonl")
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--start-timeout", type=float, default=1800, help="seconds to wait for a cold start")
    return parser.parse_args()


def _queries(path: Path) -> list[str]:
    return [json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _start_server(
    args: argparse.Namespace, fake: FakeSlack, port: int, scratch: Path, log_path: Path
) -> subprocess.Popen:
    env = os.environ | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "NOTES_DIR": str(args.notes),
        "NOTESBOT_CACHE_DIR": os.environ.get("NOTESBOT_CACHE_DIR", "/tmp/notesbot-bench-cache"),
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DIGEST_CHANNEL"):
        env.pop(name, None)  # HTTP mode, one workspace, no digest: only the slash command path is measured
    with log_path.open("w") as log:
        return subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=log, stderr=log)


def _wait_healthy(port: int, server: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not start within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def _run(
    sender: SlackSender, fake: FakeSlack, queries: list[str], concurrency: int, answered_before: int = 0
) -> tuple[list[float], float]:
    """Send one command per query, `concurrency` at a time; the ack latencies and the time to all answers."""

    def send(query: str) -> float:
        start = time.perf_counter()
        response = sender.command(query)
        latency = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"command refused: HTTP {response.status_code} {response.text[:200]}")
        return latency

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        acks = list(pool.map(send, queries))
    fake.wait_for("response_url", count=answered_before + len(queries), timeout=120)
    return acks, time.perf_counter() - start


def _report(args: argparse.Namespace, startup: float, acks: list[float], elapsed: float, answers: list) -> None:
    ms = [a * 1000 for a in acks]
    texts = [a.body.get("text", "") for a in answers]
    found = sum(not t.startswith(("Nothing found", "Sorry")) for t in texts)
    apologies = sum(t.startswith("Sorry") for t in texts)
    print(
        json.dumps(
            {
                "commands": len(acks),
                "concurrency": args.concurrency,
                "ack_ms": {
                    **{f"p{q}": round(percentile(ms, q), 1) for q in (50, 90, 99)},
                    "max": round(max(ms), 1),
                },
                "acked_within_3s": sum(a < ACK_DEADLINE for a in acks),
                "answers_per_second": round(len(answers) / elapsed, 1),
                "answers": {
                    "with_a_hit": found,
                    "nothing_found": len(texts) - found - apologies,
                    "apologies": apologies,
                },
                "server_start_s": round(startup, 1),
                "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                f"Python {platform.python_version()}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
