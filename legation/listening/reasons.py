"""Why a line of a file or a post was refused: made in English (the CLI, the logs and the API say it so) and
said in the reader's language where a page shows it (``said``).

A ``Reason`` is the English sentence, a ``str``, that also keeps its template and values; a source keeps both
with each refused line (``services._keep_refused``), so the Sources page translates what a pull refused
yesterday into the language of whoever reads it today.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from legation.connectors.base import ConfigError, ConnectorError


class Reason(str):
    """``Reason(gettext_noop("line %(n)s is bad"), n=3)``: the English sentence, with its template and values."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Reason:
        made = super().__new__(cls, template % params if params else template)
        made.template, made.params = template, params
        return made


def stored(reason: str) -> dict[str, Any]:
    """What a source keeps of a reason (JSON): the sentence, and its template and values when it has them."""
    if isinstance(reason, Reason) and hasattr(reason, "template"):
        return {"reason": str(reason), "template": reason.template, "params": reason.params}
    return {"reason": str(reason)}


def said(kept: dict[str, Any]) -> str:
    """A kept reason in the reader's language; the English sentence when its template is not (or no longer)
    one the catalogue knows how to fill."""
    template, params = kept.get("template"), kept.get("params") or {}
    if not template:
        return str(kept.get("reason", ""))
    try:
        return gettext(template) % params if params else gettext(template)
    except (KeyError, TypeError, ValueError):
        return str(kept.get("reason", ""))


# What a platform's error means for a source, in words a reader of the Sources page can act on; the connector's
# own message (English, often the platform's words) follows as the detail.
_AUTH = gettext_noop("The platform refused the account this source uses: reconnect it on the Official accounts page, "
                     "then resume the source. Details: %(detail)s")
_SETUP = gettext_noop("The account this source uses is not fully set up: check it on the Official accounts page, "
                      "then resume the source. Details: %(detail)s")
_RATE = gettext_noop("The platform's rate limit was reached: the source is pulled again later. Details: %(detail)s")
_NOT_FOUND = gettext_noop("The platform does not know what this source asks for: check its query. The source is "
                          "paused. Details: %(detail)s")
_REFUSED = gettext_noop("The platform refused the request: the source is paused until someone resumes it. "
                        "Details: %(detail)s")
_FAILED = gettext_noop("The platform could not be reached or failed: the source is pulled again at its next time. "
                       "Details: %(detail)s")


def platform_error(exc: ConnectorError) -> Reason:
    """A connector's error as the Sources page says it (``ListeningSource.last_error_said``)."""
    if isinstance(exc, ConfigError):  # missing or malformed settings or credentials: ours to fix, not the platform
        template = _SETUP
    elif exc.permanent and (exc.auth_expired or exc.status in (401, 403)):
        template = _AUTH
    elif not exc.permanent and (exc.status == 429 or exc.retry_after is not None):
        template = _RATE
    elif exc.permanent and exc.status == 404:
        template = _NOT_FOUND
    elif exc.permanent:
        template = _REFUSED
    else:
        template = _FAILED
    return Reason(template, detail=exc.message[:2000])  # as long as ``last_error`` keeps it
