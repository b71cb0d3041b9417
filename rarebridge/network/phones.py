"""Phone numbers of crisis resources: checked with ``phonenumbers`` for the line's country.

A number is stored in one canonical form, so that its ``tel:`` link always dials: E.164
(``+498001110111``) for an ordinary number, the bare digits (``116123``) for a short number the
country's numbering plan knows (112, 911, 988, 1813, 116 123 …).
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumbers import shortnumberinfo

# What a person may type: digits, a leading +, spaces and the usual separators.
_TYPED = re.compile(r"^\+?[\d\s\-./()]+$")


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def phone_normalise(raw: str, *, country_code: str) -> str:
    """``raw`` in canonical form for ``country_code``; ValidationError if it cannot be dialled
    there. An empty string stays empty."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    region = country_code.upper()
    if not _TYPED.match(raw):
        raise ValidationError(
            _("Enter a phone number with digits only, for example 0800 111 0 111 or 112."),
            code="invalid_phone",
        )
    digits = _digits(raw)
    if not raw.startswith("+") and 3 <= len(digits) <= 6:
        short = phonenumbers.parse(digits, region)
        if shortnumberinfo.is_valid_short_number_for_region(short, region):
            return digits
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number_for_region(number, region):
        raise ValidationError(
            _("%(number)s is not a phone number that can be dialled in %(country)s."),
            code="invalid_phone",
            params={"number": raw, "country": region},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(stored: str, *, country_code: str) -> str:
    """How the number is written for people in its country: ``0800 1110111``, ``116 123``."""
    if not stored:
        return ""
    if not stored.startswith("+"):
        digits = _digits(stored)
        if len(digits) == 6:
            return f"{digits[:3]} {digits[3:]}"
        return digits or stored
    try:
        number = phonenumbers.parse(stored, country_code.upper())
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_uri(stored: str, *, scheme: str = "tel") -> str:
    """A ``tel:`` (or ``sms:``) link that dials: only + and digits."""
    return f"{scheme}:" + "".join(ch for ch in stored if ch.isdigit() or ch == "+")
