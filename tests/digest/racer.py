"""One bot process firing the digest job, for the race tests (run in fresh OS processes with spawn)."""

from __future__ import annotations

from datetime import datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from slack_sdk import WebClient

from bot.digest.poster import DigestPoster
from bot.digest.scheduler import DigestSchedule, run_due
from bot.engine.index_cache import load_vault
from bot.storage import make_engine


def fire_digest_job(
    database_url: str, vault: str, slack_url: str, token: str, now: datetime, barrier: Barrier, results: Queue
) -> None:
    """Start up like a replica (database, vault, Slack client), wait for the others, then run the job."""
    engine = make_engine(database_url)
    client = WebClient(token=token, base_url=slack_url)
    index = load_vault(Path(vault), None).index
    poster = DigestPoster(engine, lambda _team: client, lambda: index, clock=lambda: now)
    schedule = DigestSchedule("T1", "C1", "09:00", "Europe/Berlin")
    barrier.wait(timeout=60)
    result = run_due(poster, schedule, now, timedelta(hours=1))
    results.put(str(result.outcome) if result else "nothing due")
    engine.dispose()
