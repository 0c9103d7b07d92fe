from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from legation.network.models import Person, Unit
from legation.network.permissions import Action, units_where
from legation.records.models import Record
from legation.records.queries import filter_records, visible_records
from legation.web.context import current_unit


class LedgerFilter(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    person = forms.ModelChoiceField(label=_("Person"), queryset=Person.objects.all(), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    records = visible_records(request.user)
    # Until the person filters, the ledger shows the unit they are working in (and everything below it).
    unit = current_unit(request)
    form = LedgerFilter(request.GET if request.GET else {"unit": unit.pk if unit else ""})
    form.fields["unit"].queryset = units_where(request.user, Action.LEDGER_VIEW).order_by("path")  # type: ignore[attr-defined]
    actions = Record.objects.order_by().values_list("action", flat=True).distinct()
    form.fields["action"].choices = [("", "—")] + [(a, a) for a in sorted(set(actions))]  # type: ignore[attr-defined]
    if form.is_valid():
        cleaned: dict[str, Any] = form.cleaned_data
        records = filter_records(
            records,
            unit_path=cleaned["unit"].path if cleaned["unit"] else None,
            actor_id=cleaned["person"].pk if cleaned["person"] else None,
            action=cleaned["action"] or None,
            since=cleaned["since"],
            until=cleaned["until"],
        )
    page = Paginator(records.order_by("-id"), 50).get_page(request.GET.get("page"))
    template = "records/_ledger_rows.html" if request.htmx else "records/ledger.html"  # type: ignore[attr-defined]
    return render(request, template, {"page": page, "form": form, "query": request.GET.urlencode()})
