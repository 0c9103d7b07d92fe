"""Guidance rules: defined on a unit, they apply to it and to every unit below it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from legation.guidance.kinds import KIND_LABELS, RuleKind, Severity
from legation.network.models import Person, RoleName, Unit

KIND_CHOICES = [(kind.value, _(label)) for kind, label in KIND_LABELS.items()]
SEVERITY_CHOICES = [
    (Severity.BLOCK.value, _("Block")),
    (Severity.NEEDS_CLEARANCE.value, _("Needs clearance")),
    (Severity.WARN.value, _("Warn")),
]


class GuidanceRule(models.Model):
    """One rule of a kind, with its typed configuration (``legation.guidance.kinds``), on a unit."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="guidance_rules")
    kind = models.CharField(_("kind"), max_length=32, choices=KIND_CHOICES)
    name = models.CharField(_("name"), max_length=200)
    config = models.JSONField(_("configuration"), default=dict)
    severity = models.CharField(_("severity"), max_length=20, choices=SEVERITY_CHOICES)
    # With severity "needs clearance": who clears, and where (this unit or one above it).
    clearance_role = models.CharField(_("clearance by"), max_length=20, choices=RoleName.choices, blank=True)
    clearance_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["unit__path", "kind", "name"]
        indexes = [models.Index(fields=["unit", "active"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"

    @property
    def kind_label(self) -> str:
        return str(dict(KIND_CHOICES).get(self.kind, self.kind))

    @property
    def rule_kind(self) -> RuleKind:
        return RuleKind(self.kind)
