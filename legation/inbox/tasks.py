from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from legation.connectors.base import ConnectorError
from legation.connectors.registry import provider_class
from legation.inbox import services
from legation.inbox.models import PullCursor
from legation.network.models import AccountStatus, OfficialAccount
from legation.worker.periodic import periodic

logger = logging.getLogger(__name__)


@task()
def pull_account_stream(account_id: int, stream: str) -> dict[str, int | str]:
    """Pull one stream of one account until the platform has no more (bounded)."""
    account = OfficialAccount.objects.select_related("unit").get(pk=account_id)
    try:
        stored = services.pull_all(account, stream)
    except ConnectorError as exc:
        # A temporary failure is retried at the next tick after the stored back-off; a permanent one is on
        # the account already. Either way the task itself ends cleanly.
        logger.warning("pull %s/%s failed: %s", account, stream, exc.message)
        return {"stored": 0, "error": exc.message}
    if stored:
        read_new_messages.enqueue()
    return {"stored": stored}


@periodic(every=timedelta(seconds=60))  # and enqueued after each pull or webhook that stored something
@task()
def read_new_messages(limit: int = 5000) -> int:
    """Read what reached our accounts with the accurate tier of the offline models, a batch at a time (up to
    ``limit`` messages; the next run goes on). A person reads each message, so each gets the accurate tier."""
    read = 0
    while read < limit and (batch := services.read_unread()):
        read += batch
    return read


@periodic(every=timedelta(seconds=60))
@task()
def pull_due_accounts() -> int:
    """Enqueue a pull for every active account's streams that are not backing off."""
    now = timezone.now()
    backing_off = set(
        PullCursor.objects.filter(Q(next_pull_at__gt=now)).values_list("account_id", "stream")
    )
    enqueued = 0
    for account in OfficialAccount.objects.filter(status=AccountStatus.ACTIVE).select_related("unit"):
        try:
            streams = services.streams_for(account)
            needs_secrets = bool(provider_class(account.platform).credential_fields)
        except ImportError:
            continue
        if needs_secrets and not account.credentials.exists():
            continue  # registered but not connected yet: nothing to pull with
        for stream in streams:
            if (account.pk, stream) not in backing_off:
                pull_account_stream.enqueue(account.pk, stream)
                enqueued += 1
    return enqueued
