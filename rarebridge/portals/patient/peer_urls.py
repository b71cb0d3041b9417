"""The peer finder, mounted at /me/peers/ by config/urls.py."""

from django.urls import path

from rarebridge.portals.patient import peer_views as views

app_name = "peers"
urlpatterns = [
    path("", views.home, name="home"),
    path("conditions/", views.conditions, name="conditions"),
    path("conditions/<int:pk>/remove/", views.condition_remove, name="condition_remove"),
    path("join/", views.join, name="join"),
    path("leave/", views.leave, name="leave"),
    path("ask/", views.ask, name="ask"),
    path("contacts/<int:pk>/", views.contact, name="contact"),
    path("contacts/<int:pk>/respond/", views.respond, name="respond"),
    path("contacts/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("contacts/<int:pk>/message/", views.message, name="message"),
    path("contacts/<int:pk>/share/", views.share, name="share"),
    path("contacts/<int:pk>/block/", views.block, name="block"),
    path("contacts/<int:pk>/report/", views.report, name="report"),
    path("organisations/", views.organisations, name="organisations"),
]
