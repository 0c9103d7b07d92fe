"""Pages for the unit tree, people and roles, and the official accounts registry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from legation.network import services
from legation.network.forms import AccountForm, CredentialForm, GrantForm, HandoverForm, LockForm, PersonForm, UnitForm
from legation.network.models import OfficialAccount, Person, Role, Unit
from legation.network.permissions import Action, may, path_filter, require, role_on, units_where
from legation.web.context import current_unit
from legation.web.params import posted_id


def _form_errors(form: Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form, on the named field where there is one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def visible_unit(request: HttpRequest, unit_id: int) -> Unit:
    """A unit the person may view, else 404 (unknown) or 403 (not theirs)."""
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, Action.UNIT_VIEW, unit)  # type: ignore[arg-type]
    return unit


@login_required
def unit_tree(request: HttpRequest) -> HttpResponse:
    units = units_where(request.user, Action.UNIT_VIEW).order_by("path")
    return render(request, "network/unit_tree.html", {"units": units})


@login_required
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = visible_unit(request, unit_id)
    form = UnitForm(request.POST or None, prefix="child")
    if request.method == "POST":
        if "pause_publishing" in request.POST or "resume_publishing" in request.POST:
            from legation.publishing import services as publishing

            try:
                if "pause_publishing" in request.POST:
                    publishing.pause_publishing(request.user, unit, reason=request.POST.get("reason", ""))  # type: ignore[arg-type]
                    messages.warning(request, _("Publishing is paused here and in every unit below."))
                else:
                    publishing.resume_publishing(request.user, unit)  # type: ignore[arg-type]
                    messages.success(request, _("Publishing resumed."))
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            return redirect("network:unit", unit_id=unit.pk)
        if "require_2fa" in request.POST:
            services.set_unit_2fa(request.user, unit, request.POST["require_2fa"] == "on")  # type: ignore[arg-type]
            messages.success(request, _("Saved."))
            return redirect("network:unit", unit_id=unit.pk)
        if form.is_valid():
            try:
                child = services.create_unit(request.user, parent=unit, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Unit %(name)s created.") % {"name": child.name})
                return redirect("network:unit", unit_id=child.pk)
    return render(request, "network/unit_detail.html", {
        "unit": unit,
        "ancestors": unit.ancestors(),
        "children": unit.children.all(),
        "roles": Role.objects.filter(unit__in=unit.ancestors()).select_related("person", "unit"),
        "accounts": unit.accounts.all(),
        "form": form,
        "can_admin": may(request.user, Action.UNIT_UPDATE, unit),  # type: ignore[arg-type]
        "my_role": role_on(request.user, unit),
    })


@login_required
def people(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    if unit is None:
        raise PermissionDenied(_("You hold no role on any unit."))
    roles = Role.objects.filter(unit__path__startswith=unit.path).select_related("person", "unit", "granted_by")
    can_manage = may(request.user, Action.PEOPLE_MANAGE, unit)  # type: ignore[arg-type]
    admin_units = units_where(request.user, Action.PEOPLE_MANAGE).filter(path__startswith=unit.path)
    person_form = PersonForm(request.POST or None, prefix="person")
    grant_form = GrantForm(request.POST or None, prefix="grant")
    grant_form.fields["unit"].queryset = admin_units  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            if "person-username" in request.POST and person_form.is_valid():
                data = person_form.cleaned_data
                person = services.create_person(request.user, unit=unit, username=data["username"],  # type: ignore[arg-type]
                                                role=data["role"], email=data["email"],
                                                display_name=data["display_name"], password=data["password"] or None)
                messages.success(request, _("%(name)s added.") % {"name": person})
                return redirect("network:people")
            if "grant-person" in request.POST and grant_form.is_valid():
                services.grant_role(request.user, **grant_form.cleaned_data)  # type: ignore[arg-type]
                messages.success(request, _("Role granted."))
                return redirect("network:people")
        except ValidationError as exc:
            _form_errors(person_form if "person-username" in request.POST else grant_form, exc)
    return render(request, "network/people.html", {
        "unit": unit, "roles": roles, "can_manage": can_manage,
        "person_form": person_form, "grant_form": grant_form,
    })


@login_required
@require_POST
def revoke_role(request: HttpRequest, role_id: int) -> HttpResponse:
    role = get_object_or_404(Role.objects.select_related("unit", "person"), pk=role_id)
    require(request.user, Action.PEOPLE_VIEW, role.unit)  # type: ignore[arg-type]
    services.revoke_role(request.user, role)  # type: ignore[arg-type]
    messages.success(request, _("Role revoked."))
    return redirect("network:people")


def _visible_accounts(request: HttpRequest) -> Any:
    query = path_filter(request.user, Action.ACCOUNT_VIEW, "unit__path")
    accounts = OfficialAccount.objects.select_related("unit", "holder")
    return accounts.filter(query) if query is not None else accounts


@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    listing = _visible_accounts(request)
    if unit is not None:
        listing = listing.filter(unit__path__startswith=unit.path)
    status = request.GET.get("status", "")
    if status:
        listing = listing.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        listing = listing.filter(Q(handle__icontains=q) | Q(display_name__icontains=q) | Q(position__icontains=q))
    form = AccountForm(request.POST or None, initial={"unit": unit})
    form.fields["unit"].queryset = units_where(request.user, Action.ACCOUNT_REGISTER)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            account = services.register_account(request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Account registered; a second admin must approve it."))
            return redirect("network:account", account_id=account.pk)
    return render(request, "network/accounts.html", {
        "accounts": listing, "form": form, "status": status, "q": q,
        "can_register": units_where(request.user, Action.ACCOUNT_REGISTER).exists(),
    })


@login_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(OfficialAccount.objects.select_related("unit", "holder"), pk=account_id)
    if not may(request.user, Action.ACCOUNT_VIEW, account.unit):  # type: ignore[arg-type]
        raise PermissionDenied
    actor: Person = request.user  # type: ignore[assignment]
    forms = {
        "credential": CredentialForm(request.POST if "credential" in request.POST else None, prefix="cred"),
        "handover": HandoverForm(request.POST if "handover" in request.POST else None, prefix="handover"),
        "lock": LockForm(request.POST if "lock" in request.POST else None, prefix="lock"),
    }
    if request.method == "POST":
        try:
            if "acknowledge" in request.POST:
                from legation.publishing import services as publishing

                item = get_object_or_404(account.unauthorised_posts, pk=posted_id(request.POST["acknowledge"]))
                publishing.acknowledge_unauthorised(actor, item, note=request.POST.get("note", ""))
                messages.success(request, _("Acknowledged."))
            elif "sandbox_connect" in request.POST:
                from legation.sandbox.services import connect_official_account

                connect_official_account(actor, account)
                messages.success(request, _("The account now exists on the sandbox network; its token is stored."))
            elif "approve" in request.POST:
                services.approve_account(actor, account)
                messages.success(request, _("Account approved."))
            elif "status" in request.POST:
                services.set_account_status(actor, account, request.POST["status"])
                messages.success(request, _("Status changed."))
            else:
                name = next((n for n in forms if n in request.POST), None)
                if name is None:
                    raise Http404
                form = forms[name]
                if not form.is_valid():
                    raise ValidationError(_("Check the form."))
                data = form.cleaned_data
                if name == "credential":
                    services.set_credentials(actor, account, {data["name"]: data["value"]})
                    messages.success(request, _("Secret stored, encrypted."))
                elif name == "handover":
                    services.handover_account(actor, account, to_holder=data["to_holder"], note=data["note"])
                    messages.success(request, _("Account handed over."))
                elif name == "lock":
                    services.lock_account(actor, account, reason=data["reason"])
                    messages.warning(request, _("Account locked network-wide; its tokens were removed."))
            return redirect("network:account", account_id=account.pk)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return render(request, "network/account_detail.html", {
        "account": account,
        "credentials": account.credentials.all(),
        "handovers": account.handovers.select_related("from_holder", "to_holder", "by"),
        "can_manage": may(actor, Action.ACCOUNT_MANAGE, account.unit),
        "can_approve": may(actor, Action.ACCOUNT_APPROVE, account.unit) and account.created_by_id != actor.pk,
        "inbound": account.inbound.all()[:20],
        "unauthorised": account.unauthorised_posts.filter(acknowledged_at__isnull=True),
        "webhook_url": request.build_absolute_uri(f"/hooks/{account.webhook_key}/"),
        **forms,
    })
