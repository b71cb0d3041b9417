"""People and their roles: creating accounts, preferences, assigning roles."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
from rarebridge.core.actor import Actor, as_actor
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import SITE_SCOPED_ROLES, Role
from rarebridge.network.models import Organisation, Site

PREFERENCE_FIELDS = (
    "full_name",
    "preferred_name",
    "language",
    "time_zone",
    "phone",
    "text_size",
    "high_contrast",
)


def normalise_phone(raw: str, *, country_code: str | None = None) -> str:
    """E.164 form of a phone number, or ValidationError with a message people understand."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "This does not look like a valid phone number. Please include the country code, for example +49 40 1234567."
            ),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def acting_self(user: User, by: Actor | User | None) -> Actor:
    """The person acting on their own account (accepting an invitation, confirming an
    address), with the address and request id of ``by`` (often an anonymous visitor)."""
    who = as_actor(by)
    return Actor(user=user, ip=who.ip, request_id=who.request_id)


def user_update_preferences(*, user: User, by: Actor | User, **changes) -> User:
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not a preference: {sorted(unknown)}")
    if "phone" in changes:
        country = None
        if hasattr(user, "patient_profile"):
            country = user.patient_profile.country_id
        changes["phone"] = normalise_phone(changes["phone"], country_code=country)
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    for key, value in changed.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save(update_fields=list(changed) or None)
        if changed:
            audit_log(
                action="accounts.preferences.changed",
                actor=by,
                obj=user,
                organisation_id=next(iter(user.organisation_ids), None),
                # Values of personal fields stay out of the log; their names are enough.
                payload={"fields": sorted(changed)},
            )
    return user


def _next_patient_code(site: Site) -> str:
    prefix = f"RB-{site.city[:3].upper()}-"
    count = PatientProfile.objects.filter(site=site).count() + 1
    code = f"{prefix}{count:04d}"
    while PatientProfile.objects.filter(code=code).exists():
        count += 1
        code = f"{prefix}{count:04d}"
    return code


def role_assign(
    *,
    user: User,
    role: Role,
    organisation: Organisation,
    site: Site | None,
    by: Actor | User | None,
    organisation_wide: bool = False,
) -> RoleAssignment:
    """Give ``user`` a role for ``site`` (or the organisation). ``organisation_wide`` lets a
    site-scoped role (supervisor, site coordinator) reach every site of the organisation."""
    if role == Role.PATIENT and site is None:
        raise ValidationError(_("This role needs a site."), code="site_required")
    if role in SITE_SCOPED_ROLES and site is None and not organisation_wide:
        raise ValidationError(_("This role needs a site."), code="site_required")
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError(_("The site belongs to another organisation."), code="site_mismatch")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user,
            role=role,
            organisation=organisation,
            site=site,
            defaults={"is_active": True, "organisation_wide": organisation_wide},
        )
        # Giving the role again never narrows a reach that was given organisation-wide.
        if not assignment.is_active or (organisation_wide and not assignment.organisation_wide):
            assignment.is_active = True
            assignment.organisation_wide = assignment.organisation_wide or organisation_wide
            assignment.save(update_fields=["is_active", "organisation_wide", "updated_at"])
        if (
            role == Role.PATIENT
            and site is not None
            and not PatientProfile.objects.filter(user=user).exists()
        ):
            PatientProfile.objects.create(
                user=user,
                organisation=organisation,
                site=site,
                country=site.country,
                code=_next_patient_code(site),
            )
        audit_log(
            action="accounts.role.assigned",
            actor=by,
            obj=assignment,
            organisation_id=organisation.pk,
            payload={
                "role": str(role),
                "site": site.pk if site else None,
                "organisation_wide": organisation_wide,
                "new": created,
            },
        )
    user.__dict__.pop("_active_roles", None)
    user.__dict__.pop("_site_reach", None)
    return assignment


def user_create(
    *,
    email: str,
    full_name: str,
    language: str,
    time_zone: str,
    password: str | None = None,
    password_hash: str | None = None,
    phone: str = "",
    by: Actor | User | None = None,
) -> User:
    """A new person. ``password_hash`` lets bulk loaders reuse one expensive hash."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            full_name=full_name,
            language=language,
            time_zone=time_zone,
            phone=phone,
        )
        if password_hash:
            user.password = password_hash
            user.save(update_fields=["password"])
        audit_log(action="accounts.user.created", actor=by, obj=user)
    return user
