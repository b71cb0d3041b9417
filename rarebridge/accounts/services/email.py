"""E-mail addresses: the confirmation link, correcting an unconfirmed address, and
moving to a new one (the switch happens when its link is opened)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.accounts.selectors import email_confirmed
from rarebridge.accounts.services.people import acting_self
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.notify.services import message_send, message_send_to_address


def email_confirmation_send(*, user: User, then: str = "", by: Actor | User | None = None) -> bool:
    """Send ``user`` a link that confirms their e-mail address and then leads to the path
    ``then``; False when the address is confirmed already.

    allauth keeps the address and checks the link (signed, valid for
    ``ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS``); the message goes out in the person's
    language like every other. Used where an account was made without anyone checking the
    address (self-referral), so that a study does not write to a stranger's inbox.

    ``by`` gives the address and request id recorded (the person acts for themselves)."""
    from allauth.account.models import EmailAddress

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
        audit_log(action="accounts.email.confirmation_sent", actor=acting_self(user, by), obj=user)
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
    audit_log(action="accounts.email.confirmed", actor=acting_self(user, by), obj=user)


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
) -> None:
    """Replace an address nobody has confirmed (a typo at sign-up) and send the link to the
    new one. The person signs in with the new address from then on."""
    from allauth.account.models import EmailAddress

    if email_confirmed(user=user):
        raise PermissionDenied  # a confirmed address is not replaced this way
    email = _new_address(user=user, email=email)
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        user.email = email
        user.save(update_fields=["email"])
        audit_log(action="accounts.email.corrected", actor=acting_self(user, by), obj=user)
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
        audit_log(action="accounts.email.change_requested", actor=acting_self(user, by), obj=user)


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
        audit_log(action="accounts.email.changed", actor=acting_self(user, by), obj=user)
    return True
