"""Waiting for something that happens in another thread or process, without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `condition` becomes true within `within` seconds (checked every 50 ms)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
