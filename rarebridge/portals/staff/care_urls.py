"""Care coordination pages, mounted at /staff/care/ by config/urls.py.

Thin views (``views.care_*``): a selector checks access, a service makes the change as
``request.actor``, the page renders or redirects.
"""

from django.urls import path

from rarebridge.portals.staff.views import (
    care_clinics,
    care_itineraries,
    care_patients,
    care_planning,
    care_setup,
)

app_name = "care"
urlpatterns = [
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
