from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from legation.listening.models import SOURCE_BOUNDS, ListeningSource


def _bounded(form: forms.BaseForm) -> None:
    """The number fields' bounds are the sources' (SOURCE_BOUNDS): the browser's field and the first message
    name the same least value (a positive integer's own "≥ 0" said 0 was allowed, then 1 was asked)."""
    for name, (low, high) in SOURCE_BOUNDS.items():
        field = form.fields.get(name)
        if isinstance(field, forms.IntegerField | forms.FloatField):
            field.min_value, field.max_value = low, high  # type: ignore[assignment]
            field.widget.attrs.update({"min": low, "max": high})
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]

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
        _bounded(self)


class SourceEditForm(forms.ModelForm):  # type: ignore[type-arg]
    """A source's editable settings, prefilled from ``initial``; the change itself goes through the service."""

    class Meta:
        model = ListeningSource
        fields = EDITABLE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bounded(self)

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the source's, as keyword arguments for ``update_source``."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: each message next to its field, or above the form."""
    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=200)
