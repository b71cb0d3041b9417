"""The public portal, mounted once at the root by config/urls.py: invitations, sign-in
helpers and preferences, the directory, a study's self-referral."""

from django.urls import include, path

from rarebridge.portals.public.views import accounts, directory, join

account_patterns = [
    path("", accounts.index, name="index"),
    path("help/", accounts.help_now, name="help"),
    path("language/", accounts.set_language, name="set_language"),
    path("preferences/", accounts.preferences, name="preferences"),
    path("preferences/reminders/", accounts.reminders, name="reminders"),
    path("preferences/email/", accounts.email_change, name="email_change"),
    path("invite/<str:token>/", accounts.invitation_accept_view, name="invitation_accept"),
    path("demo/outbox/", accounts.demo_outbox, name="demo_outbox"),
]

directory_patterns = [
    path("", directory.search, name="search"),
    path("suggest/", directory.suggest, name="suggest"),
    path("entries/<slug:slug>/", directory.entry, name="entry"),
    path("conditions/<int:orphacode>/", directory.condition, name="condition"),
]

join_patterns = [
    path("", join.study_list, name="studies"),
    path("<slug:slug>/", join.self_referral, name="join"),
]

urlpatterns = [
    path("", include((account_patterns, "public"))),
    path("directory/", include((directory_patterns, "directory"))),
    path("join/", include((join_patterns, "trials_public"))),
]
