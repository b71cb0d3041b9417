"""Sending a person a link by e-mail from a form, within the rate limit."""

from __future__ import annotations

from collections.abc import Callable

from allauth.core import ratelimit
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _


def link_limit(request: HttpRequest) -> dict[str, str]:
    """One allauth limit (``confirm_email``) for every link a signed-in person asks for."""
    return {"action": "confirm_email", "key": f"user:{request.user.pk}"}


def too_soon() -> str:
    """The refusal, in the language of the request."""
    return _("A link was sent a moment ago. Please wait a few minutes before asking again.")


def send_link_within_limit(
    request: HttpRequest, *, form: forms.Form, send: Callable[[], object]
) -> bool:
    """Run ``send`` (a service that e-mails the signed-in person a link) unless they asked
    for one a moment ago; its refusals land on ``form``. Only a link actually sent counts
    against the limit, so a mistyped address costs nothing."""
    limit = link_limit(request)
    if not ratelimit.consume(request, dry_run=True, **limit):
        form.add_error(None, too_soon())
        return False
    try:
        send()
    except ValidationError as error:
        form.add_error(None, error)  # a dict of field errors lands on its fields
        return False
    ratelimit.consume(request, **limit)
    return True
