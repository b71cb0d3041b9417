from django.urls import path

from rarebridge.portals.public import trial_views

app_name = "trials_public"
urlpatterns = [
    path("", trial_views.study_list, name="studies"),
    path("<slug:slug>/", trial_views.self_referral, name="join"),
]
