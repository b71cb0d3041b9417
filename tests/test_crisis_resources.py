"""Crisis resources: numbers that dial, hours and cost said rather than assumed, descriptions
per language with a visible fallback, and a preview in every language before a change goes
live, audited with who confirmed it."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rarebridge.core.models import AuditEntry
from rarebridge.network.models import CrisisResource
from rarebridge.network.phones import phone_normalise
from rarebridge.network.services import crisis_resource_update
from tests.factories import CountryFactory, CrisisResourceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("112", "DE", "112"),
        ("911", "CA", "911"),
        ("988", "CA", "988"),
        ("1813", "BE", "1813"),
        ("116 123", "PL", "116123"),
        ("116 123", "HU", "116123"),
        ("0800 111 0 111", "DE", "+498001110111"),
        ("0800 32 123", "BE", "+3280032123"),
        ("02 648 40 14", "BE", "+3226484014"),
        ("800 70 2222", "PL", "+48800702222"),
        ("+49 800 111 0 222", "DE", "+498001110222"),
    ],
)
def test_it_stores_numbers_that_dial_in_the_lines_country(typed, country, stored):
    assert phone_normalise(typed, country_code=country) == stored


@pytest.mark.parametrize("typed", ["call us!", "0800 CALL NOW", "1234", "0800 111", "112a"])
def test_it_refuses_numbers_that_cannot_be_dialled(typed):
    with pytest.raises(ValidationError):
        phone_normalise(typed, country_code="DE")


def test_it_refuses_text_as_a_number_in_the_service():
    resource = CrisisResourceFactory(country_id="DE")
    with pytest.raises(ValidationError):
        crisis_resource_update(resource=resource, by=None, phone="call us!")
    resource.refresh_from_db()
    assert resource.phone == "+498001110111"
    assert not AuditEntry.objects.filter(action="network.crisis_resource.changed").exists()


def _post(resource, **overrides):
    data = {
        "kind": "crisis_line",
        "name": "TelefonSeelsorge",
        "phone": "0800 111 0 222",
        "text_number": "",
        "website": "www.telefonseelsorge.de",
        "languages": ["de"],
        "hours": "always",
        "cost": "free",
        "position": 1,
        "last_checked": "2026-11-20",
        "is_active": "on",
        "description_en": "Talk to someone, day and night.",
        "description_de": "Gespräch rund um die Uhr.",
    }
    data.update(overrides)
    return data


def test_it_shows_the_form_error_and_changes_nothing_for_a_number_that_is_text(cast, as_user):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    for step in ("preview", "confirm"):
        response = as_user(cast.admin).post(url, _post(resource, phone="call us!", step=step))
        assert response.status_code == 200
        assert "digits only" in response.content.decode()
    resource.refresh_from_db()
    assert resource.phone == "+498001110111"
    assert not AuditEntry.objects.filter(action="network.crisis_resource.changed").exists()


def test_it_previews_in_every_language_before_anything_changes(cast, as_user):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    response = as_user(cast.admin).post(url, _post(resource, step="preview"))
    assert response.status_code == 200
    assert "staff/crisis_resource_preview.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'href="tel:+498001110222"' in html
    for code, _name in settings.LANGUAGES:
        assert f'lang="{code}"' in html
        with translation.override(code):
            assert translation.gettext("Open 24 hours a day, 7 days a week.") in html
    # pl, nl, hu and fr have no description yet: English stands in, marked.
    assert html.count('<span lang="en">Talk to someone, day and night.</span>') == 5
    with translation.override("pl"):
        assert translation.gettext("(not yet translated)") in html
    resource.refresh_from_db()
    assert resource.phone == "+498001110111"
    assert not AuditEntry.objects.filter(action="network.crisis_resource.changed").exists()


def test_it_publishes_on_confirm_and_audits_who_confirmed_with_field_names_only(cast, as_user):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    response = as_user(cast.admin).post(url, _post(resource, step="confirm"))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.phone == "+498001110222"
    assert resource.website == "https://www.telefonseelsorge.de"
    assert resource.descriptions == {
        "en": "Talk to someone, day and night.",
        "de": "Gespräch rund um die Uhr.",
    }
    entry = AuditEntry.objects.get(action="network.crisis_resource.changed")
    assert entry.actor == cast.admin
    assert entry.payload == {
        "fields": ["descriptions", "languages", "last_checked", "phone", "position", "website"]
    }
    assert "0800" not in str(entry.payload) and "+49" not in str(entry.payload)


def test_it_goes_back_to_the_form_from_the_preview_without_saving(cast, as_user):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    response = as_user(cast.admin).post(url, _post(resource, step="edit"))
    assert "staff/crisis_resource_edit.html" in [t.name for t in response.templates]
    resource.refresh_from_db()
    assert resource.phone == "+498001110111"


def test_it_asks_for_the_hours_when_a_line_is_not_open_around_the_clock(cast, as_user):
    resource = CrisisResourceFactory(country=CountryFactory(code="BE"), phone="+3226484014")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    response = as_user(cast.admin).post(
        url, _post(resource, phone="02 648 40 14", hours="limited", step="preview")
    )
    assert "Say when the line is open" in response.content.decode()
    response = as_user(cast.admin).post(
        url,
        _post(
            resource,
            phone="02 648 40 14",
            hours="limited",
            cost="standard",
            hours_text_en="Weekdays 10:00 to 22:00",
            step="confirm",
        ),
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.hours, resource.cost) == ("limited", "standard")
    assert resource.hours_texts == {"en": "Weekdays 10:00 to 22:00"}


def test_it_has_no_misleading_default_for_hours_or_cost():
    assert not CrisisResource._meta.get_field("hours").has_default()
    assert not CrisisResource._meta.get_field("cost").has_default()


def _card(resource, language):
    with translation.override(language):
        return render_to_string("trials/crisis_list.html", {"resources": [resource]})


def test_it_says_when_hours_and_cost_are_not_confirmed_instead_of_promising():
    resource = CrisisResourceFactory(
        country=CountryFactory(code="PL"), phone="116123", hours="unknown", cost="unknown"
    )
    html = _card(resource, "en")
    assert "Opening hours not confirmed" in html and "Cost of a call not confirmed" in html
    assert "24 hours" not in html and "Free of charge" not in html
    assert 'href="tel:116123"' in html and "116 123" in html


def test_it_shows_limited_hours_and_a_standard_rate_in_the_readers_language():
    resource = CrisisResourceFactory(
        country=CountryFactory(code="BE"),
        phone="+3226484014",
        hours="limited",
        hours_texts={"en": "Weekdays only", "fr": "En semaine seulement"},
        cost="standard",
    )
    html = _card(resource, "fr")
    assert "En semaine seulement" in html and "Weekdays only" not in html
    with translation.override("fr"):
        assert translation.gettext("Standard call rate.") in html
    assert 'href="tel:+3226484014"' in html and "02 648 40 14" in html
    html = _card(resource, "nl")
    assert '<span lang="en">Weekdays only</span>' in html
    with translation.override("nl"):
        assert translation.gettext("(not yet translated)") in html


def test_it_marks_a_description_shown_in_another_language():
    resource = CrisisResourceFactory(descriptions={"en": "English text", "de": "Deutscher Text"})
    assert "Deutscher Text" in _card(resource, "de")
    with translation.override("de"):
        assert translation.gettext("(not yet translated)") not in _card(resource, "de")
    html = _card(resource, "hu")
    assert '<span lang="en">English text</span>' in html
    with translation.override("hu"):
        marker = translation.gettext("(not yet translated)")
    assert marker != "(not yet translated)" and marker in html


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_it_translates_the_emergency_heading(language):
    resource = CrisisResourceFactory(
        country_id="DE", kind="emergency", name="Emergency 112", phone="112"
    )
    with translation.override(language):
        expected = translation.gettext("Emergency %(number)s") % {"number": "112"}
    if language != "en":
        assert expected != "Emergency 112"
    assert f">{expected}<" in _card(resource, language)


def test_the_migration_fills_hours_and_cost_and_keeps_unknown_unknown():
    migration = importlib.import_module(
        "rarebridge.network.migrations.0002_crisis_resource_hours_cost"
    )
    new = migration.new_fields
    assert new(kind="emergency", old_hours="24/7", free_of_charge=True) == {
        "hours": "always",
        "hours_texts": {},
        "cost": "free",
    }
    # The old defaults said nothing: unknown.
    assert new(kind="crisis_line", old_hours="24/7", free_of_charge=True) == {
        "hours": "unknown",
        "hours_texts": {},
        "cost": "unknown",
    }
    assert new(kind="crisis_line", old_hours="Mon-Fri 9-17", free_of_charge=False) == {
        "hours": "limited",
        "hours_texts": {"en": "Mon-Fri 9-17"},
        "cost": "standard",
    }


def _demo_lines():
    from rarebridge.demo.crisis import CRISIS_RESOURCES, emergency_resource
    from rarebridge.demo.world import COUNTRIES

    return [emergency_resource(code) for code in COUNTRIES] + CRISIS_RESOURCES


def test_the_demo_lines_dial_say_hours_and_cost_and_speak_every_language():
    languages = {code for code, _name in settings.LANGUAGES}
    for line in _demo_lines():
        assert phone_normalise(line["phone"], country_code=line["country"])
        assert line["hours"] in CrisisResource.Hours.values
        assert line["cost"] in CrisisResource.Cost.values
        assert set(line["descriptions"]) == languages, line["name"]
        if line["hours"] == "limited":
            assert set(line["hours_texts"]) == languages, line["name"]
    facts = {
        (line["country"], phone_normalise(line["phone"], country_code=line["country"])): (
            line["hours"],
            line["cost"],
            line.get("languages"),
        )
        for line in _demo_lines()
        if line.get("kind") != "emergency"
    }
    assert facts == {
        ("DE", "+498001110111"): ("always", "free", ["de"]),
        ("DE", "+498001110222"): ("always", "free", ["de"]),
        ("CA", "988"): ("always", "free", ["en", "fr"]),
        ("BE", "1813"): ("always", "free", ["nl"]),
        ("BE", "+3280032123"): ("always", "free", ["fr"]),
        ("BE", "+3226484014"): ("limited", "standard", ["en"]),
        ("PL", "116123"): ("unknown", "free", ["pl"]),
        ("PL", "+48800702222"): ("always", "free", ["pl"]),
        ("HU", "116123"): ("always", "free", ["hu"]),
    }
