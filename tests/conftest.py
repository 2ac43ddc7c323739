"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_slack import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback (see tests/fake_slack.py); fails the test on any payload Slack
    would refuse or that could ping people."""
    with FakeSlack() as fake:
        yield fake
    assert not fake.violations, f"the bot sent what Slack refuses: {fake.violations}"
