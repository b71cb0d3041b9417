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
    path("accounts/", include("allauth.urls")),
    path("calendar/<str:token>.ics", calendar_feed_ics, name="calendar_feed_ics"),
    path("healthz", healthz),
]
