"""What reaches official accounts from the public, and where each pull got to."""

from __future__ import annotations

from django.db import models

from legation.listening.models import Reading
from legation.network.models import OfficialAccount


class Stream(models.TextChoices):
    MENTIONS = "mentions", "Mentions and replies"
    MESSAGES = "messages", "Direct messages"
    TIMELINE = "timeline", "The account's own posts"


class InboundMessage(Reading):
    """A reply, mention, comment, direct message, SMS or e-mail to an official account; stored once.

    A person reads every one of them, so the worker reads each with the accurate tier of the offline models
    (language when the platform gave none, sentiment, crisis category, places, head counts, phones, needs) soon
    after it is stored; ``read_at`` is empty until then.
    """

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="inbound")
    stream = models.CharField(max_length=20, choices=Stream.choices)
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)
    text = models.TextField()
    author_id = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    in_reply_to = models.CharField(max_length=200, blank=True)
    conversation_id = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    unit_path = models.CharField(max_length=500, db_index=True)  # the account's unit when received
    read_at = models.DateTimeField(null=True, blank=True)  # when the offline models read it

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="inbound_once_per_account")
        ]
        indexes = [
            # The worker's queue: messages not read yet (a partial index, small once the backlog is read).
            models.Index(fields=["id"], condition=models.Q(read_at__isnull=True), name="inbound_unread_by_models"),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"


class PullCursor(models.Model):
    """How far the pull of one stream of one account got; advanced in the same transaction as the items."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=20, choices=Stream.choices)
    cursor = models.TextField(blank=True)
    pulled_at = models.DateTimeField(null=True, blank=True)
    next_pull_at = models.DateTimeField(null=True, blank=True)  # after a rate limit or failure: back off
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "stream"], name="one_cursor_per_stream")]


class WebhookDelivery(models.Model):
    """A webhook delivery already processed, so that a replay is stored once."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "delivery_id"], name="webhook_once")]
