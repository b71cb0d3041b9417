"""Directory verification and peer-finder moderation, mounted at /staff/directory/."""

from django.urls import path

from rarebridge.portals.staff import directory_views as views

app_name = "directory_admin"
urlpatterns = [
    path("", views.entries, name="entries"),
    path("entries/<int:pk>/", views.entry, name="entry"),
    path("entries/<int:pk>/verify/", views.verify, name="verify"),
    path("entries/<int:pk>/reject/", views.reject, name="reject"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/acknowledge/", views.report_acknowledge_view, name="report_acknowledge"),
    path("reports/<int:pk>/close/", views.report_close_view, name="report_close"),
]
