"""Who is told about an alert: the escalation chain of a site (on duty first, the country's
supervisors, the site's clinicians), and configuring it (responders and the on-duty rota)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import RoleAssignment, User
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has
from rarebridge.network.models import Country, Organisation, Site
from rarebridge.safety.models import OnDuty, Responder

# --- who is told ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The people told about an alert, in order (on duty first), and the site's clinicians."""

    people: list[User]
    clinicians: list[User]


def _roles_with(perm: Perm) -> list[str]:
    return [role.value for role in Role if role_has(role, perm)]


def _handlers(organisation_id: int):
    """People who may receive and handle alerts in the organisation, as it is now."""
    return User.objects.filter(
        is_active=True,
        role_assignments__is_active=True,
        role_assignments__organisation_id=organisation_id,
        role_assignments__role__in=_roles_with(Perm.ALERT_HANDLE),
    ).distinct()


def _unique(users) -> list[User]:
    seen: set[int] = set()
    result = []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def _country_supervisors_by_role(site: Site, handler_ids: set[int]) -> list[User]:
    """Without configured responders: the handlers placed in the site's country, then the
    organisation-wide ones, so that a new deployment is never without a safety net."""
    assignments = RoleAssignment.objects.filter(
        is_active=True,
        organisation_id=site.organisation_id,
        role__in=_roles_with(Perm.ALERT_HANDLE),
        user_id__in=handler_ids,
    ).select_related("user")
    in_country = assignments.filter(site__country_id=site.country_id).order_by("user__pk")
    people = _unique(a.user for a in in_country)
    if not people:
        people = _unique(a.user for a in assignments.filter(site__isnull=True).order_by("user__pk"))
    if not people:
        people = _unique(a.user for a in assignments.order_by("user__pk"))
    return people


def on_duty_for_site(*, site: Site, at: datetime) -> User | None:
    """Who is on duty for the site at ``at``: a rota entry for the site wins over the country's."""
    periods = (
        OnDuty.objects.filter(
            organisation_id=site.organisation_id, starts_at__lte=at, ends_at__gt=at
        )
        .filter(Q(site=site) | Q(country_id=site.country_id, site__isnull=True))
        .select_related("user")
    )
    handler_ids = set(_handlers(site.organisation_id).values_list("pk", flat=True))
    rows = [r for r in periods if r.user_id in handler_ids]
    rows.sort(key=lambda r: (r.site_id is None, -r.starts_at.timestamp(), r.pk))
    return rows[0].user if rows else None


def escalation_chain(*, site: Site, at: datetime | None = None) -> Chain:
    """The chain of a site at ``at``: on duty first, the country's supervisors, the site's
    responsible clinicians last. Only people who may still handle alerts are in it."""
    at = at or timezone.now()
    handler_ids = set(_handlers(site.organisation_id).values_list("pk", flat=True))
    rows = [
        r
        for r in Responder.objects.filter(organisation_id=site.organisation_id)
        .filter(Q(country_id=site.country_id, site__isnull=True) | Q(site=site))
        .select_related("user")
        if r.user_id in handler_ids
    ]
    rows.sort(key=lambda r: (r.is_clinician, r.site_id is not None, r.order, r.pk))
    supervisors = [r.user for r in rows if not r.is_clinician]
    clinicians = _unique(r.user for r in rows if r.is_clinician)
    if not supervisors:
        supervisors = _country_supervisors_by_role(site, handler_ids)
    people = _unique([on_duty_for_site(site=site, at=at), *supervisors, *clinicians])
    return Chain(people=people, clinicians=clinicians)


# --- chain and rota configuration ---------------------------------------------------------


def _check_handler(*, organisation: Organisation, user: User) -> None:
    if not _handlers(organisation.pk).filter(pk=user.pk).exists():
        raise ValidationError(
            _("This person cannot receive alerts: give them a supervisor role first."),
            code="not_a_handler",
        )


def _check_place(*, organisation: Organisation, country: Country | None, site: Site | None) -> None:
    if (country is None) == (site is None):
        raise ValueError("Give a country or a site, not both.")
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError(_("The site belongs to another organisation."), code="site_mismatch")


def responder_add(
    *,
    organisation: Organisation,
    user: User,
    by: Actor | User | None,
    country: Country | None = None,
    site: Site | None = None,
    order: int = 0,
    is_clinician: bool = False,
) -> Responder:
    """Put a person in the escalation chain of a country, or of one site (clinicians)."""
    _check_place(organisation=organisation, country=country, site=site)
    _check_handler(organisation=organisation, user=user)
    with transaction.atomic():
        responder = Responder.objects.create(
            organisation=organisation,
            country=country,
            site=site,
            user=user,
            order=order,
            is_clinician=is_clinician,
        )
        audit_log(
            action="safety.responder.added",
            actor=by,
            obj=responder,
            payload={
                "user": user.pk,
                "country": country.pk if country else None,
                "site": site.pk if site else None,
                "order": order,
                "is_clinician": is_clinician,
            },
        )
    return responder


def on_duty_add(
    *,
    organisation: Organisation,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    by: Actor | User | None,
    country: Country | None = None,
    site: Site | None = None,
) -> OnDuty:
    """Put a person on duty for a country or a site between two times."""
    _check_place(organisation=organisation, country=country, site=site)
    _check_handler(organisation=organisation, user=user)
    if ends_at <= starts_at:
        raise ValidationError(_("The end must come after the start."), code="order")
    with transaction.atomic():
        period = OnDuty.objects.create(
            organisation=organisation,
            country=country,
            site=site,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        audit_log(
            action="safety.on_duty.added",
            actor=by,
            obj=period,
            payload={
                "user": user.pk,
                "country": country.pk if country else None,
                "site": site.pk if site else None,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
    return period
