from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

# Pages a signed-in person may reach before completing two-factor sign-in.
_TWO_FACTOR_OPEN = ("/login", "/logout", "/account/2fa", "/static/", "/i18n/", "/api/")


class PersonLanguageMiddleware:
    """Use the interface language the person chose, over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


class TwoFactorMiddleware:
    """Send a signed-in person to finish two-factor sign-in, or to enrol when a unit of theirs requires it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(_TWO_FACTOR_OPEN):
            from django_otp import user_has_device

            from legation.network.services import requires_2fa

            verified = user.is_verified()  # type: ignore[union-attr,attr-defined]
            if not verified:
                if user_has_device(user, confirmed=True):
                    return redirect(reverse("web:logout_then_login"))
                if requires_2fa(user):  # type: ignore[arg-type]
                    return redirect(reverse("web:totp_setup"))
        return self.get_response(request)
