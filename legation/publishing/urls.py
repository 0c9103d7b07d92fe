from __future__ import annotations

from django.urls import path

from legation.publishing import views

app_name = "publishing"
urlpatterns = [
    path("posts/", views.post_list, name="posts"),
    path("posts/new/", views.compose, name="compose"),
    path("posts/preview/", views.preview, name="preview"),
    path("posts/translate/<int:index>/", views.translate_variant, name="translate"),
    path("posts/<int:post_id>/", views.post_detail, name="post"),
    path("posts/<int:post_id>/edit/", views.compose, name="edit"),
    path("clearances/", views.clearance_queue, name="clearances"),
    path("calendar/", views.calendar, name="calendar"),
]
