"""The staff portal, mounted once at the root by config/urls.py: /staff/ (people, matching,
crisis resources, programs, audit, study, directory, care) and /safety/ (alerts, supervision)."""

from django.urls import include, path

from rarebridge.portals.staff.views import (
    care_clinics,
    care_itineraries,
    care_patients,
    care_planning,
    care_setup,
    directory,
    people,
    safety,
    study,
    supervision_calls,
)

people_patterns = [
    path("", people.home, name="home"),
    path("patients/", people.patients, name="patients"),
    path("patients/<int:pk>/", people.patient_detail, name="patient_detail"),
    path("audit/", people.audit, name="audit"),
    path("invitations/", people.invitations, name="invitations"),
    path("invitations/<int:pk>/revoke/", people.invitation_revoke_view, name="invitation_revoke"),
    path("crisis-resources/", people.crisis_resources, name="crisis_resources"),
    path("crisis-resources/<int:pk>/", people.crisis_resource_edit, name="crisis_resource_edit"),
    path("supervision/", people.supervision, name="supervision"),
    path("counsellors/", people.counsellors, name="counsellors"),
    path("counsellors/<int:pk>/training/", people.counsellor_training, name="counsellor_training"),
    path("matching/", people.matching, name="matching"),
    path(
        "counsellors/<int:pk>/deactivate/",
        people.counsellor_deactivate_view,
        name="counsellor_deactivate",
    ),
    path("programs/", people.programs, name="programs"),
    path("programs/<int:pk>/", people.program_version, name="program_version"),
    path("programs/<int:pk>/preview/", people.program_preview, name="program_preview"),
]

directory_patterns = [
    path("", directory.entries, name="entries"),
    path("entries/<int:pk>/", directory.entry, name="entry"),
    path("entries/<int:pk>/verify/", directory.verify, name="verify"),
    path("entries/<int:pk>/reject/", directory.reject, name="reject"),
    path("reports/", directory.reports, name="reports"),
    path("reports/<int:pk>/", directory.report, name="report"),
    path(
        "reports/<int:pk>/acknowledge/",
        directory.report_acknowledge_view,
        name="report_acknowledge",
    ),
    path("reports/<int:pk>/close/", directory.report_close_view, name="report_close"),
]

study_patterns = [
    path("", study.studies, name="studies"),
    path("<slug:slug>/", study.dashboard, name="dashboard"),
    path("<slug:slug>/participants/", study.participants, name="participants"),
    path("<slug:slug>/participants/<int:pk>/", study.participant_detail, name="participant"),
    path("<slug:slug>/participants/<int:pk>/randomise/", study.randomise, name="randomise"),
    path(
        "<slug:slug>/participants/<int:pk>/countersign/",
        study.countersign,
        name="countersign",
    ),
    path("<slug:slug>/participants/<int:pk>/withdraw/", study.withdraw, name="withdraw"),
    path(
        "<slug:slug>/participants/<int:pk>/<str:timepoint>/<slug:instrument>/",
        study.data_entry,
        name="data_entry",
    ),
    path("<slug:slug>/refer/", study.refer, name="refer"),
    path("<slug:slug>/screening/", study.screening, name="screening"),
    path("<slug:slug>/allocation-table/", study.allocation_table, name="allocation_table"),
    path("<slug:slug>/export/responses.json", study.export_fhir, name="export_fhir"),
]

care_patterns = [
    path("", care_patients.home, name="home"),
    path("patients/<int:patient_id>/", care_patients.patient, name="patient"),
    path("patients/<int:patient_id>/team/", care_patients.team_member_add_view, name="team_add"),
    path("patients/<int:patient_id>/goals/", care_patients.goal_add_view, name="goal_add"),
    path("patients/<int:patient_id>/notes/", care_patients.note_add_view, name="note_add"),
    path(
        "patients/<int:patient_id>/checklist/",
        care_patients.checklist_set_view,
        name="checklist_set",
    ),
    path(
        "patients/<int:patient_id>/letters/", care_patients.letter_write_view, name="letter_write"
    ),
    path("patients/<int:patient_id>/letters/<int:letter_id>/", care_patients.letter, name="letter"),
    path("goals/<int:goal_id>/tasks/", care_patients.task_add_view, name="task_add"),
    path("tasks/<int:task_id>/done/", care_patients.task_done_view, name="task_done"),
    path("clinics/new/", care_clinics.clinic_new, name="clinic_new"),
    path("clinics/<int:clinic_id>/", care_clinics.clinic, name="clinic"),
    path("clinics/<int:clinic_id>/setup/", care_setup.clinic_setup, name="clinic_setup"),
    path(
        "clinics/<int:clinic_id>/setup/<str:kind>/<int:item_id>/",
        care_setup.clinic_setup_edit,
        name="clinic_setup_edit",
    ),
    path(
        "clinics/<int:clinic_id>/setup/<str:kind>/<int:item_id>/remove/",
        care_setup.clinic_setup_remove,
        name="clinic_setup_remove",
    ),
    path("clinics/<int:clinic_id>/plan/", care_planning.clinic_plan_view, name="clinic_plan"),
    path("clinics/<int:clinic_id>/replan/", care_planning.clinic_replan_view, name="clinic_replan"),
    path(
        "clinics/<int:clinic_id>/progress/",
        care_clinics.clinic_progress_view,
        name="clinic_progress",
    ),
    path("clinics/<int:clinic_id>/send/", care_planning.clinic_send_view, name="clinic_send"),
    path(
        "clinics/<int:clinic_id>/late/",
        care_planning.professional_late_view,
        name="professional_late",
    ),
    path(
        "clinics/<int:clinic_id>/professionals/<int:professional_id>/",
        care_clinics.professional_sheet,
        name="professional_sheet",
    ),
    path(
        "clinics/<int:clinic_id>/rooms/<int:room_id>/",
        care_clinics.room_sheet,
        name="room_sheet",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        care_planning.appointment_cancel_view,
        name="appointment_cancel",
    ),
    path("itineraries/<int:invitation_id>/", care_itineraries.itinerary, name="itinerary"),
    path(
        "itineraries/<int:invitation_id>/itinerary.pdf",
        care_itineraries.itinerary_pdf_view,
        name="itinerary_pdf",
    ),
    path(
        "itineraries/<int:invitation_id>/itinerary.ics",
        care_itineraries.itinerary_ics_view,
        name="itinerary_ics",
    ),
    path("itineraries/<int:invitation_id>/travel/", care_itineraries.travel, name="travel"),
    path(
        "itineraries/<int:invitation_id>/cancel/",
        care_planning.invitation_cancel_view,
        name="invitation_cancel",
    ),
]

safety_patterns = [
    path("patients/<int:patient_id>/concern/", safety.concern_raise_view, name="concern_raise"),
    path("alerts/", safety.alerts, name="alerts"),
    path("alerts/<int:pk>/", safety.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", safety.alert_acknowledge_view, name="alert_acknowledge"),
    path("alerts/<int:pk>/close/", safety.alert_close_view, name="alert_close"),
    path("supervision/", safety.supervision, name="supervision"),
    path(
        "counsellors/<int:pk>/calls/",
        supervision_calls.counsellor_calls,
        name="counsellor_calls",
    ),
    path("calls/<int:pk>/note/", supervision_calls.call_note, name="call_note"),
    path("escalation/", safety.escalation, name="escalation"),
]

urlpatterns = [
    path("staff/", include((people_patterns, "staff"))),
    path("staff/directory/", include((directory_patterns, "directory_admin"))),
    path("staff/study/", include((study_patterns, "trials_staff"))),
    path("staff/care/", include((care_patterns, "care"))),
    path("safety/", include((safety_patterns, "safety"))),
]
