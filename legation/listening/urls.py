from __future__ import annotations

from django.urls import path

from legation.listening import views

app_name = "listening"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search_page, name="search"),
    path("search/saved/<int:saved_id>/delete/", views.delete_saved_search, name="delete_saved_search"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/read-accurately/", views.read_item_accurately, name="read_item_accurately"),
    path("sources/", views.sources, name="sources"),
    path("sources/<int:source_id>/edit/", views.edit_source, name="edit_source"),
    path("alerts/<int:alert_id>/acknowledge/", views.acknowledge_alert, name="acknowledge_alert"),
]
