"""Sign-in (password, then TOTP), the home page, the unit switcher, language and personal security settings."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from legation.network import services
from legation.network.models import ApiToken, OfficialAccount, Person
from legation.network.permissions import Action, units_where
from legation.publishing.models import UnauthorisedPost
from legation.records.models import Record
from legation.web.context import current_unit
from legation.web.params import posted_id

PENDING_USER = "legation_pending_user"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return "/"


def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: username and password. With a confirmed authenticator, step two asks for its code."""
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user_has_device(user, confirmed=True):
            request.session[PENDING_USER] = user.pk
            request.session["legation_next"] = _next_url(request)
            return redirect("web:login_verify")
        login(request, user)
        return redirect(_next_url(request))
    return render(request, "web/login.html", {"form": form, "next": request.GET.get("next", "")})


def login_verify(request: HttpRequest) -> HttpResponse:
    """Step two: the six-digit code from the person's authenticator."""
    user_id = request.session.get(PENDING_USER)
    if not user_id:
        return redirect("web:login")
    user = get_object_or_404(Person, pk=user_id, is_active=True)
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None and device.verify_is_allowed()[0] and device.verify_token(token):
            target = request.session.pop("legation_next", "/")
            request.session.pop(PENDING_USER, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return redirect(target)
        error = _("That code is not right, or too many tries were made. Wait and try again.")
    return render(request, "web/login_verify.html", {"error": error})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


def logout_then_login(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Sign in again with your authenticator code."))
    return redirect("web:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    context: dict[str, Any] = {"unit": unit}
    if unit is not None:
        subtree = unit.subtree()
        context.update(
            units=subtree.count(),
            accounts=OfficialAccount.objects.filter(unit__in=subtree).count(),
            attention=OfficialAccount.objects.filter(unit__in=subtree).exclude(last_error="").select_related("unit")[:10],
            pending=OfficialAccount.objects.filter(unit__in=subtree, status="pending").select_related("unit")[:10],
            recent=Record.objects.filter(unit_path__startswith=unit.path)[:8],
            unauthorised=UnauthorisedPost.objects.filter(account__unit__path__startswith=unit.path,
                                                         acknowledged_at__isnull=True).select_related("account")[:10],
        )
    return render(request, "web/home.html", context)


@login_required
@require_POST
def switch_unit(request: HttpRequest) -> HttpResponse:
    unit = get_object_or_404(units_where(request.user, Action.UNIT_VIEW), pk=posted_id(request.POST.get("unit")))
    request.session["unit_id"] = unit.pk
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(_next_url(request))


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    try:
        services.set_language(request.user, request.POST.get("language", ""))  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect(_next_url(request))


@login_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, type a code to confirm."""
    person: Person = request.user  # type: ignore[assignment]
    confirmed = TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    error = ""
    if request.method == "POST":
        if services.confirm_totp_enrolment(person, request.POST.get("token", "")):
            device = TOTPDevice.objects.get(user=person, confirmed=True)
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("web:home")
        error = _("That code is not right. Check your device's clock and try again.")
    device = services.start_totp_enrolment(person)
    qr = segno.make(device.config_url, error="m")
    return render(request, "web/totp_setup.html", {
        "qr_svg": qr.svg_inline(scale=4, dark="#1b2a3a"),
        "secret": _base32(device.bin_key),
        "confirmed": confirmed,
        "required": services.requires_2fa(person),
        "error": error,
    })


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode("ascii").rstrip("=")


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token = get_object_or_404(ApiToken, pk=posted_id(request.POST["revoke"]), person=person)
            services.revoke_api_token(person, token)
            messages.success(request, _("Token revoked."))
            return redirect("web:api_tokens")
        try:
            _token, new_token = services.create_api_token(person, request.POST.get("name", ""))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return render(request, "web/api_tokens.html", {
        "tokens": person.api_tokens.all(), "new_token": new_token,
    })
