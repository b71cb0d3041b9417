from __future__ import annotations

from django.db import transaction

from rarebridge.core.audit import audit_log
from rarebridge.network.models import Country, CrisisResource, Organisation, Site

EDITABLE = (
    "kind",
    "name",
    "phone",
    "text_number",
    "website",
    "languages",
    "descriptions",
    "hours",
    "free_of_charge",
    "position",
    "last_checked",
    "is_active",
)


def crisis_resource_update(*, resource: CrisisResource, by, **changes) -> CrisisResource:
    before = {k: getattr(resource, k) for k in changes}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValueError(f"Not editable: {key}")
        setattr(resource, key, value)
    resource.full_clean()
    with transaction.atomic():
        resource.save()
        audit_log(
            action="network.crisis_resource.changed",
            actor=by,
            obj=resource,
            payload={k: [str(before[k]), str(v)] for k, v in changes.items() if before[k] != v},
        )
    return resource


def country_upsert(
    *, code: str, names: dict[str, str], emergency_number: str, default_time_zone: str, by=None
) -> Country:
    country, created = Country.objects.update_or_create(
        code=code,
        defaults={
            "names": names,
            "emergency_number": emergency_number,
            "default_time_zone": default_time_zone,
        },
    )
    if created:
        audit_log(action="network.country.created", actor=by, obj=country)
    return country


def organisation_upsert(*, slug: str, name: str, kind: str, by=None) -> Organisation:
    organisation, created = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": name, "kind": kind}
    )
    if created:
        audit_log(
            action="network.organisation.created",
            actor=by,
            obj=organisation,
            organisation_id=organisation.pk,
        )
    return organisation


def site_upsert(
    *, organisation: Organisation, country: Country, name: str, city: str, time_zone: str, by=None
) -> Site:
    site, created = Site.objects.get_or_create(
        organisation=organisation,
        name=name,
        defaults={"country": country, "city": city, "time_zone": time_zone},
    )
    if created:
        audit_log(action="network.site.created", actor=by, obj=site)
    return site


def crisis_resource_upsert(
    *, country: Country, name: str, phone: str, by=None, **fields
) -> CrisisResource:
    """Create the resource, or leave an existing one (same country, name and phone) as admins edited it."""
    resource, created = CrisisResource.objects.get_or_create(
        country=country, name=name, phone=phone, defaults=fields
    )
    if created:
        audit_log(action="network.crisis_resource.created", actor=by, obj=resource)
    return resource
