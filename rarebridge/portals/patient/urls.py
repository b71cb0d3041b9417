from django.urls import path

from rarebridge.portals.patient import views

app_name = "patient"
urlpatterns = [
    path("", views.home, name="home"),
    path("week/<int:number>/", views.week, name="week"),
    path("exercise/<slug:key>/", views.exercise, name="exercise"),
    path("exercise/<slug:key>/autosave/", views.exercise_autosave, name="exercise_autosave"),
    path("exercise/<slug:key>/share/", views.exercise_share, name="exercise_share"),
    path("values-and-goals/", views.values_and_goals, name="values_goals"),
    path("booklet.pdf", views.booklet, name="booklet"),
    path("messages/", views.messages_inbox, name="messages"),
    path("calls/", views.calls, name="calls"),
    path("counsellor/", views.counsellor_preferences, name="counsellor_preferences"),
    path("calls/book/", views.call_book_view, name="call_book"),
    path("calls/<int:pk>/", views.call_change, name="call_change"),
    path("calls/<int:pk>/call.ics", views.call_ics, name="call_ics"),
]
