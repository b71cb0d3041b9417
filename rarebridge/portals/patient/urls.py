"""The patient portal, mounted once at /me/ by config/urls.py: the program, the study, the
peer finder and clinic days, each under its own namespace."""

from django.urls import include, path

from rarebridge.portals.patient.views import care, peers, program, study

program_patterns = [
    path("", program.home, name="home"),
    path("week/<int:number>/", program.week, name="week"),
    path("exercise/<slug:key>/", program.exercise, name="exercise"),
    path("exercise/<slug:key>/autosave/", program.exercise_autosave, name="exercise_autosave"),
    path("exercise/<slug:key>/share/", program.exercise_share, name="exercise_share"),
    path("values-and-goals/", program.values_and_goals, name="values_goals"),
    path("booklet.pdf", program.booklet, name="booklet"),
    path("messages/", program.messages_inbox, name="messages"),
    path("calls/", program.calls, name="calls"),
    path("counsellor/", program.counsellor_preferences, name="counsellor_preferences"),
    path("calls/book/", program.call_book_view, name="call_book"),
    path("calls/<int:pk>/", program.call_change, name="call_change"),
    path("calls/<int:pk>/call.ics", program.call_ics, name="call_ics"),
]

peer_patterns = [
    path("", peers.home, name="home"),
    path("conditions/", peers.conditions, name="conditions"),
    path("conditions/<int:pk>/remove/", peers.condition_remove, name="condition_remove"),
    path("join/", peers.join, name="join"),
    path("leave/", peers.leave, name="leave"),
    path("ask/", peers.ask, name="ask"),
    path("contacts/<int:pk>/", peers.contact, name="contact"),
    path("contacts/<int:pk>/respond/", peers.respond, name="respond"),
    path("contacts/<int:pk>/cancel/", peers.cancel, name="cancel"),
    path("contacts/<int:pk>/message/", peers.message, name="message"),
    path("contacts/<int:pk>/share/", peers.share, name="share"),
    path("contacts/<int:pk>/block/", peers.block, name="block"),
    path("contacts/<int:pk>/report/", peers.report, name="report"),
    path("organisations/", peers.organisations, name="organisations"),
]

study_patterns = [
    path("", study.home, name="home"),
    path("consent/", study.consent, name="consent"),
    path("confirm-email/", study.email_confirmation, name="email_confirmation"),
    path("correct-email/", study.email_correct, name="email_correct"),
    path("consent/<int:pk>.pdf", study.consent_pdf, name="consent_pdf"),
    path("withdraw/", study.withdraw, name="withdraw"),
    path("<str:timepoint>/<slug:instrument>/", study.answer, name="answer"),
    path("<str:timepoint>/<slug:instrument>/review/", study.review, name="review"),
]

care_patterns = [
    path("", care.home, name="home"),
    path("clinics/<int:invitation_id>/", care.itinerary, name="itinerary"),
    path(
        "clinics/<int:invitation_id>/itinerary.pdf", care.itinerary_pdf_view, name="itinerary_pdf"
    ),
    path(
        "clinics/<int:invitation_id>/itinerary.ics", care.itinerary_ics_view, name="itinerary_ics"
    ),
]

urlpatterns = [
    path("", include((program_patterns, "patient"))),
    path("peers/", include((peer_patterns, "peers"))),
    path("study/", include((study_patterns, "trials_patient"))),
    path("care/", include((care_patterns, "patient_care"))),
]
