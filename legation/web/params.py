"""Numbers read from a request's query string or form: what a person may type into a URL is never a 500."""

from __future__ import annotations

from django.http import Http404

_DIGITS = 18  # every id and count fits; int() of thousands of digits is refused by Python itself (a ValueError)


def whole_number(value: str | None, default: int, low: int, high: int) -> int:
    """A whole number typed into a URL, kept between ``low`` and ``high``; ``default`` when it is not one."""
    if not value or not value.isdecimal():
        return default
    return high if len(value) > _DIGITS else min(max(int(value), low), high)


def posted_id(value: str | None) -> int:
    """The id a form names (a button's value): Http404 when it is not an id, as for an id that names nothing."""
    if not value or not value.isascii() or not value.isdecimal() or len(value) > _DIGITS:
        raise Http404
    return int(value)
