"""Countries and languages people can pick on directory and peer-finder pages."""

from __future__ import annotations

import json
from functools import lru_cache

from django.conf import settings
from django.utils.translation import get_language

from rarebridge.directory.paths import COUNTRIES_FILE
from rarebridge.network.models import Country, pick_translation

# --- countries and languages ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _country_names() -> dict[str, dict[str, str]]:
    return json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))


def country_name(code: str, language: str | None = None) -> str:
    names = _country_names().get(code)
    return pick_translation(names, language) if names else code


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Countries people can pick: the directory's list and the deployment's own countries."""
    language = language or get_language()
    names = {code: pick_translation(n, language) for code, n in _country_names().items()}
    for country in Country.objects.all():
        names.setdefault(country.code, pick_translation(country.names, language) or country.code)
    return sorted(names.items(), key=lambda item: item[1])


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]
