from django.urls import path

from rarebridge.portals.patient import trial_views

app_name = "trials_patient"
urlpatterns = [
    path("", trial_views.home, name="home"),
    path("consent/", trial_views.consent, name="consent"),
    path("confirm-email/", trial_views.email_confirmation, name="email_confirmation"),
    path("correct-email/", trial_views.email_correct, name="email_correct"),
    path("consent/<int:pk>.pdf", trial_views.consent_pdf, name="consent_pdf"),
    path("withdraw/", trial_views.withdraw, name="withdraw"),
    path("<str:timepoint>/<slug:instrument>/", trial_views.answer, name="answer"),
    path("<str:timepoint>/<slug:instrument>/review/", trial_views.review, name="review"),
]
