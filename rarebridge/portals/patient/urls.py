from django.urls import path

from rarebridge.portals.patient import views

app_name = "patient"
urlpatterns = [
    path("", views.home, name="home"),
    path("messages/", views.messages_inbox, name="messages"),
]
