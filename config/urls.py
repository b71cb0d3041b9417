from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from rarebridge.portals.counsellor.views import calendar_feed_ics


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("rarebridge.portals.public.urls")),
    path("", include("rarebridge.portals.urls")),
    path("me/", include("rarebridge.portals.patient.urls")),
    path("counsellor/", include("rarebridge.portals.counsellor.urls")),
    path("staff/", include("rarebridge.portals.staff.urls")),
    path("safety/", include("rarebridge.portals.staff.safety_urls")),
    path("directory/", include("rarebridge.portals.public.directory_urls")),
    path("me/peers/", include("rarebridge.portals.patient.peer_urls")),
    path("staff/directory/", include("rarebridge.portals.staff.directory_urls")),
    path("me/study/", include("rarebridge.portals.patient.trial_urls")),
    path("staff/study/", include("rarebridge.portals.staff.trial_urls")),
    path("join/", include("rarebridge.portals.public.trial_urls")),
    path("staff/care/", include("rarebridge.portals.staff.care_urls")),
    path("me/care/", include("rarebridge.portals.patient.care_urls")),
    path("accounts/", include("allauth.urls")),
    path("calendar/<str:token>.ics", calendar_feed_ics, name="calendar_feed_ics"),
    path("healthz", healthz),
]
