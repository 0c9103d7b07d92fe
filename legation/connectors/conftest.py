"""Fixtures shared by every connector's tests: local servers are loopback, so the guard must allow them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from legation.connectors import http
from legation.connectors.http import allow_private_hosts
from legation.connectors.testing import SleepRecorder


@pytest.fixture
def allow_loopback() -> Iterator[None]:
    """Let the private-address guard through to the loopback test server for one test."""
    with allow_private_hosts("localhost", "127.0.0.1", "::1"):
        yield


@pytest.fixture
def sleeps() -> SleepRecorder:
    """Hand to a provider's own ``RetryPolicy(sleep=...)``: retry pauses are recorded in ``.waits``, not slept."""
    return SleepRecorder()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry pauses taken through ``legation.connectors.http.sleep``, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "sleep", recorded.append)
    return recorded
