from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from legation.publishing import delivery
from legation.worker.periodic import periodic


@periodic(every=timedelta(seconds=5))
@task()
def deliver_due() -> dict[str, int]:
    """Send what is due (scheduled time reached, retry back-off over, or a dead worker's lease expired)."""
    return delivery.run_due()
