from django.urls import path

from rarebridge.portals.counsellor import views

app_name = "counsellor"
urlpatterns = [
    path("", views.home, name="home"),
    path("availability/", views.availability, name="availability"),
    path("calls/<int:pk>/note/", views.call_note, name="call_note"),
    path("calendar-feed/", views.calendar_feed, name="calendar_feed"),
    path("profile/", views.profile, name="profile"),
    path("patients/<int:patient_pk>/book/", views.book_for_patient, name="book"),
]
