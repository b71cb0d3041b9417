from django.urls import path

from rarebridge.portals.staff import trial_views

app_name = "trials_staff"
urlpatterns = [
    path("", trial_views.studies, name="studies"),
    path("<slug:slug>/", trial_views.dashboard, name="dashboard"),
    path("<slug:slug>/participants/", trial_views.participants, name="participants"),
    path("<slug:slug>/participants/<int:pk>/", trial_views.participant_detail, name="participant"),
    path("<slug:slug>/participants/<int:pk>/randomise/", trial_views.randomise, name="randomise"),
    path(
        "<slug:slug>/participants/<int:pk>/countersign/",
        trial_views.countersign,
        name="countersign",
    ),
    path("<slug:slug>/participants/<int:pk>/withdraw/", trial_views.withdraw, name="withdraw"),
    path(
        "<slug:slug>/participants/<int:pk>/<str:timepoint>/<slug:instrument>/",
        trial_views.data_entry,
        name="data_entry",
    ),
    path("<slug:slug>/refer/", trial_views.refer, name="refer"),
    path("<slug:slug>/screening/", trial_views.screening, name="screening"),
    path("<slug:slug>/allocation-table/", trial_views.allocation_table, name="allocation_table"),
    path("<slug:slug>/export/responses.json", trial_views.export_fhir, name="export_fhir"),
]
