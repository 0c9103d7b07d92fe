from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from legation.records import ledger
from legation.worker.periodic import periodic

logger = logging.getLogger(__name__)


@periodic(every=timedelta(hours=1))
@task()
def verify_ledger() -> dict[str, int | str | None]:
    """Check the whole chain every hour so that tampering behind the database's back is noticed."""
    count, broken = ledger.verify()
    if broken:
        logger.error("ledger broken at record %s: %s", broken.record_id, broken.reason)
    return {"checked": count, "broken_at": broken.record_id if broken else None}
