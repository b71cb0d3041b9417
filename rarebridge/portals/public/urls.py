from django.urls import path

from rarebridge.portals.public import views

app_name = "public"
urlpatterns = [
    path("", views.index, name="index"),
    path("help/", views.help_now, name="help"),
    path("language/", views.set_language, name="set_language"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/reminders/", views.reminders, name="reminders"),
    path("preferences/email/", views.email_change, name="email_change"),
    path("invite/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("demo/outbox/", views.demo_outbox, name="demo_outbox"),
]
