"""The peer counsellor's portal, mounted once by config/urls.py: /counsellor/ (calls,
caseload, notes, availability) and the private calendar feed."""

from django.urls import include, path

from rarebridge.portals.counsellor import views

counsellor_patterns = [
    path("", views.home, name="home"),
    path("availability/", views.availability, name="availability"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:pk>/note/", views.call_note, name="call_note"),
    path("calendar-feed/", views.calendar_feed, name="calendar_feed"),
    path("profile/", views.profile, name="profile"),
    path("patients/<int:patient_pk>/book/", views.book_for_patient, name="book"),
]

urlpatterns = [
    path("counsellor/", include((counsellor_patterns, "counsellor"))),
    # A private calendar link: the token is the credential, so it lives outside /counsellor/.
    path("calendar/<str:token>.ics", views.calendar_feed_ics, name="calendar_feed_ics"),
]
