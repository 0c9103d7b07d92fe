from __future__ import annotations

from typing import Any

from django import forms

from legation.listening.models import ListeningSource


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ListeningSource
        fields = ["name", "kind", "platform", "query", "account", "pull_every", "batch_size", "spike_threshold",
                  "spike_min_count", "story_min_size"]

    def __init__(self, *args: Any, accounts: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        self.fields["account"].required = False


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=200)
