"""The append-only, hash-chained ledger of every action."""

from __future__ import annotations

from django.db import models

GENESIS_HASH = "0" * 64


class Record(models.Model):
    """One action, chained by hash to the one before. The database refuses UPDATE and DELETE on this table.

    Actor and unit are kept as plain ids and labels, not foreign keys, so that nothing (a cascade, a SET NULL)
    ever has a reason to touch a written record.
    """

    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_label = models.CharField(max_length=200)
    unit_id = models.BigIntegerField(null=True, db_index=True)
    unit_path = models.CharField(max_length=500, db_index=True, blank=True)
    unit_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    # Canonical JSON text, stored verbatim so that the hash can be recomputed byte for byte.
    payload = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label}"
