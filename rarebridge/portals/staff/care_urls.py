"""Care coordination pages, mounted at /staff/care/ by config/urls.py."""

from django.urls import path

from rarebridge.portals.staff import care_views as views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    path("patients/<int:patient_id>/", views.patient, name="patient"),
    path("patients/<int:patient_id>/team/", views.team_member_add_view, name="team_add"),
    path("patients/<int:patient_id>/goals/", views.goal_add_view, name="goal_add"),
    path("patients/<int:patient_id>/notes/", views.note_add_view, name="note_add"),
    path("patients/<int:patient_id>/checklist/", views.checklist_set_view, name="checklist_set"),
    path("patients/<int:patient_id>/letters/", views.letter_write_view, name="letter_write"),
    path("patients/<int:patient_id>/letters/<int:letter_id>/", views.letter, name="letter"),
    path("goals/<int:goal_id>/tasks/", views.task_add_view, name="task_add"),
    path("tasks/<int:task_id>/done/", views.task_done_view, name="task_done"),
    path("clinics/new/", views.clinic_new, name="clinic_new"),
    path("clinics/<int:clinic_id>/", views.clinic, name="clinic"),
    path("clinics/<int:clinic_id>/setup/", views.clinic_setup, name="clinic_setup"),
    path(
        "clinics/<int:clinic_id>/setup/<str:kind>/<int:item_id>/",
        views.clinic_setup_edit,
        name="clinic_setup_edit",
    ),
    path(
        "clinics/<int:clinic_id>/setup/<str:kind>/<int:item_id>/remove/",
        views.clinic_setup_remove,
        name="clinic_setup_remove",
    ),
    path("clinics/<int:clinic_id>/plan/", views.clinic_plan_view, name="clinic_plan"),
    path("clinics/<int:clinic_id>/replan/", views.clinic_replan_view, name="clinic_replan"),
    path("clinics/<int:clinic_id>/progress/", views.clinic_progress_view, name="clinic_progress"),
    path("clinics/<int:clinic_id>/send/", views.clinic_send_view, name="clinic_send"),
    path("clinics/<int:clinic_id>/late/", views.professional_late_view, name="professional_late"),
    path(
        "clinics/<int:clinic_id>/professionals/<int:professional_id>/",
        views.professional_sheet,
        name="professional_sheet",
    ),
    path("clinics/<int:clinic_id>/rooms/<int:room_id>/", views.room_sheet, name="room_sheet"),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel_view,
        name="appointment_cancel",
    ),
    path("itineraries/<int:invitation_id>/", views.itinerary, name="itinerary"),
    path(
        "itineraries/<int:invitation_id>/itinerary.pdf",
        views.itinerary_pdf_view,
        name="itinerary_pdf",
    ),
    path(
        "itineraries/<int:invitation_id>/itinerary.ics",
        views.itinerary_ics_view,
        name="itinerary_ics",
    ),
    path("itineraries/<int:invitation_id>/travel/", views.travel, name="travel"),
    path(
        "itineraries/<int:invitation_id>/cancel/",
        views.invitation_cancel_view,
        name="invitation_cancel",
    ),
]
