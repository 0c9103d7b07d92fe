"""Posts with language variants, their clearances, and one delivery per post × account."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from legation.network.models import OfficialAccount, Person, RoleName, Unit


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_CLEARANCE = "awaiting_clearance", _("Awaiting clearance")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed on some accounts")
    RETRACTED = "retracted", _("Retracted")


class Post(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="posts")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="posts")
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT, db_index=True)
    link = models.URLField(max_length=1000, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)  # None: as soon as cleared
    revision = models.PositiveIntegerField(default=1)
    revision_hash = models.CharField(max_length=64, blank=True)  # what clearances are bound to
    findings = models.JSONField(default=list, blank=True)  # the last guidance check
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        source = self.source_variant()
        return f"#{self.pk} {source.text[:50] if source else ''}"

    def source_variant(self) -> Variant | None:
        return next((v for v in self.variants.all() if v.is_source), None)


class Variant(models.Model):
    """The post's text in one language: the source, or a version written by hand or translated from it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=10)
    text = models.TextField()
    is_source = models.BooleanField(default=False)
    machine_translated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_source", "language"]
        constraints = [models.UniqueConstraint(fields=["post", "language"], name="one_variant_per_language")]


class Image(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="posts/%Y/%m/")
    mime_type = models.CharField(max_length=50)
    alt_text = models.CharField(max_length=1500)


class Target(models.Model):
    """An account the post goes to, and in which language."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="one_target_per_account")]


class Clearance(models.Model):
    """One clearance a post needs, from a role at a unit, bound to the revision it was given for."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="clearances")
    role = models.CharField(max_length=20, choices=RoleName.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    rule = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    revision_hash = models.CharField(max_length=64, blank=True)  # set when given
    cleared_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]


class DeliveryKind(models.TextChoices):
    PUBLISH = "publish", _("Publish")
    CORRECT = "correct", _("Correction")
    RETRACT = "retract", _("Retraction")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    HELD = "held", _("Held")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """One post (or correction) to one account; claimed by a worker with a lease, sent with an idempotency key."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices, default=DeliveryKind.PUBLISH)
    original = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="followups")
    mode = models.CharField(max_length=10, blank=True)  # corrections: edit, replace or reply
    language = models.CharField(max_length=10)
    text = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
                              db_index=True)
    not_before = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    url = models.CharField(max_length=1000, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class UnauthorisedPost(models.Model):
    """A post on an official account that did not come through Legation."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="unauthorised_posts")
    external_id = models.CharField(max_length=200)
    text = models.TextField()
    url = models.CharField(max_length=1000, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seen_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="unauthorised_once")]
