"""Safety pages, mounted at /safety/ by config/urls.py."""

from django.urls import path

from rarebridge.portals.staff import safety_views as views

app_name = "safety"
urlpatterns = [
    path("patients/<int:patient_id>/concern/", views.concern_raise_view, name="concern_raise"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert_acknowledge"),
    path("alerts/<int:pk>/close/", views.alert_close_view, name="alert_close"),
    path("supervision/", views.supervision, name="supervision"),
    path("escalation/", views.escalation, name="escalation"),
]
