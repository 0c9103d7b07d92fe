"""The ministry's tree of units, its people and their roles, and the registry of official accounts."""

from __future__ import annotations

import secrets
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from legation.connectors import registry

# The registry's platform names in the reader's language (brand names have no translation and stay as they are).
PLATFORM_CHOICES = [(key, _(name)) for key, name in registry.PLATFORM_CHOICES]


class UnitKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    REGION = "region", _("Region")
    EMBASSY = "embassy", _("Embassy")
    CONSULATE = "consulate", _("Consulate")
    DELEGATION = "delegation", _("Permanent delegation")
    DEPARTMENT = "department", _("Department")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class Unit(models.Model):
    """A node of the ministry's tree: the ministry itself, a region, a mission."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # Materialised path of ids, e.g. "/1/4/17/": ancestors and descendants without recursion.
    path = models.CharField(max_length=500, db_index=True, editable=False, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2"))
    languages = models.JSONField(_("languages"), default=list, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    require_2fa = models.BooleanField(_("require two-factor authentication"), default=False)
    publishing_paused_at = models.DateTimeField(null=True, blank=True)  # pauses this unit and all below it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2 if self.path else 0

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, inclusive."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self) -> models.QuerySet[Unit]:
        return Unit.objects.filter(id__in=self.ancestor_ids()).order_by("path")

    def subtree(self) -> models.QuerySet[Unit]:
        """This unit and every unit below it."""
        return Unit.objects.filter(path__startswith=self.path)

    def is_within(self, other: Unit) -> bool:
        """True when this unit is ``other`` or below it."""
        return self.path.startswith(other.path)


class Person(AbstractUser):
    """Someone who signs in: HQ staff, mission officers, crisis cell, analysts, auditors."""

    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    language = models.CharField(_("interface language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class RoleName(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    EDITOR = "editor", _("Editor")
    PUBLISHER = "publisher", _("Publisher")
    APPROVER = "approver", _("Approver")
    ADMIN = "admin", _("Admin")


# Each role includes the powers of those before it.
ROLE_RANK: dict[str, int] = {name: rank for rank, name in enumerate(RoleName.values, start=1)}


class Role(models.Model):
    """A person's role on a unit; it applies to every unit below it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=RoleName.choices)
    granted_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "unit"], name="one_role_per_person_and_unit")]
        ordering = ["unit__path", "person__username"]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} @ {self.unit}"


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    LOCKED = "locked", _("Locked")


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class OfficialAccount(models.Model):
    """An official account on a platform, owned by a unit and belonging to a position, not a person."""

    platform = models.CharField(_("platform"), max_length=20, choices=PLATFORM_CHOICES)
    handle = models.CharField(_("handle"), max_length=200)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="accounts")
    position = models.CharField(
        _("position"), max_length=200, blank=True, help_text=_("e.g. Ambassador; the account passes to successors")
    )
    holder = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="held_accounts"
    )
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.PENDING)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    # The secret part of this account's webhook URL (/hooks/<key>/); platforms' signatures are checked as well.
    webhook_key = models.CharField(max_length=64, unique=True, default=new_webhook_key, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="one_registry_entry_per_platform_handle")
        ]
        ordering = ["unit__path", "platform", "handle"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"


class Handover(models.Model):
    """One passing of an account from one holder of its position to the next."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="handovers")
    from_holder = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_holder = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]


class Credential(models.Model):
    """One secret of an account (token, app secret), encrypted at rest by the vault."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=100)
    ciphertext = models.TextField()
    hint = models.CharField(max_length=16, blank=True, help_text="last characters, for recognition only")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="one_secret_per_name")]
        ordering = ["name"]

    def __repr__(self) -> str:  # never leak the ciphertext into logs either
        return f"<Credential {self.name} of account {self.account_id}>"


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
