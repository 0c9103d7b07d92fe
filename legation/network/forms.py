from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from legation.network.models import PLATFORM_CHOICES, Person, RoleName, Unit, UnitKind


def _language_list(value: str) -> list[str]:
    return [code.strip().lower() for code in value.replace(";", ",").split(",") if code.strip()]


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=[c for c in UnitKind.choices if c[0] != UnitKind.MINISTRY])
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2, required=False)
    languages = forms.CharField(label=_("Languages (ISO codes, comma-separated)"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), initial="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]
        self.fields["time_zone"].choices = zones  # type: ignore[attr-defined]

    def clean_languages(self) -> list[str]:
        return _language_list(self.cleaned_data["languages"])


class PersonForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=RoleName.choices)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, required=False,
                               help_text=_("Leave empty to set it later."))


class GrantForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=Person.objects.filter(is_active=True))
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.all())
    role = forms.ChoiceField(label=_("Role"), choices=RoleName.choices)


class AccountForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES)
    handle = forms.CharField(label=_("Handle or address"), max_length=200)
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False,
                               help_text=_("e.g. Ambassador — the account passes to successors"))
    unit = forms.ModelChoiceField(label=_("Owning unit"), queryset=Unit.objects.all())


class CredentialForm(forms.Form):
    name = forms.CharField(label=_("Secret name"), max_length=100, initial="access_token")
    value = forms.CharField(label=_("Secret value"), widget=forms.PasswordInput(render_value=False))


class HandoverForm(forms.Form):
    to_holder = forms.ModelChoiceField(label=_("New holder"), queryset=Person.objects.filter(is_active=True),
                                       required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LockForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
