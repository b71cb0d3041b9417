"""The catalogue search and the directory: suggestions, verification, staleness, public search."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rarebridge.core.models import AuditEntry
from rarebridge.directory.models import DirectoryEntry
from rarebridge.directory.selectors import condition_search, directory_search, entries_for_verifier
from rarebridge.directory.services import (
    DuplicateEntry,
    EntryData,
    entry_reject,
    entry_suggest,
    entry_verify,
    website_key,
)
from tests import directory_fixtures as fx
from tests.directory_fixtures import (
    AIH,
    AUTOIMMUNE_LIVER,
    MARFAN,
    PBC,
    PSC,
    condition,
    days_ago,
    suggestion,
)

# The shared fixtures (pytest finds fixtures by name in the test module).
_fresh_catalogue = fx._fresh_catalogue
catalogue = fx.catalogue
directory = fx.directory


def codes(query: str, **kw) -> list[int]:
    return [m.condition.orphacode for m in condition_search(query=query, **kw)]


# --- the catalogue -------------------------------------------------------------------------


def test_it_finds_conditions_by_name_code_and_cross_reference(catalogue):
    assert codes("Primary sclerosing cholangitis")[0] == PSC
    assert codes("ORPHA:171") == [PSC] and codes("171") == [PSC]
    assert codes("K75.4") == [AIH]
    assert codes("OMIM 154700") == [MARFAN]
    assert codes("") == []


def test_it_finds_a_group_and_everything_in_it(catalogue):
    found = condition_search(query="autoimmune liver disease")
    assert found[0].condition.orphacode == AUTOIMMUNE_LIVER
    members = {m.condition.orphacode: m for m in found[1:4]}
    assert set(members) == {AIH, PSC, PBC}
    assert all(m.via.orphacode == AUTOIMMUNE_LIVER for m in members.values())


def test_it_matches_in_every_language_with_typos_and_without_accents(catalogue):
    assert codes("Cholangite sclerosante primitve")[0] == PSC
    assert codes("Autoimmunologiczne zapalenie watroby")[0] == AIH
    assert codes("autoimmun hepatitisz")[0] == AIH  # Hungarian, with a typo
    assert codes("marfan-szindroma")[0] == MARFAN
    assert codes("Syndroom van Marfn")[0] == MARFAN


def test_it_shows_no_orpha_number_for_a_placeholder_group(catalogue):
    group = condition(AUTOIMMUNE_LIVER)
    assert group.is_local and group.code_label == ""
    assert condition(PSC).code_label == "ORPHA:171"


# --- suggestions and verification --------------------------------------------------------


def test_it_keeps_a_suggestion_private_until_a_program_admin_verifies_it(cast, catalogue):
    entry = suggestion()
    assert entry.status == DirectoryEntry.Status.SUGGESTED
    assert entry not in directory_search(condition=condition(PSC))
    assert Client().get(reverse("directory:entry", args=[entry.slug])).status_code == 404
    entry_verify(entry=entry, by=cast.admin)
    entry.refresh_from_db()
    assert entry.status == "verified" and entry.last_verified_on == days_ago(0)
    assert entry in directory_search(condition=condition(PSC), country="DE")
    assert Client().get(reverse("directory:entry", args=[entry.slug])).status_code == 200
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"directory.entry.suggested", "directory.entry.verified"} <= actions


def test_it_refuses_verification_to_roles_without_the_right(cast, catalogue):
    entry = suggestion()
    for person in (cast.coordinator, cast.supervisor, cast.patient.user):
        with pytest.raises(PermissionDenied):
            entry_verify(entry=entry, by=person)
        with pytest.raises(PermissionDenied):
            entry_reject(entry=entry, by=person, note="no")
    with pytest.raises(PermissionDenied):
        entries_for_verifier(by=cast.coordinator)


def test_it_will_not_publish_an_entry_nobody_can_find(cast, catalogue):
    entry = suggestion(conditions=[], conditions_note="something", countries=[], international=True)
    with pytest.raises(ValidationError) as problem:
        entry_verify(entry=entry, by=cast.admin)
    assert "condition" in str(problem.value)


def test_it_cleans_what_people_type(catalogue):
    entry = suggestion(
        name="  <b>PSC</b>\x00 Friends   Hamburg ",
        descriptions={
            "en": "We meet <script>alert(1)</script>monthly.\r\n\r\n\r\nCome!",
            "xx": "?",
        },
        website="psc-friends.example.org/",
        contact_email=" Hello@Example.ORG ",
    )
    assert entry.name == "PSC Friends Hamburg"
    assert entry.descriptions == {"en": "We meet alert(1)monthly.\n\nCome!"}
    assert entry.website == "https://psc-friends.example.org/"
    assert entry.contact_email == "hello@example.org"


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "http://", "ftp://files.example.org", "not a url at all"]
)
def test_it_refuses_a_web_address_that_is_not_one(catalogue, website):
    with pytest.raises(ValidationError) as problem:
        suggestion(website=website)
    assert "website" in problem.value.message_dict


def test_it_refuses_bad_contact_details_and_unknown_countries(catalogue):
    with pytest.raises(ValidationError) as problem:
        suggestion(contact_email="not-an-address", contact_phone="call me", countries=["Germany"])
    assert {"contact_email", "countries"} <= set(problem.value.message_dict)
    with pytest.raises(ValidationError) as problem:
        suggestion(contact_phone="call me maybe")
    assert set(problem.value.message_dict) == {"contact_phone"}


def test_it_spots_duplicates_by_name_and_by_website(cast, catalogue):
    first = suggestion()
    with pytest.raises(DuplicateEntry) as same_name:
        suggestion(name="psc friends HAMBURG (demo)", website="")
    assert same_name.value.existing == first
    with pytest.raises(DuplicateEntry):
        suggestion(name="Another name", website="http://www.PSC-friends.example.org")
    entry_reject(entry=first, by=cast.admin, note="Closed down.")
    assert suggestion(website="").status == "suggested"  # a rejected entry is no duplicate
    assert website_key("https://www.Example.org/psc/?ref=1") == "example.org/psc"


def test_it_resolves_the_conditions_a_suggester_names(catalogue):
    entry = entry_suggest(
        data=EntryData(
            name="Liver Friends",
            kind="online_community",
            conditions_note="Primary biliary cholangitis, Autoimmunhepatitis; xyzzy",
            international=True,
            languages=["en"],
        )
    )
    assert set(entry.conditions.values_list("orphacode", flat=True)) == {PBC, AIH}
    assert "xyzzy" in entry.conditions_note


def test_it_flags_entries_not_verified_for_a_year(cast, directory):
    stale = directory["psc-coffee-mornings-ghent-demo"]
    fresh = directory["international-psc-patient-network-demo"]
    assert stale.stale and not fresh.stale
    assert list(entries_for_verifier(by=cast.admin, queue="stale")) == [stale]
    html = Client().get(reverse("directory:search"), {"q": "PSC", "country": "BE"}).content.decode()
    assert "PSC Coffee Mornings Ghent (demo)" in html and "Not checked for over a year" in html


# --- the public pages --------------------------------------------------------------------


def test_it_searches_by_condition_country_and_language_without_sign_in(directory):
    client = Client()
    html = client.get(reverse("directory:search"), {"q": "PSC", "country": "DE"}).content.decode()
    assert "International PSC Patient Network (demo)" in html
    assert "Lebergruppe Norddeutschland (Demo)" in html  # for the group above PSC
    assert "Polskie Stowarzyszenie" not in html and "Marfan" not in html
    html = client.get(
        reverse("directory:search"), {"q": "PSC", "country": "PL", "language": "pl"}
    ).content.decode()
    assert "Polskie Stowarzyszenie Chorych na PSC i PBC (demo)" in html
    assert "Lebergruppe" not in html and "International PSC Patient Network" not in html
    assert client.post(reverse("directory:search")).status_code == 405


def test_it_finds_entries_through_a_typo_in_another_language(directory):
    html = (
        Client()
        .get(reverse("directory:search"), {"q": "cholangite sclerosante primitve"})
        .content.decode()
    )
    assert "International PSC Patient Network (demo)" in html


def test_it_suggests_the_parent_group_and_international_organisations_when_nothing_fits(
    directory,
):
    html = (
        Client()
        .get(
            reverse("directory:search"),
            {"q": "Marfan", "country": "PL", "language": "pl", "kind": "local_group"},
        )
        .content.decode()
    )
    assert "0 organisations and groups" in html
    assert "Rare genetic disease" in html  # the group above Marfan syndrome
    assert "Rare Voices Europe (demo)" in html  # international, for all rare conditions
    html = Client().get(reverse("directory:search"), {"q": "qwxzqwxz"}).content.decode()
    assert "We found no condition matching" in html and "Rare hepatic disease" in html


def test_it_lists_search_results_with_a_constant_number_of_queries(directory, monkeypatch):
    # The catalogue's once-a-second version check must not land in one window and not the
    # other on a slow machine: hold it still for the measurement.
    monkeypatch.setattr("rarebridge.conditions.catalogue.VERSION_CHECK_SECONDS", 3600.0)
    client = Client()
    url = reverse("directory:search")
    params = {"q": "PSC", "country": "DE"}
    client.get(url, params)  # build the index
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for n in range(25):
        entry = suggestion(name=f"PSC group {n}", website="", countries=["DE", "AT"])
        entry.status = "verified"
        entry.save()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert "PSC group 1" in response.content.decode()
    assert len(many) == len(few)


def test_it_shows_a_condition_with_its_groups_names_and_codes(directory):
    response = Client().get(reverse("directory:condition", args=[PSC]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rare autoimmune liver disease" in html and "K83.0" in html
    assert 'lang="de">Primär sklerosierende Cholangitis' in html
    assert Client().get(reverse("directory:condition", args=[424242])).status_code == 404


def test_it_takes_a_suggestion_from_anyone_and_explains_what_is_wrong(catalogue):
    client = Client()
    url = reverse("directory:suggest")
    assert client.get(url).status_code == 200
    form = {
        "name": "NF1 Coffee Club",
        "kind": "local_group",
        "conditions_text": "Neurofibromatosis type 1",
        "countries": ["BE"],
        "languages": ["nl", "fr"],
        "website": "javascript:alert(1)",
    }
    bad = client.post(url, form)
    assert bad.status_code == 422 and "error-summary" in bad.content.decode()
    form["website"] = "nf1-coffee.example.org"
    assert client.post(url, form).status_code == 302
    entry = DirectoryEntry.objects.get(name="NF1 Coffee Club")
    assert entry.status == "suggested" and entry.website == "https://nf1-coffee.example.org"
    again = client.post(url, form)
    assert again.status_code == 422 and "already in the directory" in again.content.decode()


# --- the staff pages -------------------------------------------------------------------------


def test_it_shows_the_verification_queue_to_program_admins_only(cast, as_user, catalogue):
    entry = suggestion()
    url = reverse("directory_admin:entries")
    html = as_user(cast.admin).get(url).content.decode()
    assert entry.name in html
    assert as_user(cast.coordinator).get(url).status_code == 403
    assert as_user(cast.patient.user).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign in
    assert as_user(cast.admin).post(url).status_code == 405


def test_it_verifies_edits_and_rejects_from_the_staff_pages(cast, as_user, catalogue):
    entry = suggestion()
    client = as_user(cast.admin)
    detail = reverse("directory_admin:entry", args=[entry.pk])
    assert client.get(detail).status_code == 200
    assert as_user(cast.coordinator).get(detail).status_code == 403
    form = {
        "name": entry.name,
        "kind": entry.kind,
        "orphacodes": "171, 186",
        "countries": ["DE"],
        "languages": ["de", "en"],
        "text_language": "de",
        "description": "Wir treffen uns monatlich.",
        "website": entry.website,
    }
    assert client.post(detail, {**form, "orphacodes": "171, 424242"}).status_code == 422
    assert client.post(detail, form).status_code == 302
    entry.refresh_from_db()
    assert set(entry.conditions.values_list("orphacode", flat=True)) == {PSC, PBC}
    assert entry.descriptions == {"en": "We meet monthly.", "de": "Wir treffen uns monatlich."}
    verify = reverse("directory_admin:verify", args=[entry.pk])
    assert client.get(verify).status_code == 405
    assert client.post(verify).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "verified" and entry.verified_by == cast.admin
    reject = reverse("directory_admin:reject", args=[entry.pk])
    assert client.post(reject, {"note": ""}).status_code == 422
    assert client.post(reject, {"note": "The group has closed."}).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "rejected" and entry.review_note == "The group has closed."
    assert AuditEntry.objects.filter(action="directory.entry.rejected", actor=cast.admin).exists()
