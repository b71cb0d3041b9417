from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When

from rarebridge.core.access import get_for_actor
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.network.models import Country, CrisisResource


def countries_list() -> QuerySet[Country]:
    return Country.objects.all()


def crisis_resources_for_country(*, country_code: str) -> QuerySet[CrisisResource]:
    """Shown resources of one country, emergency services first."""
    return (
        CrisisResource.objects.filter(country_id=country_code.upper(), is_active=True)
        .annotate(
            emergency_first=Case(
                When(kind=CrisisResource.Kind.EMERGENCY, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("emergency_first", "position", "name")
    )


def crisis_resources_for_admin(*, user) -> QuerySet[CrisisResource]:
    if not user_has_perm(user, Perm.CRISIS_CHANGE) and not user.is_staff_member:
        raise PermissionDenied
    return CrisisResource.objects.select_related("country").order_by("country", "kind", "position")


def crisis_resource_get_for_user(
    *, user, id: int, need: Perm = Perm.CRISIS_CHANGE
) -> CrisisResource:
    """One crisis resource for the staff pages: absent for anyone but staff, read-only
    without ``need``."""
    readable = (
        CrisisResource.objects.select_related("country")
        if user.is_staff_member
        else CrisisResource.objects.none()
    )
    return get_for_actor(
        readable, by=user, allowed=lambda _resource: user_has_perm(user, need), pk=id
    )
