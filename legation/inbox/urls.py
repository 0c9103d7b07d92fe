from __future__ import annotations

from django.urls import path

from legation.inbox import views

app_name = "inbox"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/pull/<int:account_id>/", views.pull_now, name="pull_now"),
    path("hooks/<str:key>/", views.webhook, name="webhook"),
]
