"""The one choke point for outbound HTTP that a platform SDK does not make itself.

Everything here enforces three things: timeouts on every call, retries on 429/5xx that honour
``Retry-After`` (bounded, with a cap), and a guard that refuses private, loopback, link-local, multicast and
reserved addresses.
The guard (``legation.connectors.addresses``) checks every address a host resolves to before each request and
each redirect hop, and the peer address of every socket actually opened, so a DNS answer that changes in
between is caught too.

The guard is switched off only explicitly: the ``LEGATION_ALLOW_PRIVATE_HOSTS`` environment variable (a
comma-separated list of host names, IP addresses or CIDR networks, or ``*``), read at call time, or the
:func:`allow_private_hosts` context manager in tests.

SDK-based providers get the same guard by handing the SDK :func:`guarded_session` (requests) or
:func:`guarded_httpx_transport` (httpx).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
import urllib3

from legation.connectors.addresses import (  # the guard, mounted on every session made here
    ALLOW_ENV,
    GuardedAdapter,
    PrivateAddressRefused,
    allow_private_hosts,
    check_address,
    check_url,
    host_allowed_private,
    is_public_address,
)
from legation.connectors.base import ConnectorError

__all__ = [
    "ALLOW_ENV", "PrivateAddressRefused", "allow_private_hosts", "check_address", "check_url",
    "host_allowed_private", "is_public_address",
]

USER_AGENT = "Legation/0.1 (+https://github.com/legation)"

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
DEFAULT_TIMEOUT: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A 429 or 503 means the server refused before doing the work, so even a POST can be sent again.
REFUSED_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key")
# 408 Request Timeout and 425 Too Early are the only 4xx answers that may succeed when sent again.
TEMPORARY_4XX = frozenset({408, 425, 429})


# -- retries ---------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given as seconds or as an HTTP date; None if absent."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_from_headers(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After``, else from ``X-RateLimit-Reset`` (ISO 8601 or epoch)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    found = parse_retry_after(lowered.get("retry-after"), now)
    if found is not None:
        return found
    reset = (
        lowered.get("x-ratelimit-reset")
        or lowered.get("x-rate-limit-reset")
        or lowered.get("ratelimit-reset")
        or ""
    ).strip()
    if not reset:
        return None
    current = now or datetime.now(UTC)
    try:
        number = float(reset)
    except ValueError:
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - current).total_seconds())
    # Epoch seconds when it looks like a timestamp, otherwise seconds from now (as some APIs send).
    return max(0.0, number - current.timestamp()) if number > 1e9 else max(0.0, number)


def sleep(seconds: float) -> None:
    """Wait before a retry; tests replace this module attribute to make retries instant."""
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again."""

    attempts: int = 4  # total tries, the first included
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_wait: float = 30.0  # a Retry-After longer than this is handed back to the caller instead of slept
    # None means the module's :func:`sleep`, which tests may replace; a policy may bring its own.
    sleep: Callable[[float], None] | None = field(default=None, compare=False, repr=False)

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before the next try."""
        (self.sleep or globals()["sleep"])(seconds)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with a little jitter for the given retry number (0 for the first retry)."""
        base = min(self.backoff_max, self.backoff_base * (2**attempt))
        return min(self.backoff_max, base + random.uniform(0, self.backoff_base / 2))

    def wait_for(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number ``attempt``, or None when the platform asks for too long."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_wait else None
        return self.backoff(attempt)


NO_RETRY = RetryPolicy(attempts=1)


def _may_resend(method: str, status: int | None, headers: Mapping[str, Any], retry_unsafe: bool) -> bool:
    if status in REFUSED_STATUSES:
        return True
    if method.upper() in IDEMPOTENT_METHODS or retry_unsafe:
        return True
    lowered = {k.lower() for k in headers}
    return any(h in lowered for h in IDEMPOTENCY_HEADERS)


def _waited_to_resend(
    retry: RetryPolicy,
    attempt: int,
    method: str,
    request_headers: Mapping[str, Any],
    response: requests.Response | httpx.Response,
    retry_unsafe: bool,
) -> bool:
    """Whether to send the request again after this answer; if so, the answer is closed and the wait taken.

    Only a retryable status, with attempts left, on a request that may be resent (see :func:`_may_resend`)
    and within the policy's cap on ``Retry-After`` is waited out; otherwise the answer is handed back.
    """
    status = response.status_code
    if (
        status in RETRY_STATUSES
        and attempt + 1 < retry.attempts
        and _may_resend(method, status, request_headers, retry_unsafe)
    ):
        wait = retry.wait_for(attempt, retry_after_from_headers(response.headers))
        if wait is not None:
            response.close()
            retry.pause(wait)
            return True
    return False


def _connect_failed(exc: BaseException) -> bool:
    """Whether a transport error happened before the request reached the server (so it is safe to resend)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", None)
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


class GuardedSession(requests.Session):
    """A requests session with default timeouts, retries on 429/5xx and the private-address guard.

    It never raises for an HTTP status: after the retries, or when ``Retry-After`` exceeds the cap, it returns
    the last response so the caller (or the SDK using it) sees the platform's answer. Transport failures raise
    ``requests`` exceptions as usual, except a refused address, which raises :class:`PrivateAddressRefused`.
    """

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        retry_unsafe: bool = False,
        user_agent: str = USER_AGENT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retry = retry or RetryPolicy()
        # POST/PATCH are resent after a 5xx only when the caller says so or sends an Idempotency-Key.
        self.retry_unsafe = retry_unsafe
        self.headers["User-Agent"] = user_agent
        adapter = GuardedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        url = request.url or ""
        method = (request.method or "GET").upper()
        wants_stream = bool(kwargs.get("stream"))
        kwargs["stream"] = True
        attempt = 0
        while True:
            check_url(url)
            try:
                response = super().send(request, **kwargs)
            except requests.exceptions.RequestException as exc:
                if attempt + 1 < self.retry.attempts and (
                    _connect_failed(exc)
                    or (method in IDEMPOTENT_METHODS and isinstance(exc, requests.Timeout))
                ):
                    self.retry.pause(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise
            if _waited_to_resend(self.retry, attempt, method, request.headers, response, self.retry_unsafe):
                attempt += 1
                continue
            if not wants_stream:
                read_limited(response, self.max_bytes)
            return response


def read_limited(response: requests.Response, max_bytes: int) -> bytes:
    """Read a streamed body into ``response.content``, refusing one larger than ``max_bytes``."""
    label = f"{response.request.method if response.request else 'GET'} {urlsplit(response.url).netloc}"
    try:
        declared = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    try:
        if declared > max_bytes:
            raise ConnectorError(
                f"{label}: response of {declared} bytes exceeds the limit of {max_bytes}",
                permanent=True,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise ConnectorError(
                    f"{label}: response exceeds the limit of {max_bytes} bytes",
                    permanent=True,
                    status=response.status_code,
                )
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)
    return response._content


def guarded_session(
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    retry_unsafe: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> GuardedSession:
    """A guarded, timed, retrying, size-limited ``requests.Session`` to hand to an SDK that accepts one."""
    return GuardedSession(timeout=timeout, retry=retry, retry_unsafe=retry_unsafe, max_bytes=max_bytes)


# -- the same for httpx-based SDKs (atproto) -------------------------------------------------------------


class GuardedHTTPXTransport(httpx.HTTPTransport):
    """An httpx transport with the private-address guard and the retry rules of :class:`GuardedSession`."""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        retry_unsafe: bool = False,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.retry = retry or RetryPolicy()
        self.retry_unsafe = retry_unsafe
        self.max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        attempt = 0
        while True:
            check_url(str(request.url))
            try:
                response = super().handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt + 1 < self.retry.attempts:
                    self.retry.pause(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise
            if _waited_to_resend(self.retry, attempt, method, request.headers, response, self.retry_unsafe):
                attempt += 1
                continue
            return self._limited(request, response)

    def _limited(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """Read the body here, refusing (permanently) one larger than the limit before it fills memory."""
        limit = self.max_bytes if self.max_bytes is not None else DEFAULT_MAX_BYTES
        label = f"{request.method} {request.url.host}"
        declared = response.headers.get("content-length", "")
        chunks: list[bytes] = []
        size = 0
        try:
            if declared.isdecimal() and int(declared) > limit:
                raise ConnectorError(
                    f"{label}: response of {declared} bytes exceeds the limit of {limit}",
                    permanent=True,
                    status=response.status_code,
                )
            for chunk in response.stream:  # type: ignore[union-attr]
                size += len(chunk)
                if size > limit:
                    raise ConnectorError(
                        f"{label}: response exceeds the limit of {limit} bytes",
                        permanent=True,
                        status=response.status_code,
                    )
                chunks.append(chunk)
        finally:
            response.close()
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(b"".join(chunks)),
            request=request,
            extensions=response.extensions,
        )


HTTPX_TIMEOUT = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)


def guarded_httpx_transport(
    *, retry: RetryPolicy | None = None, retry_unsafe: bool = False, max_bytes: int | None = None
) -> GuardedHTTPXTransport:
    """A guarded, retrying, size-limited httpx transport; use it with ``timeout=HTTPX_TIMEOUT``."""
    return GuardedHTTPXTransport(retry=retry, retry_unsafe=retry_unsafe, max_bytes=max_bytes)


# -- mapping failures to ConnectorError ------------------------------------------------------------------


def platform_message(body: bytes | str, limit: int = 300) -> str:
    """The human message a platform put in an error body (JSON ``error``/``message``/...), or its start."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:limit]
    if isinstance(data, dict):
        for key in ("error_description", "message", "error", "detail", "title", "errors"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or json.dumps(value)
            if isinstance(value, list) and value:
                first = value[0]
                value = first.get("message", json.dumps(first)) if isinstance(first, dict) else str(first)
            if value:
                return str(value)[:limit]
    return text.strip()[:limit]


def error_for_status(
    status: int, headers: Mapping[str, str] | None = None, body: bytes | str = b"", *, what: str = "request"
) -> ConnectorError:
    """Map a non-2xx HTTP answer to a ConnectorError saying whether and when to retry."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    retry_after = retry_after_from_headers(headers)
    detail = platform_message(body)
    message = f"{what} failed with HTTP {status}" + (f": {detail}" if detail else "")
    if status == 401:
        # Permanent unless a token refresh cures it; providers that can refresh check auth_expired first.
        return ConnectorError(message, permanent=True, status=status, auth_expired=True)
    if status in TEMPORARY_4XX or status >= 500:
        return ConnectorError(message, permanent=False, retry_after=retry_after, status=status)
    return ConnectorError(message, permanent=status >= 400, status=status)


def error_for_exception(exc: BaseException, *, what: str = "request") -> ConnectorError:
    """Map a transport exception (requests or httpx) to a temporary ConnectorError, passing ours through."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema | httpx.InvalidURL):
        return ConnectorError(f"{what} failed: invalid URL ({exc})", permanent=True)
    if isinstance(exc, requests.Timeout | httpx.TimeoutException):
        return ConnectorError(f"{what} timed out: {exc}", permanent=False)
    if isinstance(exc, requests.exceptions.TooManyRedirects | httpx.TooManyRedirects):
        return ConnectorError(f"{what} failed: too many redirects", permanent=True)
    return ConnectorError(f"{what} failed: {exc}", permanent=False)


def find_connector_error(exc: BaseException | None) -> ConnectorError | None:
    """The ConnectorError an SDK wrapped (via ``__cause__``/``__context__``), if any; for guard refusals."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ConnectorError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


# -- the client for code that talks HTTP itself ----------------------------------------------------------


_default_session_lock = threading.Lock()
_default_session: GuardedSession | None = None


def default_session() -> GuardedSession:
    """The shared guarded session used when a caller does not bring its own."""
    global _default_session
    with _default_session_lock:
        if _default_session is None:
            _default_session = GuardedSession()
        return _default_session


def request(
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    ok_statuses: frozenset[int] | None = None,
    what: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request through the guard and retries; return the response or raise ConnectorError.

    Statuses outside 2xx (and 304) become ConnectorError unless listed in ``ok_statuses``. A body larger than
    ``max_bytes`` is refused with a permanent error rather than read into memory.
    """
    sess = session or default_session()
    label = what or f"{method.upper()} {urlsplit(url).netloc}"
    try:
        response = sess.request(method, url, stream=True, **kwargs)
        read_limited(response, max_bytes)
    except requests.exceptions.RequestException as exc:
        raise error_for_exception(exc, what=label) from exc
    status = response.status_code
    if not (200 <= status < 300 or status == 304 or (ok_statuses and status in ok_statuses)):
        raise error_for_status(status, response.headers, response.content, what=label)
    return response


def get(url: str, **kwargs: Any) -> requests.Response:
    """GET through :func:`request`."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> requests.Response:
    """POST through :func:`request`."""
    return request("POST", url, **kwargs)


def json_body(response: requests.Response, *, what: str = "response") -> Any:
    """Decode a JSON body, turning malformed JSON into a temporary ConnectorError."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ConnectorError(
            f"{what}: malformed JSON from the platform ({exc})", permanent=False, status=response.status_code
        ) from exc


def get_json(url: str, **kwargs: Any) -> Any:
    """GET a URL and decode its JSON body."""
    response = request("GET", url, **kwargs)
    return json_body(response, what=f"GET {urlsplit(url).netloc}")


def post_json(url: str, payload: Any = None, **kwargs: Any) -> Any:
    """POST JSON (or form data via ``data=``) and decode the JSON answer."""
    if payload is not None:
        kwargs["json"] = payload
    response = request("POST", url, **kwargs)
    return json_body(response, what=f"POST {urlsplit(url).netloc}") if response.content else None
