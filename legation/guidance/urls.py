from __future__ import annotations

from django.urls import path

from legation.guidance import views

app_name = "guidance"

urlpatterns = [
    path("", views.guidance, name="rules"),
    path("try/", views.try_text, name="try"),
    path("rules/<int:rule_id>/deactivate/", views.set_active, {"active": False}, name="deactivate"),
    path("rules/<int:rule_id>/reactivate/", views.set_active, {"active": True}, name="reactivate"),
]
