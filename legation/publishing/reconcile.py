"""Unauthorised-post detection: an official account's own timeline, reconciled with Legation's deliveries."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.dispatch import receiver

from legation.inbox.models import InboundMessage, Stream
from legation.inbox.signals import inbound_stored
from legation.network import connections
from legation.network.models import OfficialAccount
from legation.publishing.models import Delivery, DeliveryStatus, UnauthorisedPost
from legation.records import ledger

logger = logging.getLogger(__name__)


def reconcile(account: OfficialAccount) -> list[UnauthorisedPost]:
    """Flag every post on the account's timeline that no delivery of Legation explains; alert its admins."""
    ours = Delivery.objects.filter(account=account).exclude(status=DeliveryStatus.CANCELLED)
    known_ids = set(ours.exclude(external_id="").values_list("external_id", flat=True))
    # A delivery still in flight has no external id yet: its text vouches for it.
    in_flight = set(ours.filter(status__in=[DeliveryStatus.SENDING, DeliveryStatus.PENDING])
                    .values_list("text", flat=True))
    flagged = set(UnauthorisedPost.objects.filter(account=account).values_list("external_id", flat=True))
    found = []
    for item in InboundMessage.objects.filter(account=account, stream=Stream.TIMELINE).order_by("id"):
        if item.external_id in known_ids or item.external_id in flagged or item.text.strip() in in_flight:
            continue
        try:
            with transaction.atomic():
                alert = UnauthorisedPost.objects.create(account=account, external_id=item.external_id,
                                                        text=item.text, url=item.url)
                ledger.append(None, "account.unauthorised_post", obj=account, unit=account.unit,
                              payload={"external_id": item.external_id, "text": item.text[:500], "url": item.url})
        except IntegrityError:
            continue
        found.append(alert)
    for alert in found:
        connections.notify_admins(
            account, f"[Legation] a post on {account} did not come through Legation",
            f"This appeared on {account} ({account.unit}) without going through Legation:\n\n{alert.text}\n\n"
            f"{alert.url}\n\nIf the account is compromised, lock it: /accounts/{account.pk}/",
        )
    return found


@receiver(inbound_stored)
def on_timeline_pulled(sender: Any, account: OfficialAccount, stream: str, **kwargs: Any) -> None:
    if stream == Stream.TIMELINE:
        reconcile(account)
