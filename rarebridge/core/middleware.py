"""Per-request language, time zone and tenant scope."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject
from django_scopes import scope

from rarebridge.core.actor import REQUEST_ID_HEADER, Actor, request_id_for

SUPPORTED = {code for code, _name in settings.LANGUAGES}


class PersonLocaleMiddleware(MiddlewareMixin):
    """The person's own language and time zone; for visitors, the cookie, then the browser."""

    def process_request(self, request):
        user = getattr(request, "user", None)
        language = None
        tz_name = None
        if user is not None and user.is_authenticated:
            language = user.language
            tz_name = user.time_zone
        if language not in SUPPORTED:
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        tz_name = tz_name or request.COOKIES.get("rb_tz")
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        response.headers.setdefault("Vary", "Accept-Language, Cookie")
        return response


class TenantScopeMiddleware:
    """Every query on a tenant model sees only the organisations the person belongs to.

    django-scopes raises on an unscoped query, so forgetting a filter fails loudly instead of
    leaking another organisation's data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        orgs = user.organisation_ids if user is not None and user.is_authenticated else []
        with scope(organisation=orgs):
            return self.get_response(request)


class ActorMiddleware:
    """``request.actor``: who acts, from which address, under which request id.

    Built lazily (most requests never write), after authentication. The request id is
    returned in ``X-Request-ID`` so a person reporting a problem can quote it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        request.META[REQUEST_ID_HEADER] = request_id

        def build() -> Actor:
            return Actor.from_request(request)

        request.actor = SimpleLazyObject(build)
        response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request_id)
        return response
