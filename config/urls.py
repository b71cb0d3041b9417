"""Every portal is mounted once; each portal's urls.py lists its own routes."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("rarebridge.portals.public.urls")),
    path("", include("rarebridge.portals.urls")),
    path("me/", include("rarebridge.portals.patient.urls")),
    path("", include("rarebridge.portals.counsellor.urls")),
    path("", include("rarebridge.portals.staff.urls")),
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz),
]
