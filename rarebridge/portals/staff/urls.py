from django.urls import path

from rarebridge.portals.staff import views

app_name = "staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patients, name="patients"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("audit/", views.audit, name="audit"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("crisis-resources/", views.crisis_resources, name="crisis_resources"),
    path("crisis-resources/<int:pk>/", views.crisis_resource_edit, name="crisis_resource_edit"),
    path("supervision/", views.supervision, name="supervision"),
    path("counsellors/", views.counsellors, name="counsellors"),
    path("counsellors/<int:pk>/training/", views.counsellor_training, name="counsellor_training"),
    path("matching/", views.matching, name="matching"),
    path(
        "counsellors/<int:pk>/deactivate/",
        views.counsellor_deactivate_view,
        name="counsellor_deactivate",
    ),
    path("programs/", views.programs, name="programs"),
    path("programs/<int:pk>/", views.program_version, name="program_version"),
    path("programs/<int:pk>/preview/", views.program_preview, name="program_preview"),
]
