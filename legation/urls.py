"""The URL map."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from legation.api import api
from legation.network import views as network_views
from legation.records import views as records_views
from legation.web import views as web_views


def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


web_patterns = (
    [
        path("", web_views.home, name="home"),
        path("login/", web_views.login_view, name="login"),
        path("login/verify/", web_views.login_verify, name="login_verify"),
        path("logout/", web_views.logout_view, name="logout"),
        path("logout/again/", web_views.logout_then_login, name="logout_then_login"),
        path("switch-unit/", web_views.switch_unit, name="switch_unit"),
        path("language/", web_views.set_language, name="set_language"),
        path("account/2fa/", web_views.totp_setup, name="totp_setup"),
        path("account/tokens/", web_views.api_tokens, name="api_tokens"),
    ],
    "web",
)

network_patterns = (
    [
        path("units/", network_views.unit_tree, name="units"),
        path("units/<int:unit_id>/", network_views.unit_detail, name="unit"),
        path("people/", network_views.people, name="people"),
        path("roles/<int:role_id>/revoke/", network_views.revoke_role, name="revoke_role"),
        path("accounts/", network_views.accounts, name="accounts"),
        path("accounts/<int:account_id>/", network_views.account_detail, name="account"),
    ],
    "network",
)

records_patterns = ([path("ledger/", records_views.ledger, name="ledger")], "records")

urlpatterns = [
    path("", include(web_patterns)),
    path("", include(network_patterns)),
    path("", include(records_patterns)),
    path("", include("legation.inbox.urls")),
    path("sandbox/", include("legation.sandbox.urls")),
    path("listening/", include("legation.listening.urls")),
    path("", include("legation.publishing.urls")),
    path("guidance/", include("legation.guidance.urls")),
    path("api/v1/", api.urls),
    path("healthz", healthz),
]
