"""Every page signed in as each role, by keyboard and screen reader (axe), on a phone, in six languages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.accounts.mfa import totp_code
from rarebridge.accounts.services import invitation_create
from rarebridge.core.permissions import Role
from tests.conftest import TOTP_SECRET
from tests.factories import CrisisResourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


def sign_in(page, email: str, *, staff: bool) -> None:
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if staff:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.locator("#id_code").fill(totp_code(TOTP_SECRET))
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/(me|staff|counsellor)/"))


def visit_all(page, check, paths):
    for path in paths:
        response = page.goto(path)
        assert response.status < 400, path
        check(page, path)


def test_it_passes_axe_on_public_pages(page, cast, assert_accessible):
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    visit_all(
        page,
        assert_accessible,
        [
            "/",
            "/help/",
            "/help/?country=DE",
            reverse("account_login"),
            reverse("account_request_login_code"),
        ],
    )
    page.goto("/no/such/page/")
    assert_accessible(page, "404")


def test_it_signs_in_a_patient_and_every_patient_page_passes_axe(page, cast, assert_accessible):
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    sign_in(page, "anna@example.org", staff=False)
    visit_all(
        page,
        assert_accessible,
        [
            reverse("patient:home"),
            reverse("patient:messages"),
            reverse("public:preferences"),
            reverse("public:email_change"),
            reverse("public:help"),
        ],
    )
    # Crisis resources are one click away.
    page.goto(reverse("patient:home"))
    page.get_by_role("link", name="Need help now?").click()
    expect(page.get_by_text("TelefonSeelsorge")).to_be_visible()


@pytest.mark.parametrize(
    "who", ["counsellor", "supervisor", "coordinator", "trial_manager", "care_coordinator", "admin"]
)
def test_it_signs_in_staff_with_mfa_and_every_staff_page_passes_axe(
    page, cast, assert_accessible, who
):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    user = getattr(cast, who)
    sign_in(page, user.email, staff=True)
    paths = [
        reverse("portals:home"),
        reverse("staff:home"),
        reverse("staff:patients"),
        reverse("staff:crisis_resources"),
        reverse("public:preferences"),
        reverse("public:email_change"),
    ]
    if who == "counsellor":
        paths += [
            reverse("counsellor:home"),
            reverse("staff:patient_detail", args=[cast.patient.pk]),
        ]
    if who in {"supervisor", "trial_manager", "admin"}:
        paths.append(reverse("staff:audit") + "?action=accounts")
    if who in {"coordinator", "trial_manager", "admin"}:
        paths.append(reverse("staff:invitations"))
    if who == "admin":
        paths += [
            reverse("staff:crisis_resource_edit", args=[resource.pk]),
            reverse("mfa_index"),
            reverse("account_change_password"),
        ]
    visit_all(page, assert_accessible, paths)


def test_it_previews_a_crisis_line_in_every_language_before_publishing(
    page, cast, assert_accessible
):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    sign_in(page, cast.admin.email, staff=True)
    page.goto(reverse("staff:crisis_resource_edit", args=[resource.pk]))
    page.get_by_label("Phone number").fill("0800 111 0 222")
    page.get_by_role("button", name="Preview").click()
    for language in ("English", "German", "Polish", "Dutch", "Hungarian", "French"):
        expect(page.get_by_role("heading", name=language, exact=True)).to_be_visible()
    expect(page.locator('a[href="tel:+498001110222"]').first).to_be_visible()
    assert_accessible(page, "crisis line preview")
    page.get_by_role("button", name="Confirm and publish").click()
    page.wait_for_url(re.compile(r"/staff/crisis-resources/$"))
    resource.refresh_from_db()
    assert resource.phone == "+498001110222"


def test_it_shows_the_error_summary_and_keeps_what_was_typed(page, cast, assert_accessible):
    sign_in(page, "anna@example.org", staff=False)
    page.goto(reverse("public:preferences"))
    page.get_by_label("What we call you").fill("Anni")
    page.get_by_label("Mobile phone").fill("12")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.get_by_label("What we call you")).to_have_value("Anni")
    assert_accessible(page, "preferences with errors")


@pytest.mark.parametrize("lang", ["de", "pl", "nl", "hu", "fr"])
def test_it_switches_language_and_pages_stay_accessible(page, cast, assert_accessible, lang):
    sign_in(page, "anna@example.org", staff=False)
    page.goto(reverse("patient:home"))
    page.locator("#language-select").select_option(lang)
    page.locator(".language-switcher button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang
    for path in (
        reverse("patient:home"),
        reverse("public:preferences"),
        reverse("public:email_change"),
        reverse("public:help"),
    ):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == lang
        assert_accessible(page, f"{path} in {lang}")


def test_it_enrols_mfa_for_a_newly_invited_staff_member(page, cast, assert_accessible):
    _invitation, token = invitation_create(
        by=cast.admin,
        organisation=cast.org,
        role=Role.SUPERVISOR,
        email="new.supervisor@example.org",
        full_name="Nora New",
        language="en",
        site=cast.site,
    )
    page.goto(reverse("public:invitation_accept", args=[token]))
    assert_accessible(page, "invitation")
    page.get_by_label("Choose a password").fill("violet kettle harbour")
    page.get_by_label("Type it again").fill("violet kettle harbour")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert_accessible(page, "MFA activation")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret.strip()))
    page.get_by_role("button", name=re.compile("Activate", re.I)).click()
    page.goto(reverse("staff:home"))
    assert page.url.endswith(reverse("staff:home"))


def test_it_fits_a_phone_screen(browser, live_server, cast):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    sign_in(page, "anna@example.org", staff=False)
    for path in (reverse("patient:home"), reverse("public:preferences"), "/help/?country=DE"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    context.close()


def test_it_applies_larger_text_and_high_contrast(page, cast):
    cast.patient.user.text_size = "larger"
    cast.patient.user.high_contrast = True
    cast.patient.user.save()
    sign_in(page, "anna@example.org", staff=False)
    classes = page.locator("html").get_attribute("class")
    assert "text-larger" in classes and "high-contrast" in classes
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") > 20


def test_it_reaches_the_main_content_by_keyboard(page, cast):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
