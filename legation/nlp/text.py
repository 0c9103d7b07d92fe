"""Text hygiene shared by every model: make any input safe, bounded and normalised.

Every public function of ``legation.nlp`` passes its input through :func:`clean` first, so that empty,
huge, binary-looking and invalid-Unicode texts (lone surrogates) never crash a batch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# Models look at the first characters only: a 1 MB post costs no more than a long one.
MAX_MODEL_CHARS = 2000
# Extraction (places, phones, counts) scans a longer prefix, still bounded.
MAX_SCAN_CHARS = 20000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_SPACE = re.compile(r"\s+")
# Arabic-Indic (U+0660..), Extended Arabic-Indic (U+06F0..) and Devanagari (U+0966..) digits to ASCII.
_DIGITS = str.maketrans(
    {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)},
     **{0x0966 + i: str(i) for i in range(10)}}
)
_OTHER_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f]")


def to_text(value: object) -> str:
    """Return a valid Unicode string for any input (None, bytes, lone surrogates, other objects)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        value = str(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: replace them rather than fail the whole batch.
        value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value


def clean(value: object, limit: int = MAX_MODEL_CHARS) -> str:
    """Return a bounded, valid, control-character-free version of one input text."""
    text = to_text(value)
    if len(text) > limit:
        text = text[:limit]
    if text.isascii() and text.isprintable():  # no control characters: nothing to replace
        return text
    return _CONTROL.sub(" ", text)


def normalise_digits(text: str) -> str:
    """Map Arabic-Indic and Devanagari digits to ASCII digits."""
    if text.isascii() or not _OTHER_DIGIT.search(text):  # a scan is much cheaper than translate's lookups
        return text
    return text.translate(_DIGITS)


def model_text(value: object) -> str:
    """Normalise a text for the statistical models: lower case, URLs and mentions replaced, digits folded."""
    text = clean(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if "://" in text or "ww." in text or "WW." in text or "wW." in text or "Ww." in text:
        text = _URL.sub(" http ", text)
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    if "&" in text:
        text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = normalise_digits(text).lower()
    return " ".join(text.split())  # the same as collapsing \s+ to one space and stripping


def as_texts(texts: Iterable[object]) -> list[str]:
    """Accept any iterable of texts (a single str is treated as one text, not as characters)."""
    if isinstance(texts, str | bytes):
        return [to_text(texts)]
    return [to_text(t) for t in texts]


_SUSPECT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\ud800-\udfff]")


def binary_share(text: str) -> float:
    """Share of replacement/control/private-use characters: high values mean binary garbage."""
    if not text or not _SUSPECT.search(text, 0, 2000):
        return 0.0
    sample = text[:2000]
    bad = sum(1 for ch in sample if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn"))
    return bad / len(sample)


def chunks(seq: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    """Yield consecutive slices of ``seq`` of at most ``size`` items."""
    for start in range(0, len(seq), size):
        yield seq[start : start + size]
