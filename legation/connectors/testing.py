"""Helpers the connectors' tests share: JSON fixtures, recorded retry waits, scripted faults, draining pulls.

Only tests import this module (werkzeug, a test dependency, is imported only when a fault is answered); the
shared pytest fixtures themselves live in ``legation/connectors/conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legation.connectors.base import InboundItem, Page

if TYPE_CHECKING:
    from werkzeug import Response


def fixtures_dir(test_file: str) -> Path:
    """The provider's ``fixtures`` folder, beside the ``tests`` package that ``test_file`` belongs to."""
    return Path(test_file).resolve().parent.parent / "fixtures"


def json_fixtures(folder: Path) -> Callable[[str], Any]:
    """``fixture(name)``: one documented API answer or event from ``folder/<name>.json``, freshly parsed."""

    def fixture(name: str) -> Any:
        return json.loads((folder / f"{name}.json").read_text())

    return fixture


class SleepRecorder:
    """Stands in for ``time.sleep`` in a retry policy: instant, and records each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class Fault:
    """One scripted error answer a fake platform gives instead of the real one."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def response(self) -> Response:
        from werkzeug import Response

        return Response(self.body, status=self.status, headers=self.headers, content_type=self.content_type)


def drain(
    pull: Callable[..., Page], cursor: str | None, limit: int = 2
) -> tuple[list[InboundItem], str | None]:
    """Pull pages until the platform has nothing more, returning the items and the final cursor."""
    items: list[InboundItem] = []
    while True:
        page = pull(cursor, limit=limit)
        items.extend(page.items)
        cursor = page.cursor
        if not page.has_more:
            return items, cursor
