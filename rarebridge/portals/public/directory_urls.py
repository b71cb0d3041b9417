"""The public directory, mounted at /directory/ by config/urls.py."""

from django.urls import path

from rarebridge.portals.public import directory_views as views

app_name = "directory"
urlpatterns = [
    path("", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("entries/<slug:slug>/", views.entry, name="entry"),
    path("conditions/<int:orphacode>/", views.condition, name="condition"),
]
