"""What a task needs undone before it runs again after its worker died or lost the database mid-run.

A task that holds something while it runs (a listening pull holds its source) registers a function here; the
worker calls it with the task's arguments when it queues the task again (``worker.requeue_orphans``), so the
run again does not find its own earlier run's hold and wait for it to lapse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ON_REQUEUE: dict[str, Callable[..., None]] = {}


def on_requeue(task_path: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``function(*args, **kwargs)`` to run before the task at ``task_path`` is queued again."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        ON_REQUEUE[task_path] = function
        return function

    return register


def before_requeue(task_path: str, args_kwargs: dict[str, Any]) -> None:
    function = ON_REQUEUE.get(task_path)
    if function is not None:
        function(*args_kwargs.get("args", []), **args_kwargs.get("kwargs", {}))
