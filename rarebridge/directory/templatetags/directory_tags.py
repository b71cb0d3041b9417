"""Names of countries and languages on directory and peer-finder pages, in the page's language."""

from django import template
from django.conf import settings
from django.utils.translation import get_language

from rarebridge.directory.selectors import country_name as _country_name
from rarebridge.network.models import pick_translation

register = template.Library()
_LANGUAGES = dict(settings.LANGUAGES)


@register.filter
def country_name(code: str) -> str:
    return _country_name(code, get_language())


@register.filter
def language_name(code: str) -> str:
    name = _LANGUAGES.get(code)
    return str(name) if name is not None else code


@register.filter
def in_language(texts: dict, language: str = "") -> str:
    """A text from a ``{language: text}`` dict, in the page's language if there is one."""
    return pick_translation(texts or {}, language or get_language()) if texts else ""


@register.filter
def condition_name(condition) -> str:
    return condition.name_in(get_language()) if condition is not None else ""
