"""Fixtures for the SMS tests: a local Twilio API and instant, recorded retry waits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.sms.tests.fake_twilio import FakeTwilio


@pytest.fixture
def fake_twilio(httpserver: HTTPServer, allow_loopback: None, waits: list[float]) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    yield fake
