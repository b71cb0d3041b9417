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
]
