"""`notesbot serve` as real processes on loopback ports, for tests and benchmarks of several replicas."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fake_slack import BOT_TOKEN
from tests.slack_sender import free_port

REPO = Path(__file__).resolve().parent.parent
SLACK_VAULT = REPO / "tests" / "fixtures" / "slack_vault"  # the Slack tests' vault (tests/slack/conftest.py: VAULT)
# Settings of the machine running the tests that must not leak into a replica.
_FOREIGN = ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")


def serve_settings(api_url: str, folder: Path, **more: str) -> dict[str, str]:
    """The environment of a `notesbot serve` over the Slack tests' vault, against the (fake) Web API at `api_url`,
    with its index cache and SQLite database in `folder`, not watching the notes, logging at INFO; `more` adds or
    overrides settings (the transport's: SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": api_url,
        "NOTES_DIR": str(SLACK_VAULT),
        "NOTESBOT_CACHE_DIR": str(folder / "cache"),
        "DATABASE_URL": f"sqlite:///{folder / 'bot.sqlite3'}",
        "NOTES_WATCH": "off",
        "LOG_LEVEL": "INFO",
    } | more


class Replica:
    """One `python -m bot serve` process with `settings` as its environment, logging to `log_path`."""

    def __init__(self, name: str, settings: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN and not k.startswith("DIGEST_")}
        env |= settings | {"HOST": "127.0.0.1", "PORT": str(self.port)}
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /readyz answers 200 (index loaded, database reachable); fails with the log's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"replica {self.name} not ready within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now and at its peak (VmRSS, VmHWM of /proc), in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """As a crash or an OOM kill would: no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """As Docker, systemd or Kubernetes stop it: SIGTERM (then wait for it with `exit_code`)."""
        self.process.send_signal(signal.SIGTERM)

    def exit_code(self, timeout: float = 60) -> int:
        """The process's exit status once it ended (negative: the signal that ended it); fails with the log's tail."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"replica {self.name} still running after {timeout:.0f} s:\n{self.log()[-3000:]}"
            ) from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
