from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from legation.listening.models import ListeningSource

# What a web edit may change: the API's SourcePatch (kind, platform and account are fixed once created).
EDITABLE_FIELDS = ["name", "query", "active", "pull_every", "batch_size", "spike_threshold", "spike_min_count",
                   "story_min_size"]


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ListeningSource
        fields = ["name", "kind", "platform", "query", "account", "pull_every", "batch_size", "spike_threshold",
                  "spike_min_count", "story_min_size"]
        labels = {"account": _("Official account")}

    def __init__(self, *args: Any, accounts: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        self.fields["account"].required = False


class SourceEditForm(forms.ModelForm):  # type: ignore[type-arg]
    """A source's editable settings, prefilled from ``initial``; the change itself goes through the service."""

    class Meta:
        model = ListeningSource
        fields = EDITABLE_FIELDS

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the source's, as keyword arguments for ``update_source``."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: each message next to its field, or above the form."""
    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=200)
