"""A participant's answers in the browser: a missing item is listed at review and answered;
a follow-up timepoint is offered only inside its window; a stale tab sent after the window
closed keeps every answer and says so."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.instruments.models import Response
from rarebridge.trials.demo import CALM
from rarebridge.trials.services import (
    participant_randomise,
    response_for,
    response_save,
    response_submit,
)
from tests.trials_helpers import CALM_GAD7, consent, load_demo_study, screen_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user) -> None:
    """A signed-in session for ``user`` in the browser (sign-in itself is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def _answer_by_service(participant, timepoint, instrument, answers):
    assessment = participant.assessments.get(timepoint=timepoint)
    response = response_for(assessment=assessment, instrument=instrument)
    user = participant.patient.user
    response_save(response=response, answers=answers, base_revision=0, by=user)
    response_submit(response=response, by=user)


def test_it_asks_for_a_missing_item_and_keeps_answers_outside_the_window(page, live_server, cast):
    study = load_demo_study(cast)
    participant = screen_in(study, cast.site, email="pia@example.org")
    consent(participant, cast.coordinator)
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server, participant.patient.user)

    # T0: PHQ-9 with item 4 left out.
    page.goto(reverse("trials_patient:answer", args=["T0", "phq9"]))
    for n in range(1, 11):
        if n != 4:
            page.locator(f"input[name='phq9-{n}'][value='0']").check()
    page.locator(".save-status", has_text="Saved").wait_for()
    page.get_by_role("button", name="Review my answers").click()
    page.wait_for_url(re.compile(r"/T0/phq9/review/$"))
    missing = page.locator("#missing-items")
    expect(missing).to_be_visible()
    expect(missing.locator("li")).to_have_count(1)
    expect(missing.locator("li")).to_contain_text("Feeling tired")
    page.get_by_role("button", name="Send my answers").click()
    # Asked once more; they go back and answer it.
    expect(page.get_by_role("button", name="Send without the missing answers")).to_be_visible()
    page.get_by_role("link", name="Answer the missing questions").click()
    page.wait_for_url(re.compile(r"/T0/phq9/"))
    page.locator("input[name='phq9-4'][value='1']").check()
    page.locator(".save-status", has_text="Saved").wait_for()
    page.get_by_role("button", name="Review my answers").click()
    # (the browser keeps the #wrap-phq9-4 fragment across the redirect)
    page.wait_for_url(re.compile(r"/T0/phq9/review/"))
    expect(page.locator("#missing-items")).to_have_count(0)
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(re.compile(r"/T0/gad7/"))
    phq9 = Response.objects.get(instrument="phq9")
    assert phq9.submitted_at is not None and "items_missing" not in phq9.flags
    assert phq9.answers["phq9-4"] == 1

    _answer_by_service(participant, "T0", "gad7", CALM_GAD7)
    _answer_by_service(participant, "T0", "sf12v1", CALM["sf12v1"])
    participant_randomise(participant=participant, by=cast.coordinator)
    t1 = participant.assessments.get(timepoint="T1")
    t1_link = page.locator(f"a[href='{reverse('trials_patient:answer', args=['T1', 'phq9'])}']")

    # Not offered before its window …
    page.goto(reverse("trials_patient:home"))
    expect(page.get_by_text(re.compile("opens on")).first).to_be_visible()
    expect(t1_link).to_have_count(0)

    # … offered inside it (signed in again: weeks have passed); the tab stays open past the
    # end of the window.
    with time_machine.travel(t1.closes_at - timedelta(hours=2), tick=True):
        _log_in(page, live_server, participant.patient.user)
        page.goto(reverse("trials_patient:home"))
        t1_link.click()
        page.wait_for_url(re.compile(r"/T1/phq9/$"))
        for n in range(1, 11):
            page.locator(f"input[name='phq9-{n}'][value='{1 if n < 9 else 0}']").check()
        page.locator(".save-status", has_text="Saved").wait_for()
    with time_machine.travel(t1.closes_at + timedelta(minutes=10), tick=True):
        page.locator("input[name='phq9-2'][value='2']").check()
        page.get_by_role("button", name="Review my answers").click()
        notice = page.locator("#window-closed")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("have not been lost")
        expect(page.locator("input[name='phq9-2'][value='2']")).to_be_checked()
    kept = Response.objects.get(assessment=t1, instrument="phq9")
    assert kept.submitted_at is None
    assert kept.answers["phq9-2"] == 2 and len(kept.answers) == 10
