"""Links to what came from outside (a platform's post address, an imported file's url column)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def web_link(value: object) -> str:
    """The address if it is an http(s) one or a path on this site (the sandbox's posts), else "": a
    ``javascript:`` or ``data:`` address a platform or an imported file handed us must never become a link a
    person clicks (Django's escaping does not stop it). ``urlsplit`` drops the tabs and newlines a browser
    ignores too, so "java\tscript:" is seen for what it is."""
    url = str(value or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https", "") else ""
