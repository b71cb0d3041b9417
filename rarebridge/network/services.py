from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import transaction

from rarebridge.core.audit import audit_log
from rarebridge.network.models import Country, CrisisResource, Organisation, Site
from rarebridge.network.phones import phone_normalise

EDITABLE = (
    "kind",
    "name",
    "phone",
    "text_number",
    "website",
    "languages",
    "descriptions",
    "hours",
    "hours_texts",
    "cost",
    "position",
    "last_checked",
    "is_active",
)
PHONE_FIELDS = ("phone", "text_number")


def _with_changes(resource: CrisisResource, changes: dict) -> CrisisResource:
    """A validated copy of ``resource`` with ``changes`` applied, numbers in canonical form."""
    candidate = copy.copy(resource)
    errors = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ValueError(f"Not editable: {key}")
        if key in PHONE_FIELDS:
            try:
                value = phone_normalise(value, country_code=resource.country_id)
            except ValidationError as error:
                errors[key] = error.messages
                continue
        setattr(candidate, key, value)
    if errors:
        raise ValidationError(errors)
    candidate.full_clean()
    return candidate


def crisis_resource_preview(*, resource: CrisisResource, **changes) -> CrisisResource:
    """What patients would see after ``changes``: a validated copy, not saved."""
    return _with_changes(resource, changes)


def crisis_resource_update(*, resource: CrisisResource, by, **changes) -> CrisisResource:
    """Apply ``changes`` confirmed by ``by`` after the preview. The audit entry names the
    fields that changed, never their values."""
    candidate = _with_changes(resource, changes)
    changed = sorted(k for k in changes if getattr(resource, k) != getattr(candidate, k))
    if not changed:
        return resource
    for key in changed:
        setattr(resource, key, getattr(candidate, key))
    with transaction.atomic():
        resource.save()
        audit_log(
            action="network.crisis_resource.changed",
            actor=by,
            obj=resource,
            payload={"fields": changed},
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
    phone = phone_normalise(phone, country_code=country.code)
    if fields.get("text_number"):
        fields["text_number"] = phone_normalise(fields["text_number"], country_code=country.code)
    resource, created = CrisisResource.objects.get_or_create(
        country=country, name=name, phone=phone, defaults=fields
    )
    if created:
        audit_log(action="network.crisis_resource.created", actor=by, obj=resource)
    return resource
