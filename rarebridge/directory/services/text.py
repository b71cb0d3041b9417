"""Cleaning what people type: plain text, no tags or control characters, lengths capped;
the folded keys that spot duplicates; contact details in text that must not carry them."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from rarebridge.engines.condition_search import fold

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")

NAME_MAX = 200
TEXT_MAX = 2000
NOTE_MAX = 500
MESSAGE_MAX = 2000
ALIAS_MAX = 40
OPEN_REQUESTS_MAX = 3

# Contact details typed into text that must not carry them (a note before both accepted, or a
# message from someone who has not chosen to share their details).
EMAIL_PATTERN = re.compile(
    r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)+", re.I
)
PHONE_PATTERN = re.compile(r"(?:\+|\b00)?\d(?:[\s().\-/]*\d){7,}")
LINK_PATTERN = re.compile(r"(?:https?://|www\.)\S+", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# --- cleaning what people type -----------------------------------------------------------


def clean_text(value: str | None, *, max_length: int = TEXT_MAX, multiline: bool = True) -> str:
    """Plain text: no tags, no control characters, tidy whitespace, at most ``max_length``."""
    text = strip_tags(unicodedata.normalize("NFC", value or ""))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        text = " ".join(text.split())
    return text[:max_length].strip()


def has_contact_details(text: str) -> bool:
    return bool(
        EMAIL_PATTERN.search(text) or PHONE_PATTERN.search(text) or LINK_PATTERN.search(text)
    )


def website_key(url: str) -> str:
    """'https://www.Example.org/psc/?ref=x' -> 'example.org/psc': for spotting duplicates."""
    if not url:
        return ""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/').lower()}"[:300]


def name_key(name: str) -> str:
    # "(demo)" and similar bracketed notes do not make a different organisation.
    return fold(re.sub(r"\([^)]*\)", " ", name))[:200]


def _clean_url(value: str) -> str:
    url = clean_text(value, max_length=300, multiline=False)
    if not url:
        return ""
    if not re.match(r"^https?://", url, re.I):
        url = f"https://{url}"
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            {"website": _("Enter the full web address, for example https://example.org.")}
        ) from exc
    return url


def _clean_email(value: str, field_name: str) -> str:
    email = clean_text(value, max_length=254, multiline=False).lower()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError as exc:
            raise ValidationError(
                {field_name: _("Enter an e-mail address like name@example.org.")}
            ) from exc
    return email


def _clean_phone(value: str) -> str:
    phone = clean_text(value, max_length=30, multiline=False)
    if phone and not re.fullmatch(r"\+?[\d\s().\-/]{5,30}", phone):
        raise ValidationError(
            {"contact_phone": _("Use digits, spaces and an optional + at the start.")}
        )
    return phone


def _texts(texts: dict[str, str]) -> dict[str, str]:
    return {
        language: clean_text(text)
        for language, text in texts.items()
        if language in LANGUAGE_CODES and clean_text(text)
    }
