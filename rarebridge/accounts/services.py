"""Every write about people: invitations, preferences, roles. Each writes its audit entry."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rarebridge.accounts.models import Invitation, PatientProfile, RoleAssignment, User
from rarebridge.accounts.selectors import email_confirmed, invitable_roles_for
from rarebridge.accounts.tokens import hash_token
from rarebridge.core.actor import Actor, as_actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import SITE_SCOPED_ROLES, Role
from rarebridge.network.models import Organisation, Site
from rarebridge.notify.services import message_send, message_send_to_address

INVITATION_VALID_DAYS = 14
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


def _as_self(user: User, by: Actor | User | None) -> Actor:
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
                organisation_id=(user.organisation_ids or [None])[0],
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
) -> RoleAssignment:
    if role in SITE_SCOPED_ROLES | {Role.PATIENT} and site is None:
        raise ValidationError(_("This role needs a site."), code="site_required")
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError(_("The site belongs to another organisation."), code="site_mismatch")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, organisation=organisation, site=site, defaults={"is_active": True}
        )
        if not assignment.is_active:
            assignment.is_active = True
            assignment.save(update_fields=["is_active", "updated_at"])
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
            payload={"role": str(role), "site": site.pk if site else None, "new": created},
        )
    if hasattr(user, "_active_roles"):
        del user._active_roles
    return assignment


def invitation_create(
    *,
    by: Actor | User,
    organisation: Organisation,
    role: Role,
    email: str,
    full_name: str,
    language: str,
    site: Site | None = None,
) -> tuple[Invitation, str]:
    """Invite a person. Returns the invitation and the one-time token for the link."""
    inviter = user_of(by)
    if (
        inviter is None
        or role not in invitable_roles_for(inviter)
        or organisation.pk not in inviter.organisation_ids
    ):
        raise PermissionDenied
    if role in SITE_SCOPED_ROLES | {Role.PATIENT} and site is None:
        raise ValidationError({"site": _("Choose the site this person belongs to.")})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            site=site,
            role=role,
            email=email.strip().lower(),
            full_name=full_name.strip(),
            language=language,
            token_hash=hash_token(token),
            invited_by=inviter,
            expires_at=timezone.now() + timedelta(days=INVITATION_VALID_DAYS),
        )
        audit_log(
            action="accounts.invitation.sent",
            actor=by,
            obj=invitation,
            payload={"role": str(role), "site": site.pk if site else None},
        )
        message_send_to_address(
            address=invitation.email,
            channel="email",
            language=language,
            template_key="invitation",
            context={
                "name": invitation.full_name,
                "inviter": str(inviter),
                "organisation": organisation.name,
                "link": reverse("public:invitation_accept", args=[token]),
                "valid_days": INVITATION_VALID_DAYS,
            },
            idempotency_key=f"invitation:{invitation.pk}",
        )
    return invitation, token


def invitation_revoke(*, invitation: Invitation, by: Actor | User) -> None:
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_log(action="accounts.invitation.revoked", actor=by, obj=invitation)


def invitation_accept(
    *, invitation: Invitation, password: str, by: Actor | User | None = None
) -> User:
    """The invited person sets a password; the account and the role come into being.
    ``by`` is the (anonymous) visitor whose address and request id are recorded."""
    if not invitation.is_open:
        raise ValidationError(
            _("This invitation is no longer valid. Ask the person who invited you for a new one."),
            code="invitation_closed",
        )
    with transaction.atomic(), scopes_disabled():  # authorised by the token, not by a role
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise ValidationError(
                _("This invitation has already been used."), code="invitation_closed"
            )
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            site_tz = invitation.site.time_zone if invitation.site else "Europe/Berlin"
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                full_name=invitation.full_name,
                language=invitation.language,
                time_zone=site_tz,
            )
        role_assign(
            user=user,
            role=Role(invitation.role),
            organisation=invitation.organisation,
            site=invitation.site,
            by=_as_self(user, by),
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        audit_log(action="accounts.invitation.accepted", actor=_as_self(user, by), obj=invitation)
    return user


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


# --- e-mail confirmation -------------------------------------------------------------------


def email_confirmation_send(
    *, user: User, then: str = "", by: Actor | User | None = None, request: Any = None
) -> bool:
    """Send ``user`` a link that confirms their e-mail address and then leads to the path
    ``then``; False when the address is confirmed already.

    allauth keeps the address and checks the link (signed, valid for
    ``ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS``); the message goes out in the person's
    language like every other. Used where an account was made without anyone checking the
    address (self-referral), so that a study does not write to a stranger's inbox.

    ``by`` gives the address and request id recorded (the person acts for themselves).
    ``request`` is accepted only until the trials services pass ``by``."""
    from allauth.account.models import EmailAddress

    if request is not None and by is None:
        by = Actor.from_request(request)

    with transaction.atomic():
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": False}
        )
        if address.verified:
            return False
        message_send(
            recipient=user,
            template_key="email_confirm",
            context=_link_context(address=address, then=then),
            # Every call is a send of its own (a person asking again gets a new message).
            idempotency_key=f"email_confirm:{user.pk}:{secrets.token_hex(16)}",
        )
        audit_log(action="accounts.email.confirmation_sent", actor=_as_self(user, by), obj=user)
    return True


def _link_context(*, address, then: str) -> dict[str, object]:
    """What a confirmation message needs: the person's name and the signed link (allauth
    checks it) to ``address``, which leads on to the path ``then``."""
    from allauth.account import app_settings as allauth_settings
    from allauth.account.models import EmailConfirmationHMAC

    link = reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key])
    return {
        "name": address.user.full_name,
        "link": link + (f"?{urlencode({'next': then})}" if then else ""),
        "valid_days": allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS,
    }


def email_confirmed_record(*, user: User, by: Actor | User | None = None) -> None:
    """The audit entry for an address confirmed through allauth's link."""
    audit_log(action="accounts.email.confirmed", actor=_as_self(user, by), obj=user)


def email_confirm(*, user: User) -> None:
    """Mark ``user``'s address confirmed without the link: for loading people whose address
    was checked elsewhere (the demo world). People confirm their own through the link."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        email_confirmed_record(user=user)


def email_correct_unconfirmed(
    *,
    user: User,
    email: str,
    then: str = "",
    by: Actor | User | None = None,
    request: Any = None,
) -> None:
    """Replace an address nobody has confirmed (a typo at sign-up) and send the link to the
    new one. The person signs in with the new address from then on.

    ``request`` is accepted only until the trials services pass ``by``."""
    from allauth.account.models import EmailAddress

    if request is not None and by is None:
        by = Actor.from_request(request)

    if email_confirmed(user=user):
        raise PermissionDenied  # a confirmed address is not replaced this way
    email = _new_address(user=user, email=email)
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        user.email = email
        user.save(update_fields=["email"])
        audit_log(action="accounts.email.corrected", actor=_as_self(user, by), obj=user)
        email_confirmation_send(user=user, then=then, by=by)


def _new_address(*, user: User, email: str) -> str:
    """``email`` normalised, if it is an address and no other account uses it."""
    from allauth.account.models import EmailAddress
    from django.core.validators import validate_email

    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("Please enter an e-mail address like name@example.org.")}, code="invalid"
        ) from None
    taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
    if taken or EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists():
        raise ValidationError(
            {
                "email": _(
                    "This address cannot be used here. If you already have an account with it, "
                    "sign in with that account."
                )
            },
            code="email_taken",
        )
    return email


def email_change_request(
    *, user: User, email: str, password: str, by: Actor | User | None = None
) -> None:
    """Start moving a person to a new address. The link goes to the new address and the
    switch happens only when it is opened (``email_change_complete``); until then the person
    signs in and hears from us at the old one. A newer request replaces an older one."""
    from allauth.account.models import EmailAddress

    if not user.check_password(password):
        raise ValidationError(
            {"password": _("This is not your current password.")}, code="password"
        )
    email = _new_address(user=user, email=email)
    if email == user.email.lower():
        raise ValidationError(
            {"email": _("This is already the address you sign in with.")}, code="unchanged"
        )
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
        # The current address is the primary one, so that allauth, confirming the new one,
        # leaves the switch to ``email_change_complete``. Accounts made by invitation have
        # no row yet: accepting the invitation confirmed their address.
        current, _created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        if not current.primary:
            current.primary = True
            current.save(update_fields=["primary"])
        address = EmailAddress.objects.create(user=user, email=email, primary=False, verified=False)
        message_send_to_address(
            address=email,
            channel="email",
            language=user.language,
            tz_name=user.time_zone,
            template_key="email_change_confirm",
            context=_link_context(address=address, then=reverse("public:preferences")),
            idempotency_key=f"email_change:{user.pk}:{secrets.token_hex(16)}",
        )
        audit_log(action="accounts.email.change_requested", actor=_as_self(user, by), obj=user)


def email_change_complete(*, user: User, email: str, by: Actor | User | None = None) -> bool:
    """The person opened the link sent to ``email`` (confirmed by allauth): they sign in
    with it from now on, and the old address is told. False if it cannot be theirs now."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
        if address is None or User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            return False
        old = user.email
        address.set_as_primary()  # also sets user.email
        EmailAddress.objects.filter(user=user).exclude(pk=address.pk).delete()
        message_send_to_address(
            address=old,
            channel="email",
            language=user.language,
            tz_name=user.time_zone,
            template_key="email_changed",
            context={"name": user.full_name, "new": address.email},
            idempotency_key=f"email_changed:{user.pk}:{secrets.token_hex(16)}",
        )
        audit_log(action="accounts.email.changed", actor=_as_self(user, by), obj=user)
    return True
