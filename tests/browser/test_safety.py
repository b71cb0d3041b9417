"""The safety pages in a real browser: axe finds nothing, and they fit a phone screen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.accounts.mfa import totp_code
from tests.conftest import TOTP_SECRET
from tests.factories import CrisisResourceFactory
from tests.test_safety import chain, raise_high  # noqa: F401 - the chain fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


@pytest.fixture
def open_as(browser, live_server):
    """A signed-in page for a person, at desktop or phone size."""
    contexts = []

    def sign_in(user, *, phone: bool = False):
        size = {"width": 360, "height": 740} if phone else {"width": 1280, "height": 900}
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-GB",
            timezone_id="Europe/Berlin",
            viewport=size,
            is_mobile=phone,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(reverse("account_login"))
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.locator("#id_code").fill(totp_code(TOTP_SECRET))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(re.compile(r"/(staff|counsellor)/"))
        return page

    yield sign_in
    for context in contexts:
        context.close()


def test_it_passes_axe_on_every_safety_page(chain, open_as, assert_accessible):  # noqa: F811
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    alert = raise_high(chain.cast)
    page = open_as(chain.cast.counsellor)
    page.goto(reverse("safety:concern_raise", args=[chain.cast.patient.pk]))
    assert_accessible(page, "raise a concern")
    page.get_by_role("button", name="Send the concern").click()  # nothing chosen
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "raise a concern with errors")

    page = open_as(chain.sam)
    for path in (
        reverse("safety:alerts"),
        reverse("safety:alert_detail", args=[alert.pk]),
        reverse("safety:supervision"),
        reverse("safety:escalation"),
    ):
        response = page.goto(path)
        assert response.status < 400, path
        assert_accessible(page, path)
    page.goto(reverse("safety:alert_detail", args=[alert.pk]))
    page.get_by_role("button", name="Close the alert").click()  # no outcome, no note
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "close with errors")
    page.get_by_label("Referred").check()
    page.get_by_label("What was done").fill("Referred to her GP.")
    page.get_by_role("button", name="Close the alert").click()
    expect(page.get_by_text("The alert is closed and its outcome recorded.")).to_be_visible()


def test_it_fits_the_safety_pages_on_a_phone(chain, open_as):  # noqa: F811
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    alert = raise_high(chain.cast)
    page = open_as(chain.sam, phone=True)
    for path in (
        reverse("safety:concern_raise", args=[chain.cast.patient.pk]),
        reverse("safety:alerts"),
        reverse("safety:alert_detail", args=[alert.pk]),
        reverse("safety:supervision"),
        reverse("safety:escalation"),
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
