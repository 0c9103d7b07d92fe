"""The outbound HTTP choke point: the private-address guard, retries with Retry-After, and error mapping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from werkzeug import Request, Response

from legation.connectors import addresses, http
from legation.connectors.base import ConnectorError
from legation.connectors.http import (
    ALLOW_ENV,
    PrivateAddressRefused,
    RetryPolicy,
    allow_private_hosts,
    check_url,
    parse_retry_after,
)


class SleepRecorder:
    """Stands in for time.sleep so retry tests are instant and show how long the client waited."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def session(sleeps: SleepRecorder, **kwargs) -> http.GuardedSession:
    return http.GuardedSession(retry=RetryPolicy(attempts=4, max_wait=30, sleep=sleeps), **kwargs)


def sequence(*responses: Response):
    """A werkzeug handler answering each request with the next response, and counting calls."""
    calls: list[Request] = []

    def handler(request: Request) -> Response:
        calls.append(request)
        return responses[min(len(calls), len(responses)) - 1]

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "http://192.168.0.1/feed",
        "http://172.16.5.4/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped IPv6
    ],
)
def test_private_link_local_multicast_and_reserved_addresses_are_refused(url):
    with pytest.raises(PrivateAddressRefused) as caught:
        check_url(url)
    assert caught.value.permanent is True
    assert ALLOW_ENV in caught.value.message


def test_loopback_is_refused_unless_allowed(httpserver):
    httpserver.expect_request("/hello").respond_with_data("hi")
    url = httpserver.url_for("/hello")
    with pytest.raises(PrivateAddressRefused):
        http.get(url, session=http.GuardedSession())
    with allow_private_hosts("localhost"):
        assert http.get(url, session=http.GuardedSession()).text == "hi"
    with pytest.raises(PrivateAddressRefused):
        http.get("http://127.0.0.1:1/", session=http.GuardedSession())


def test_environment_variable_allows_listed_hosts_at_call_time(httpserver, monkeypatch):
    httpserver.expect_request("/hello").respond_with_data("hi")
    url = httpserver.url_for("/hello")
    monkeypatch.setenv(ALLOW_ENV, "gateway.internal, localhost")
    assert http.get(url, session=http.GuardedSession()).text == "hi"
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    assert http.get(url.replace("localhost", "127.0.0.1"), session=http.GuardedSession()).text == "hi"
    monkeypatch.setenv(ALLOW_ENV, "gateway.internal")
    with pytest.raises(PrivateAddressRefused):
        http.get(url, session=http.GuardedSession())


def test_a_public_url_is_not_refused_by_the_guard():
    check_url("http://93.184.216.34/")
    check_url("https://[2606:4700:4700::1111]/")


def test_non_http_schemes_are_refused():
    with pytest.raises(ConnectorError) as caught:
        check_url("file:///etc/passwd")
    assert caught.value.permanent is True


def test_redirect_to_a_refused_address_is_checked_again(httpserver):
    port = httpserver.port
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{port}/inside"}
    )
    httpserver.expect_request("/inside").respond_with_data("secret")
    with allow_private_hosts("localhost"), pytest.raises(PrivateAddressRefused):
        http.get(httpserver.url_for("/start"), session=http.GuardedSession())


def test_a_host_that_resolves_public_but_connects_to_loopback_is_refused(httpserver, monkeypatch):
    httpserver.expect_request("/x").respond_with_data("secret")
    # DNS rebinding: the check sees a public address, the socket lands on loopback.
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: ["93.184.216.34"])
    with pytest.raises(PrivateAddressRefused):
        http.get(httpserver.url_for("/x"), session=http.GuardedSession())


def test_429_with_retry_after_then_success(httpserver, allow_loopback):
    handler = sequence(
        Response('{"error":"Too many requests"}', status=429, headers={"Retry-After": "7"}),
        Response('{"ok": true}', content_type="application/json"),
    )
    httpserver.expect_request("/api").respond_with_handler(handler)
    sleeps = SleepRecorder()
    assert http.get_json(httpserver.url_for("/api"), session=session(sleeps)) == {"ok": True}
    assert sleeps.waits == [7.0]
    assert len(handler.calls) == 2


def test_429_is_retried_even_for_a_post_because_nothing_was_done(httpserver, allow_loopback):
    handler = sequence(
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        Response('{"id": "1"}', content_type="application/json"),
    )
    httpserver.expect_request("/post", method="POST").respond_with_handler(handler)
    sleeps = SleepRecorder()
    assert http.post_json(httpserver.url_for("/post"), {"a": 1}, session=session(sleeps)) == {"id": "1"}
    assert sleeps.waits == [1.0]


def test_retry_after_as_an_http_date(httpserver, allow_loopback):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    handler = sequence(Response("", status=503, headers={"Retry-After": when}), Response("fine"))
    httpserver.expect_request("/api").respond_with_handler(handler)
    sleeps = SleepRecorder()
    assert http.get(httpserver.url_for("/api"), session=session(sleeps)).text == "fine"
    assert len(sleeps.waits) == 1 and 17 <= sleeps.waits[0] <= 20


def test_retry_after_beyond_the_cap_is_handed_back_instead_of_slept(httpserver, allow_loopback):
    handler = sequence(Response('{"error":"rate limited"}', status=429, headers={"Retry-After": "900"}))
    httpserver.expect_request("/api").respond_with_handler(handler)
    sleeps = SleepRecorder()
    with pytest.raises(ConnectorError) as caught:
        http.get(httpserver.url_for("/api"), session=session(sleeps))
    assert sleeps.waits == []
    assert caught.value.permanent is False
    assert caught.value.retry_after == 900.0
    assert caught.value.status == 429
    assert "rate limited" in caught.value.message


def test_5xx_then_success_with_bounded_exponential_backoff(httpserver, allow_loopback):
    handler = sequence(Response("oops", status=502), Response("oops", status=500), Response("done"))
    httpserver.expect_request("/api").respond_with_handler(handler)
    sleeps = SleepRecorder()
    assert http.get(httpserver.url_for("/api"), session=session(sleeps)).text == "done"
    assert len(sleeps.waits) == 2
    assert 0.5 <= sleeps.waits[0] < 1.0 and 1.0 <= sleeps.waits[1] < 1.5
    assert all(w <= RetryPolicy().backoff_max for w in sleeps.waits)


def test_5xx_that_never_recovers_is_a_temporary_error(httpserver, allow_loopback):
    httpserver.expect_request("/api").respond_with_data("down", status=503)
    sleeps = SleepRecorder()
    with pytest.raises(ConnectorError) as caught:
        http.get(httpserver.url_for("/api"), session=session(sleeps))
    assert caught.value.permanent is False and caught.value.status == 503
    assert len(sleeps.waits) == 3  # four attempts in all


def test_a_post_is_not_resent_after_a_500_without_an_idempotency_key(httpserver, allow_loopback):
    handler = sequence(Response("boom", status=500), Response('{"id": "2"}'))
    httpserver.expect_request("/post", method="POST").respond_with_handler(handler)
    sleeps = SleepRecorder()
    with pytest.raises(ConnectorError) as caught:
        http.post(httpserver.url_for("/post"), data="x", session=session(sleeps))
    assert caught.value.permanent is False and caught.value.status == 500
    assert len(handler.calls) == 1


def test_a_post_with_an_idempotency_key_is_resent_after_a_500(httpserver, allow_loopback):
    handler = sequence(Response("boom", status=500), Response('{"id": "2"}'))
    httpserver.expect_request("/post", method="POST").respond_with_handler(handler)
    sleeps = SleepRecorder()
    result = http.post_json(
        httpserver.url_for("/post"), {"t": 1}, headers={"Idempotency-Key": "k1"}, session=session(sleeps)
    )
    assert result == {"id": "2"}
    assert len(handler.calls) == 2


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422])
def test_permanent_4xx_maps_to_a_permanent_error_with_the_platform_message(
    httpserver, allow_loopback, status
):
    httpserver.expect_request("/api").respond_with_json({"error": "This account is suspended"}, status=status)
    sleeps = SleepRecorder()
    with pytest.raises(ConnectorError) as caught:
        http.get(httpserver.url_for("/api"), session=session(sleeps))
    assert caught.value.permanent is True
    assert caught.value.status == status
    assert "This account is suspended" in caught.value.message
    assert sleeps.waits == []


def test_401_is_flagged_as_expired_authentication(httpserver, allow_loopback):
    httpserver.expect_request("/api").respond_with_json({"error": "The access token expired"}, status=401)
    with pytest.raises(ConnectorError) as caught:
        http.get(httpserver.url_for("/api"), session=session(SleepRecorder()))
    assert caught.value.auth_expired is True
    assert caught.value.status == 401


def test_read_timeout_maps_to_a_temporary_error(httpserver, allow_loopback):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    sleeps = SleepRecorder()
    client = http.GuardedSession(timeout=(2, 0.2), retry=RetryPolicy(attempts=1, sleep=sleeps))
    with pytest.raises(ConnectorError) as caught:
        http.post(httpserver.url_for("/slow"), session=client)
    assert caught.value.permanent is False
    assert "timed out" in caught.value.message


def test_connection_refused_is_retried_then_temporary(allow_loopback):
    sleeps = SleepRecorder()
    with pytest.raises(ConnectorError) as caught:
        http.get("http://127.0.0.1:9/", session=session(sleeps))
    assert caught.value.permanent is False
    assert len(sleeps.waits) == 3


def test_malformed_json_is_a_temporary_error(httpserver, allow_loopback):
    httpserver.expect_request("/api").respond_with_data(
        "<html>gateway</html>", content_type="application/json"
    )
    with pytest.raises(ConnectorError) as caught:
        http.get_json(httpserver.url_for("/api"), session=session(SleepRecorder()))
    assert caught.value.permanent is False
    assert "malformed JSON" in caught.value.message


def test_oversized_payload_is_refused_permanently(httpserver, allow_loopback):
    httpserver.expect_request("/big").respond_with_data("x" * 5000)
    with pytest.raises(ConnectorError) as caught:
        http.get(httpserver.url_for("/big"), session=session(SleepRecorder()), max_bytes=1000)
    assert caught.value.permanent is True
    assert "exceeds the limit" in caught.value.message


def test_parse_retry_after_reads_seconds_and_dates():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_httpx_transport_guards_and_retries(httpserver):
    handler = sequence(Response("", status=429, headers={"Retry-After": "2"}), Response('{"ok":1}'))
    httpserver.expect_request("/xrpc").respond_with_handler(handler)
    sleeps = SleepRecorder()
    transport = http.guarded_httpx_transport(retry=RetryPolicy(sleep=sleeps))
    with httpx.Client(transport=transport, timeout=http.HTTPX_TIMEOUT) as client:
        with pytest.raises(PrivateAddressRefused):
            client.get(httpserver.url_for("/xrpc"))
        with allow_private_hosts("localhost"):
            assert client.get(httpserver.url_for("/xrpc")).json() == {"ok": 1}
    assert sleeps.waits == [2.0]


def test_rate_limit_reset_headers_are_read_when_retry_after_is_missing():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert http.retry_after_from_headers({"X-RateLimit-Reset": "2025-01-01T12:00:45.000000Z"}, now) == 45.0
    assert http.retry_after_from_headers({"x-rate-limit-reset": str(int(now.timestamp()) + 30)}, now) == 30.0
    assert http.retry_after_from_headers({"Retry-After": "5", "X-RateLimit-Reset": "99"}, now) == 5.0
    assert http.retry_after_from_headers({}, now) is None


def test_an_sdk_session_refuses_an_oversized_body(httpserver, allow_loopback):
    httpserver.expect_request("/big").respond_with_data("x" * 5000)
    client = http.guarded_session(max_bytes=1000)
    with pytest.raises(ConnectorError) as caught:
        client.get(httpserver.url_for("/big"))
    assert caught.value.permanent is True
    assert client.get(httpserver.url_for("/big"), stream=True).status_code == 200


def test_the_module_sleep_can_be_replaced_for_tests(httpserver, allow_loopback, monkeypatch):
    sleeps = SleepRecorder()
    monkeypatch.setattr(http, "sleep", sleeps)
    handler = sequence(Response("", status=503, headers={"Retry-After": "3"}), Response("up"))
    httpserver.expect_request("/api").respond_with_handler(handler)
    assert http.get(httpserver.url_for("/api"), session=http.GuardedSession()).text == "up"
    assert sleeps.waits == [3.0]
