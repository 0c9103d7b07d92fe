from __future__ import annotations

from django.urls import path

from legation.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("", views.timeline, name="timeline"),
    path("join/", views.join, name="join"),
    path("act/", views.act, name="act"),
    path("posts/<int:post_id>/", views.post_detail, name="post"),
    path("<str:handle>/", views.profile, name="profile"),
]
