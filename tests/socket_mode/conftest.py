"""A fake Socket Mode endpoint (tests/fake_socket_mode.py) wired to the fake Web API, per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode(fake_slack) as endpoint:
        yield endpoint
