"""Invitations: sending, withdrawing and accepting them (the account comes into being)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rarebridge.accounts.models import Invitation, User
from rarebridge.accounts.selectors import (
    invitable_roles_for,
    organisation_wide_ids_for,
    site_ids_for,
)
from rarebridge.accounts.services.people import acting_self, role_assign
from rarebridge.accounts.tokens import hash_token
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import SITE_SCOPED_ROLES, Perm, Role
from rarebridge.network.models import Organisation, Site
from rarebridge.notify.services import message_send_to_address

INVITATION_VALID_DAYS = 14


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
    # Into a site the inviter reaches; without a site only when they reach the organisation.
    if site is not None and (
        site.organisation_id != organisation.pk
        or site.pk not in site_ids_for(inviter, Perm.PEOPLE_INVITE)
    ):
        raise PermissionDenied
    if site is None and organisation.pk not in organisation_wide_ids_for(
        inviter, Perm.PEOPLE_INVITE
    ):
        raise PermissionDenied
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
            by=acting_self(user, by),
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        audit_log(
            action="accounts.invitation.accepted", actor=acting_self(user, by), obj=invitation
        )
    return user
