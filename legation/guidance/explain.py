"""The guidance engine's words in the reader's language.

The engine (pure Python) keeps why and where of each finding as :class:`~legation.guidance.engine.Message`, marked
with ``gettext_noop``; they are translated here, when shown, in the language active for the request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext

from legation.guidance.engine import Finding, Message


def explained(finding: Finding) -> Finding:
    """The finding with its explanation and location in the active language."""
    explanation = "".join(message.render(gettext) for message in finding.because) or finding.explanation
    location = finding.place.render(gettext) if finding.place is not None else finding.location
    return dataclasses.replace(finding, explanation=explanation, location=location)


def explained_all(findings: Sequence[Finding]) -> list[Finding]:
    return [explained(finding) for finding in findings]


def explanation_from_data(because: Sequence[dict[str, Any]], fallback: str) -> str:
    """A stored explanation (``Message.as_data`` pieces) in the active language; ``fallback`` when none was kept."""
    if not because:
        return fallback
    return "".join(Message.from_data(piece).render(gettext) for piece in because)
