"""A self-referred patient: screening, consent, baseline, randomisation, then week 1."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.instruments.content import questionnaire
from rarebridge.notify.models import Message
from rarebridge.trials.models import Participant
from rarebridge.trials.services import (
    allocation_table_load,
    consent_countersign,
    participant_randomise,
)
from tests.factories import CrisisResourceFactory
from tests.trials_helpers import load_demo_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough passphrase 42"


def test_it_takes_a_self_referred_patient_into_week_one(page, cast, assert_accessible):
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    study = load_demo_study(cast)
    # A one-row allocation table makes the arm of this walk-through known in advance.
    study.definition["allocation"]["method"] = "table"
    study.save()
    allocation_table_load(
        study=study, text="arm,site,diagnosis\nintervention,Hamburg,PSC\n", by=cast.trial_manager
    )

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(reverse("trials_public:join", args=[study.slug]))
    assert_accessible(page, "join")
    page.get_by_label("Where would you take part?").select_option(label="Hamburg")
    page.get_by_label("Which diagnosis has a doctor confirmed?").select_option("PSC")
    page.get_by_label("I am having thoughts of ending my life at the moment.").check()
    expect(page.locator("#crisis-now").get_by_text("TelefonSeelsorge")).to_be_visible()
    assert_accessible(page, "join with crisis resources")
    page.get_by_label("I am having thoughts of ending my life at the moment.").uncheck()
    page.get_by_label("I am 18 years or older.").check()
    page.get_by_label("I would like psychosocial support.").check()
    page.get_by_label("Full name").fill("Pia Patient")
    page.get_by_label("E-mail address").fill("pia@example.org")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Check and continue").click()
    page.wait_for_url(re.compile(r"/me/study/$"))
    assert_accessible(page, "study home, address not yet confirmed")

    # A mistyped correction is refused with the error summary, and nothing typed is lost.
    page.get_by_text("Is the address wrong? Correct it").click()
    page.get_by_role("textbox", name="Your e-mail address").fill("pia at example")
    page.get_by_role("button", name="Correct it and send the link").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your e-mail address")).to_have_value("pia at example")
    assert_accessible(page, "correcting the address")

    # Consent opens once the address is confirmed through the link sent there.
    body = Message.objects.get(template_key="email_confirm", to_address="pia@example.org").body
    link = re.search(r"(/accounts/confirm-email/\S+)", body)
    assert link is not None
    page.goto(link.group(1))
    assert_accessible(page, "confirm the e-mail address")
    page.get_by_role("button", name="Confirm my address").click()
    page.wait_for_url(re.compile(r"/me/study/$"))
    expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()
    assert_accessible(page, "study home")

    page.get_by_role("link", name="Read the information and consent").click()
    assert_accessible(page, "consent")
    for question, answer in (
        ("Can you stop taking part", "Yes"),
        ("Does chance decide", "Yes"),
        ("Is the study a service", "No"),
    ):
        page.get_by_role("group", name=re.compile(question)).get_by_label(answer).check()
    page.get_by_label("Type your full name to sign").fill("Pia Patient")
    page.get_by_role("button", name="I consent to take part").click()
    page.wait_for_url(re.compile(r"/me/study/$"))

    participant = Participant.objects.get(patient__user__email="pia@example.org")
    consent_countersign(consent=participant.consents.get(), by=cast.coordinator)

    for instrument, items in (("phq9", 10), ("gad7", 8)):
        page.goto(reverse("trials_patient:answer", args=["T0", instrument]))
        if instrument == "phq9":
            assert_accessible(page, "questionnaire")
        # On a phone the questions come one per screen, with Previous / Next between them.
        for n in range(1, items + 1):
            expect(page.locator(f"#wrap-{instrument}-{n}")).to_be_visible()
            if instrument == "phq9" and n == 9:
                # A risk answer shows help at once; changing it back hides it again.
                page.locator("input[name='phq9-9'][value='1']").check()
                expect(page.locator("#crisis-now").get_by_text("TelefonSeelsorge")).to_be_visible()
                assert_accessible(page, "questionnaire with crisis resources")
            page.locator(f"input[name='{instrument}-{n}'][value='0']").check()
            if n < items:
                page.get_by_role("button", name="Next question").click()
        if instrument == "phq9":
            assert page.locator("#crisis-now").is_hidden()
        page.locator(".save-status", has_text="Saved").wait_for()
        page.get_by_role("button", name="Review my answers").click()
        page.wait_for_url(re.compile(r"/review/$"))
        if instrument == "phq9":
            assert_accessible(page, "review")
        page.get_by_role("button", name="Send my answers").click()
    # The SF-12 (the primary outcome, placeholder wording) comes last.
    page.wait_for_url(re.compile(r"/T0/sf12v1/$"))
    questions = questionnaire("sf12v1", "en").questions
    for n, item in enumerate(questions, start=1):
        page.locator(f"input[name='{item.link_id}'][value='1']").check()
        if n < len(questions):
            page.get_by_role("button", name="Next question").click()
    page.locator(".save-status", has_text="Saved").wait_for()
    page.get_by_role("button", name="Review my answers").click()
    page.wait_for_url(re.compile(r"/review/$"))
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(re.compile(r"/me/study/$"))

    participant_randomise(participant=participant, by=cast.coordinator)
    page.reload()
    expect(
        page.get_by_text("You are in the group: Peer support program and usual care.")
    ).to_be_visible()
    page.get_by_role("link", name="Go to your program").click()
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.get_by_role("link", name="Read this week's chapter")).to_be_visible()
    assert_accessible(page, "program home, week 1")


def test_it_passes_axe_on_the_study_team_pages(page, cast, assert_accessible):
    from tests.browser.test_pages import sign_in
    from tests.trials_helpers import consent, ready_to_randomise, screen_in

    study = load_demo_study(cast)
    waiting = screen_in(study, cast.site, email="wait@example.org")
    ready = ready_to_randomise(study, cast.site, cast.trial_manager, email="ready@example.org")
    sign_in(page, "tara@example.org", staff=True)
    for url in (
        reverse("trials_staff:studies"),
        reverse("trials_staff:dashboard", args=[study.slug]),
        reverse("trials_staff:participants", args=[study.slug]),
        reverse("trials_staff:participant", args=[study.slug, waiting.pk]),
        reverse("trials_staff:participant", args=[study.slug, ready.pk]),
        reverse("trials_staff:refer", args=[study.slug]),
        reverse("trials_staff:screening", args=[study.slug]),
    ):
        response = page.goto(url)
        assert response.status < 400, url
        assert_accessible(page, url)
    # Data entry by phone is the site coordinator's.
    page.context.clear_cookies()
    other = screen_in(study, cast.site, email="phone@example.org")
    consent(other, cast.coordinator)
    sign_in(page, "cora@example.org", staff=True)
    url = reverse("trials_staff:data_entry", args=[study.slug, other.pk, "T0", "phq9"])
    assert page.goto(url).status < 400
    assert_accessible(page, url)
