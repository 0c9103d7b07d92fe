"""Finding links in text and normalising their host names (IDN to punycode, look-alike skeletons). Pure Python."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

from legation.guidance.normalize import is_invisible, skeleton

_COMMON_TLDS = frozenset({
    "com", "org", "net", "info", "gov", "edu", "int", "mil", "io", "co", "biz", "news", "online", "site", "xyz",
    "app", "dev", "me", "tv", "top", "ly", "gl", "link", "live", "blog", "world", "today", "media", "press",
    "club", "shop", "store", "tech", "cloud", "ai",
})
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'«»）]+")
_BARE = re.compile(r"(?<![@\w.-])((?:[\w-]+\.)+([^\W\d_]{2,24}|xn--[a-z0-9-]+))(/[^\s<>\"'«»）]*)?")
_TRAILING = ".,;:!?)]}»”’'\"、。"


@dataclass(frozen=True)
class Host:
    ascii: str  # lower-case, punycode for international names: what is compared
    unicode: str  # what a reader sees


def normalise_host(url_or_host: str) -> Host | None:
    """The host of a URL or a bare domain name, normalised; None when there is none."""
    value = "".join(ch for ch in url_or_host.strip() if not is_invisible(ch))
    value = unicodedata.normalize("NFKC", value)
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value.lstrip("/")
    try:
        host = urlsplit(value).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    if not host or " " in host:
        return None
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        ascii_host = host.casefold()
    try:
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError):
        unicode_host = host
    return Host(ascii_host, unicode_host)


def host_within(host: str, domain: str) -> bool:
    """True for the domain itself and every subdomain of it."""
    return host == domain or host.endswith("." + domain)


def looks_like(host: Host, domain: str) -> bool:
    """True when the host imitates the domain (or a subdomain of it) with look-alike characters."""
    try:
        domain_unicode = idna.decode(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        domain_unicode = domain
    return host_within(skeleton(host.unicode), skeleton(domain_unicode))


@dataclass(frozen=True)
class FoundLink:
    url: str
    start: int
    end: int


def find_links(text: str) -> list[FoundLink]:
    """URLs (with a scheme or www.) and bare domain names with a common top-level domain or a path."""
    found: list[FoundLink] = []
    taken: list[tuple[int, int]] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        found.append(FoundLink(url, m.start(), m.start() + len(url)))
        taken.append((m.start(), m.end()))
    for m in _BARE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        tld = m.group(2).lower()
        if not (tld in _COMMON_TLDS or len(tld) == 2 or tld.startswith("xn--") or m.group(3)):
            continue
        url = m.group(0).rstrip(_TRAILING)
        found.append(FoundLink(url, m.start(), m.start() + len(url)))
    return sorted(found, key=lambda link: link.start)
