"""The public directory and the peer finder with a keyboard and a screen reader (axe), on a
phone, in the six languages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.core.permissions import Role
from rarebridge.directory.services import (
    contact_message_send,
    contact_request_respond,
    contact_request_send,
    peer_report,
)
from tests import directory_fixtures as fx
from tests.browser.test_pages import sign_in
from tests.conftest import staff
from tests.directory_fixtures import PSC, findable, peers, suggestion
from tests.factories import CountryFactory, PatientFactory, SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The shared fixtures (pytest finds fixtures by name in the test module).
_fresh_catalogue = fx._fresh_catalogue
catalogue = fx.catalogue
directory = fx.directory


def choose_language(page, lang: str) -> None:
    page.goto(reverse("directory:search"))
    page.locator("#language-select").select_option(lang)
    page.locator(".language-switcher button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("lang", ["en", "de", "pl", "nl", "hu", "fr"])
def test_it_passes_axe_on_the_public_directory_in_every_language(
    page, directory, assert_accessible, lang
):
    choose_language(page, lang)
    search = reverse("directory:search")
    for path in (
        search,
        f"{search}?q=PSC&country=DE",
        f"{search}?q=autoimune+liver&language={lang}",
        f"{search}?q=Marfan&country=PL&kind=local_group",  # nothing: the fallback
        f"{search}?q=qwxzqwxz",  # no condition at all
        reverse("directory:entry", args=["international-psc-patient-network-demo"]),
        reverse("directory:condition", args=[PSC]),
        reverse("directory:suggest"),
    ):
        response = page.goto(path)
        assert response.status < 400, path
        assert page.locator("html").get_attribute("lang") == lang
        assert_accessible(page, f"{path} in {lang}")


def test_it_searches_the_directory_on_a_phone_by_keyboard(
    browser, live_server, directory, assert_accessible
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    page.goto(reverse("directory:search"))
    page.get_by_label("Condition").fill("cholangite sclerosante")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Condition").press("Enter")
    page.wait_for_url(re.compile(r"q=cholangite"))
    expect(
        page.get_by_role("link", name="International PSC Patient Network (demo)")
    ).to_be_visible()
    assert no_sideways_scrolling(page)
    assert_accessible(page, "search on a phone")
    page.goto(reverse("directory:suggest"))
    page.get_by_label("Name of the organisation or group").fill("PSC Walkers")
    page.get_by_role("button", name="Send suggestion").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert no_sideways_scrolling(page)
    assert_accessible(page, "suggestion with errors on a phone")
    context.close()


@pytest.fixture
def connected(cast, catalogue):
    """Anna (the cast's patient) and Marta in Poland have both accepted and written; a third
    person waits for Anna's answer; Anna sees enough peers for a number."""
    anna = findable(cast.patient, PSC, alias="Anna")
    site = SiteFactory(country=CountryFactory(code="PL"), name="Warsaw", city="Warsaw")
    marta = findable(PatientFactory(site=site), PSC, languages=("pl", "en"), alias="Marta")
    contact = contact_request_send(
        requester=marta, scope="condition", note="Hi!", by=marta.patient.user
    )
    contact_request_respond(contact=contact, accept=True, by=cast.patient.user)
    contact_message_send(contact=contact, body="Lovely to meet you.", by=marta.patient.user)
    others = peers(4, PSC)
    waiting = contact_request_send(
        requester=others[0], scope="condition", note="I live in Canada.", by=others[0].patient.user
    )
    if waiting.recipient_id != anna.pk:
        waiting.recipient = anna
        waiting.save()
    return contact, waiting


def test_it_passes_axe_on_every_peer_finder_page(page, cast, connected, assert_accessible):
    contact, waiting = connected
    sign_in(page, "anna@example.org", staff=False)
    for path in (
        reverse("peers:home"),
        reverse("peers:conditions") + "?q=sklerosierende",
        reverse("peers:join"),
        reverse("peers:ask"),
        reverse("peers:contact", args=[contact.pk]),
        reverse("peers:contact", args=[waiting.pk]),
        reverse("peers:report", args=[contact.pk]),
        reverse("peers:organisations"),
    ):
        response = page.goto(path)
        assert response.status < 400, path
        assert_accessible(page, path)
    page.goto(reverse("peers:contact", args=[contact.pk]))
    page.get_by_label("Your message").fill("Write to me at anna@example.org")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "message with contact details refused")


@pytest.mark.parametrize("lang", ["de", "pl", "nl", "hu", "fr"])
def test_it_keeps_the_peer_finder_accessible_in_every_language(
    page, cast, connected, assert_accessible, lang
):
    contact, _waiting = connected
    sign_in(page, "anna@example.org", staff=False)
    page.goto(reverse("peers:home"))
    page.locator("#language-select").select_option(lang)
    page.locator(".language-switcher button").click()
    page.wait_for_load_state()
    for path in (reverse("peers:home"), reverse("peers:contact", args=[contact.pk])):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == lang
        assert_accessible(page, f"{path} in {lang}")


def test_it_passes_axe_on_the_staff_directory_and_report_pages(
    page, cast, connected, assert_accessible
):
    contact, _waiting = connected
    entry = suggestion()
    report = peer_report(
        contact=contact, reason="safety", details="Worried.", by=contact.requester.patient.user
    )
    moderator = staff(Role.PROGRAM_ADMIN, report.organisation, None, email="mod@example.org")
    sign_in(page, cast.admin.email, staff=True)
    for path in (
        reverse("directory_admin:entries"),
        reverse("directory_admin:entries") + "?queue=stale",
        reverse("directory_admin:entry", args=[entry.pk]),
    ):
        response = page.goto(path)
        assert response.status < 400, path
        assert_accessible(page, path)
    page.context.clear_cookies()
    sign_in(page, moderator.email, staff=True)
    for path in (
        reverse("directory_admin:reports"),
        reverse("directory_admin:report", args=[report.pk]),
    ):
        response = page.goto(path)
        assert response.status < 400, path
        assert_accessible(page, path)
