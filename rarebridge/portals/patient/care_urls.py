"""The family's clinic pages, mounted at /me/care/ by config/urls.py."""

from django.urls import path

from rarebridge.portals.patient import care_views as views

app_name = "patient_care"
urlpatterns = [
    path("", views.home, name="home"),
    path("clinics/<int:invitation_id>/", views.itinerary, name="itinerary"),
    path(
        "clinics/<int:invitation_id>/itinerary.pdf", views.itinerary_pdf_view, name="itinerary_pdf"
    ),
    path(
        "clinics/<int:invitation_id>/itinerary.ics", views.itinerary_ics_view, name="itinerary_ics"
    ),
]
