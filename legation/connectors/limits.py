"""How each platform counts text, for the composer's live counters and for refusing over-long posts early.

- X: weighted characters (most CJK and emoji count 2, Latin and most scripts 1), every URL counts 23,
  limit 280; computed by ``twitter-text-parser``, the port of X's own ``twitter-text`` rules.
- Bluesky: grapheme clusters (what a reader sees as one character), limit 300, and 3000 UTF-8 bytes.
- Mastodon: grapheme clusters, every URL counts 23, ``@user@domain`` counts as ``@user``; 500 by default, the
  instance may allow more.
- SMS: GSM-7 when every character is in the GSM 03.38 alphabet (160 per message, 153 per part when split,
  extension-table characters such as ``€``, ``[`` or ``{`` take two), otherwise UCS-2 (70, 67 per part,
  emoji take two UTF-16 units).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex
from twitter_text import extract_urls_with_indices, parse_tweet

from legation.connectors.base import TextCount

X_MAX = 280
X_URL_LENGTH = 23
BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 3000
MASTODON_MAX = 500
MASTODON_URL_LENGTH = 23
SMS_MAX_SEGMENTS = 10

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """Number of extended grapheme clusters (user-perceived characters) in ``text``."""
    return len(_GRAPHEME.findall(text))


# -- X -----------------------------------------------------------------------------------------------------


def count_x(text: str) -> TextCount:
    """Count a post the way X does: weighted characters with 23 for each link, against 280."""
    parsed = parse_tweet(text)
    links = len(extract_urls_with_indices(text))
    detail = f"{links} link{'s' if links != 1 else ''} counted as {X_URL_LENGTH} each" if links else ""
    return TextCount(used=parsed.weightedLength, limit=X_MAX, unit="weighted characters", detail=detail)


# -- Bluesky -----------------------------------------------------------------------------------------------


def count_bluesky(text: str) -> TextCount:
    """Count a Bluesky post in graphemes against 300, noting when it also exceeds 3000 UTF-8 bytes."""
    used = graphemes(text)
    size = len(text.encode("utf-8"))
    detail = ""
    if size > BLUESKY_MAX_BYTES:
        detail = f"{size} bytes, over Bluesky's {BLUESKY_MAX_BYTES}-byte limit"
        # Report a count the composer shows as over the limit even when the graphemes alone fit.
        used = max(used, BLUESKY_MAX_GRAPHEMES + 1)
    return TextCount(used=used, limit=BLUESKY_MAX_GRAPHEMES, unit="graphemes", detail=detail)


# -- Mastodon ----------------------------------------------------------------------------------------------

# Mastodon's Account::MENTION_RE in spirit: @user or @user@domain not preceded by a word character.
_MASTODON_MENTION = re.compile(
    r"(?<![\w/@])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\.[a-z0-9]+)?", re.IGNORECASE
)


def mastodon_countable_text(text: str) -> str:
    """The text Mastodon measures: each URL replaced by 23 characters, remote mentions by their local part."""
    urls = extract_urls_with_indices(text, extract_urls_without_protocol=False)
    out: list[str] = []
    last = 0
    for url in urls:
        start, end = url["indices"]
        out.append(text[last:start])
        out.append("x" * MASTODON_URL_LENGTH)
        last = end
    out.append(text[last:])
    return _MASTODON_MENTION.sub(lambda m: "@" + m.group(1), "".join(out))


def count_mastodon(text: str, limit: int = MASTODON_MAX, spoiler_text: str = "") -> TextCount:
    """Count a Mastodon status and its content warning in graphemes, links as 23, against the limit."""
    used = graphemes(spoiler_text) + graphemes(mastodon_countable_text(text))
    links = len(extract_urls_with_indices(text, extract_urls_without_protocol=False))
    detail = f"{links} link{'s' if links != 1 else ''} counted as {MASTODON_URL_LENGTH} each" if links else ""
    return TextCount(used=used, limit=limit, unit="characters", detail=detail)


# -- SMS ---------------------------------------------------------------------------------------------------

# GSM 03.38 default alphabet (the escape character 0x1B left out) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SmsCount:
    """How a text travels as SMS: its encoding, its length in units and the parts it is split into."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # capacity of each part (160/153 or 70/67)
    remaining: int  # units left in the last part before another part is needed
    non_gsm: tuple[str, ...] = ()  # the characters that forced UCS-2, for the composer to point at


def _units(char: str, gsm: bool) -> int:
    if gsm:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def sms_segments(text: str) -> SmsCount:
    """Split ``text`` into SMS parts as a handset does, never cutting an escape sequence or surrogate pair."""
    non_gsm = tuple(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    gsm = not non_gsm
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if gsm else (UCS2_SINGLE, UCS2_MULTI)
    sizes = [_units(c, gsm) for c in text]
    units = sum(sizes)
    if units <= single:
        segments = 1 if units else 0
        return SmsCount("GSM-7" if gsm else "UCS-2", units, segments, single, single - units, non_gsm)
    segments, filled = 1, 0
    for size in sizes:
        if filled + size > multi:
            segments += 1
            filled = 0
        filled += size
    return SmsCount("GSM-7" if gsm else "UCS-2", units, segments, multi, multi - filled, non_gsm)


def count_sms(text: str, max_segments: int = SMS_MAX_SEGMENTS) -> TextCount:
    """Count an SMS in parts against ``max_segments``, with the encoding and its cause in ``detail``."""
    info = sms_segments(text)
    detail = (
        f"{info.encoding}, {info.units} {'characters' if info.encoding == 'GSM-7' else 'UTF-16 units'}, "
        f"{info.segments} part{'s' if info.segments != 1 else ''}, {info.remaining} left in the last"
    )
    if info.non_gsm:
        detail += f"; UCS-2 because of {''.join(info.non_gsm[:10])!r}"
    return TextCount(used=info.segments, limit=max_segments, unit="segments", detail=detail)
