from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from legation.network.models import AccountStatus, OfficialAccount, Unit

LANGUAGE_CHOICES = [
    ("en", "English"), ("fr", "Français"), ("ar", "العربية"), ("es", "Español"), ("fa", "فارسی"),
    ("id", "Bahasa Indonesia"), ("ur", "اردو"), ("de", "Deutsch"), ("pt", "Português"), ("ru", "Русский"),
    ("zh", "中文"), ("hi", "हिन्दी"), ("it", "Italiano"), ("tr", "Türkçe"), ("sw", "Kiswahili"),
]
EXTRA_VARIANTS = 3


class ComposerForm(forms.Form):
    """The composer: source text, up to three more language variants, accounts each with a language."""

    source_language = forms.ChoiceField(label=_("Source language"), choices=LANGUAGE_CHOICES)
    source_text = forms.CharField(label=_("Source text"), widget=forms.Textarea(attrs={"rows": 4}))
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    scheduled_for = forms.DateTimeField(label=_("Publish at (mission time; empty: when cleared)"), required=False,
                                        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    image = forms.ImageField(label=_("Image"), required=False)
    image_alt = forms.CharField(label=_("Image description (alt text)"), required=False, max_length=1500)

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        default_lang = (unit.languages or [settings.LANGUAGE_CODE])[0]
        self.fields["source_language"].initial = default_lang
        for i in range(EXTRA_VARIANTS):
            self.fields[f"variant_{i}_language"] = forms.ChoiceField(
                label=_("Language"), choices=[("", "—"), *LANGUAGE_CHOICES], required=False,
                initial=(unit.languages[i + 1] if len(unit.languages) > i + 1 else ""))
            self.fields[f"variant_{i}_text"] = forms.CharField(
                label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
            self.fields[f"variant_{i}_machine"] = forms.BooleanField(required=False, widget=forms.HiddenInput)
        self.accounts = list(OfficialAccount.objects.filter(unit__path__startswith=unit.path,
                                                            status=AccountStatus.ACTIVE).select_related("unit"))
        for account in self.accounts:
            self.fields[f"account_{account.pk}"] = forms.ChoiceField(
                label=str(account), required=False, choices=[("", _("not this account")), *LANGUAGE_CHOICES])

    def account_fields(self) -> list[tuple[OfficialAccount, Any]]:
        return [(account, self[f"account_{account.pk}"]) for account in self.accounts]

    def variant_fields(self) -> list[tuple[int, Any, Any, Any]]:
        return [(i, self[f"variant_{i}_language"], self[f"variant_{i}_text"], self[f"variant_{i}_machine"])
                for i in range(EXTRA_VARIANTS)]

    def clean_scheduled_for(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("scheduled_for")
        if value is None:
            return None
        # The browser sends wall-clock time; it means the mission's time zone.
        naive = value.replace(tzinfo=None)
        return naive.replace(tzinfo=zoneinfo.ZoneInfo(self.unit.time_zone))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("image") and not data.get("image_alt", "").strip():
            self.add_error("image_alt", _("Describe the image for people who cannot see it."))
        return data
