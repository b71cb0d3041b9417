"""A self-referred participant through join, e-mail confirmation, consent, countersignature
and randomisation (each irreversible step confirmed), with wrong input at every form; then
what each arm is told, on its pages and in its messages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.notify.models import Message
from rarebridge.trials.models import Allocation, Participant
from rarebridge.trials.services import allocation_table_load
from tests.browser.test_pages import sign_in
from tests.trials_helpers import answer_all, load_demo_study, ready_to_randomise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough passphrase 42"


def _signed_in_as(page, live_server, user) -> None:
    """A participant's session, made on the server (staff sign in through the form above)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_it_walks_a_participant_into_each_arm_and_tells_them_what_it_means(
    page, cast, assert_accessible, live_server
):
    study = load_demo_study(cast)
    # A two-row table: the first participant of the stratum is in usual care, the second not.
    study.definition["allocation"]["method"] = "table"
    study.save()
    allocation_table_load(
        study=study,
        text="arm,site,diagnosis\ncontrol,Hamburg,PSC\nintervention,Hamburg,PSC\n",
        by=cast.trial_manager,
    )

    # Join: an empty submit shows the error summary; what was typed stays.
    page.goto(reverse("trials_public:join", args=[study.slug]))
    page.get_by_label("Full name").fill("Pia Patient")
    page.get_by_role("button", name="Check and continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Pia Patient")
    page.get_by_label("Where would you take part?").select_option(label="Hamburg")
    page.get_by_label("Which diagnosis has a doctor confirmed?").select_option("PSC")
    page.get_by_label("I am 18 years or older.").check()
    page.get_by_label("I would like psychosocial support.").check()
    page.get_by_label("E-mail address").fill("pia@example.org")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Check and continue").click()
    page.wait_for_url(re.compile(r"/me/study/$"))

    body = Message.objects.get(template_key="email_confirm", to_address="pia@example.org").body
    link = re.search(r"(/accounts/confirm-email/\S+)", body)
    assert link is not None
    page.goto(link.group(1))
    page.get_by_role("button", name="Confirm my address").click()
    page.wait_for_url(re.compile(r"/me/study/$"))

    # Consent: an empty submit keeps the typed name and shows the summary.
    page.get_by_role("link", name="Read the information and consent").click()
    page.get_by_label("Type your full name to sign").fill("Pia Patient")
    page.get_by_role("button", name="I consent to take part").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Type your full name to sign")).to_have_value("Pia Patient")
    for question, answer in (
        ("Can you stop taking part", "Yes"),
        ("Does chance decide", "Yes"),
        ("Is the study a service", "No"),
    ):
        page.get_by_role("group", name=re.compile(question)).get_by_label(answer).check()
    page.get_by_role("button", name="I consent to take part").click()
    page.wait_for_url(re.compile(r"/me/study/$"))
    expect(page.get_by_text("You consented to take part")).to_be_visible()
    assert Message.objects.filter(template_key="study_consented", channel="email").exists()

    participant = Participant.objects.get(patient__user__email="pia@example.org")
    second = ready_to_randomise(study, cast.site, cast.trial_manager, email="ivo@example.org")

    # The coordinator: refer with an empty submit (nothing recorded), then countersign and
    # randomise, each after a confirmation naming the person.
    page.context.clear_cookies()
    sign_in(page, "cora@example.org", staff=True)
    page.goto(reverse("trials_staff:refer", args=[study.slug]))
    page.get_by_label("Full name").fill("Rolf Referred")
    page.get_by_role("button", name="Screen").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Rolf Referred")
    assert_accessible(page, "refer with errors")

    page.goto(reverse("trials_staff:participant", args=[study.slug, participant.pk]))
    page.get_by_role("link", name="Countersign the consent").click()
    expect(page.get_by_role("heading", name=re.compile("Pia Patient"))).to_be_visible()
    assert_accessible(page, "countersign confirmation")
    page.get_by_role("button", name="Yes, countersign").click()
    expect(page.get_by_text("Consent countersigned.")).to_be_visible()

    answer_all(participant, "T0")
    for person in (participant, second):
        page.goto(reverse("trials_staff:participant", args=[study.slug, person.pk]))
        page.get_by_role("link", name="Randomise").click()
        expect(page.get_by_text("This allocates an arm and cannot be undone.")).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile(person.patient.code))).to_be_visible()
        page.get_by_role("button", name="Yes, randomise now").click()
        expect(page.get_by_text("The participant is randomised.")).to_be_visible()
    assert Allocation.objects.get(participant=participant).arm == "control"
    assert Allocation.objects.get(participant=second).arm == "intervention"
    expect(page.get_by_text("Allocated to Peer support program and usual care")).to_be_visible()
    expect(page.get_by_text("Baseline (T0)")).to_be_visible()

    # Usual care: what the arm means, the next questionnaires, when the program opens.
    page.context.clear_cookies()
    _signed_in_as(page, live_server, participant.patient.user)
    page.goto(reverse("patient:home"))
    expect(page.get_by_text("has not started yet")).to_have_count(0)
    expect(page.get_by_text(re.compile("You continue with your usual care"))).to_be_visible()
    page.goto(reverse("trials_patient:home"))
    expect(page.get_by_text("You are in the group: Usual care.")).to_be_visible()
    expect(page.get_by_text(re.compile("Your next questionnaires"))).to_be_visible()
    expect(
        page.get_by_text(re.compile("the peer support program opens to you too")).first
    ).to_be_visible()
    assert_accessible(page, "study home, usual care")
    page.goto(reverse("patient:messages"))
    expect(page.get_by_text(re.compile("your group was drawn: Usual care"))).to_be_visible()

    # The program arm: its program and its message.
    page.context.clear_cookies()
    _signed_in_as(page, live_server, second.patient.user)
    page.goto(reverse("trials_patient:home"))
    expect(page.get_by_text(re.compile("six-week peer support program"))).to_be_visible()
    page.goto(reverse("patient:messages"))
    expect(
        page.get_by_text(re.compile("your group was drawn: Peer support program"))
    ).to_be_visible()
