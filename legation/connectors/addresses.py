"""The guard against private, loopback, link-local, multicast and reserved addresses, for all outbound HTTP.

It checks every address a host resolves to before each request and each redirect hop, and the peer address of
every socket actually opened, so a DNS answer that changes in between is caught too. It is switched off only
explicitly: the ``LEGATION_ALLOW_PRIVATE_HOSTS`` environment variable (host names, IP addresses or CIDR
networks, comma-separated, or ``*``), read at call time, or :func:`allow_private_hosts` in tests.
``legation.connectors.http`` mounts it on every session it makes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from legation.connectors.base import ConnectorError

ALLOW_ENV = "LEGATION_ALLOW_PRIVATE_HOSTS"
logger = logging.getLogger(__name__)


class PrivateAddressRefused(ConnectorError):
    """The URL points at an address Legation must not reach from the outside world."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


# -- the private-address guard ---------------------------------------------------------------------------

_override_lock = threading.Lock()
_overrides: list[frozenset[str]] = []


@contextlib.contextmanager
def allow_private_hosts(*hosts: str) -> Iterator[None]:
    """Allow the given hosts (names, IPs, CIDRs or ``*``) to be private for the duration; meant for tests."""
    entry = frozenset(h.strip().lower() for h in hosts if h.strip())
    with _override_lock:
        _overrides.append(entry)
    try:
        yield
    finally:
        with _override_lock:
            _overrides.remove(entry)


def _allow_entries() -> set[str]:
    entries = {h.strip().lower() for h in os.environ.get(ALLOW_ENV, "").split(",") if h.strip()}
    with _override_lock:
        for entry in _overrides:
            entries |= entry
    return entries


def _normalise_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def host_allowed_private(host: str, ip: str | None = None) -> bool:
    """Whether ``host`` (or its address ``ip``) has been explicitly allowed to be private."""
    entries = _allow_entries()
    if not entries:
        return False
    if "*" in entries or _normalise_host(host) in entries:
        return True
    if ip is None:
        return False
    addr = ipaddress.ip_address(ip)
    for entry in entries:
        with contextlib.suppress(ValueError):
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
    return False


def is_public_address(ip: str) -> bool:
    """Whether an IP address is a global unicast address (not private, loopback, link-local, reserved...)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast and not addr.is_reserved


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectorError(f"cannot resolve host '{host}': {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_address(host: str, ip: str) -> None:
    """Refuse ``ip`` (an address of ``host``) unless it is public or explicitly allowed."""
    if not is_public_address(ip) and not host_allowed_private(host, ip):
        # The address itself is not said: the message reaches those who set up a source, and how the
        # ministry's internal names resolve is none of their business (the server's log has it).
        logger.warning("refused %s at %s: not a public address", host, ip)
        raise PrivateAddressRefused(
            f"refusing to connect to {host}: it is on a private, loopback, link-local, multicast or reserved "
            f"address (a server administrator may allow it with {ALLOW_ENV})"
        )


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to any non-public address."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - read here: a bracketed host that is no address ("http://[zz]/") raises
    except ValueError as exc:
        raise ConnectorError(f"refusing a URL that is not well formed: {url[:200]!r}", permanent=True) from exc
    if parts.scheme not in ("http", "https"):
        raise ConnectorError(
            f"refusing URL with scheme '{parts.scheme}': only http and https", permanent=True
        )
    host = parts.hostname
    if not host:
        raise ConnectorError(f"refusing URL without a host: {url!r}", permanent=True)
    host = _normalise_host(host)
    if "*" in _allow_entries():
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ConnectorError(f"refusing URL with a bad port: {url!r}", permanent=True) from exc
    for ip in _resolve(host, port):
        check_address(host, ip)


class _PeerCheckMixin:
    """Checks the address a socket really connected to, closing the gap between resolution and connection."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            peer = sock.getpeername()[0]
            check_address(_normalise_host(self.host), str(peer))
        except BaseException:
            sock.close()
            raise
        return sock


class _GuardedHTTPConnection(_PeerCheckMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheckMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
