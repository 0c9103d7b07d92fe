"""Fixtures shared by every connector's tests: local servers are loopback, so the guard must allow them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from legation.connectors.http import allow_private_hosts


@pytest.fixture
def allow_loopback() -> Iterator[None]:
    """Let the private-address guard through to the loopback test server for one test."""
    with allow_private_hosts("localhost", "127.0.0.1", "::1"):
        yield
