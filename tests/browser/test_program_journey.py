"""A new patient's first week: read, do an exercise, close the browser mid-answer, come back."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from rarebridge.programs.models import Exercise, ExerciseAnswer
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.browser.test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


@pytest.fixture
def new_patient(cast):
    version, _ = program_version_load(path=SOURCE)
    enrolment_start(patient=cast.patient, version=version, start_date=timezone.localdate())
    return cast.patient


def _long_text_field(key: str) -> str:
    exercise = Exercise.objects.get(key=key)
    return "f." + next(f["id"] for f in exercise.definition["fields"] if f["type"] == "long_text")


def test_it_takes_a_new_patient_through_week_one_and_loses_nothing(
    browser, live_server, new_patient, assert_accessible
):
    field = _long_text_field("hopes-for-the-program")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "anna@example.org", staff=False)
    assert_accessible(page, "this week")
    page.get_by_role("link", name="Read this week's chapter").click()
    page.wait_for_url(re.compile(r"/me/week/1/"))
    expect(page.locator("article.chapter h1")).to_be_visible()
    assert_accessible(page, "chapter 1")
    page.locator(
        f"a[href='{reverse('patient:exercise', args=['hopes-for-the-program'])}']"
    ).first.click()
    page.wait_for_url(re.compile(r"/me/exercise/hopes-for-the-program/"))
    assert_accessible(page, "exercise")
    box = page.locator(f"textarea[name='{field}']")
    box.fill("To feel less alone with my condition")
    page.locator(".save-status", has_text="Saved").wait_for()
    # Mid-answer: more typing, and the browser closes before the autosave timer fires.
    box.fill("To feel less alone with my condition, and to sleep better")
    page.close(run_before_unload=True)
    context.close()

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "anna@example.org", staff=False)
    page.goto(reverse("patient:exercise", args=["hopes-for-the-program"]))
    assert (
        page.locator(f"textarea[name='{field}']").input_value()
        == "To feel less alone with my condition, and to sleep better"
    )
    context.close()
    answer = ExerciseAnswer.objects.get()
    assert answer.data[field[2:]] == "To feel less alone with my condition, and to sleep better"


def test_it_keeps_answers_through_a_lost_connection(browser, live_server, new_patient):
    field = _long_text_field("hopes-for-the-program")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "anna@example.org", staff=False)
    page.goto(reverse("patient:exercise", args=["hopes-for-the-program"]))
    context.set_offline(True)
    page.locator(f"textarea[name='{field}']").fill("Written on the train")
    page.locator(".save-status", has_text="No connection").wait_for()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator(".save-status", has_text="Saved").wait_for()
    context.close()
    assert ExerciseAnswer.objects.get().data[field[2:]] == "Written on the train"


def test_it_tells_two_tabs_apart_instead_of_overwriting(browser, live_server, new_patient):
    field = _long_text_field("hopes-for-the-program")
    context = browser.new_context(base_url=live_server.url)
    first = context.new_page()
    sign_in(first, "anna@example.org", staff=False)
    url = reverse("patient:exercise", args=["hopes-for-the-program"])
    first.goto(url)
    second = context.new_page()
    second.goto(url)
    first.locator(f"textarea[name='{field}']").fill("From the first tab")
    first.locator(".save-status", has_text="Saved").wait_for()
    second.locator(f"textarea[name='{field}']").fill("From the second tab")
    second.locator(".conflict-actions").wait_for(state="visible")
    assert ExerciseAnswer.objects.get().data[field[2:]] == "From the first tab"
    second.get_by_role("button", name="Keep what I typed here").click()
    second.locator(".save-status", has_text="Saved").wait_for()
    assert ExerciseAnswer.objects.get().data[field[2:]] == "From the second tab"
    context.close()


def test_it_passes_axe_on_every_exercise_week_and_the_values_page(
    browser, live_server, cast, assert_accessible
):
    version, _ = program_version_load(path=SOURCE)
    enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=50)
    )
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "anna@example.org", staff=False)
    paths = [reverse("patient:week", args=[n]) for n in range(1, 7)] + [
        reverse("patient:values_goals")
    ]
    paths += [
        reverse("patient:exercise", args=[key])
        for key in Exercise.objects.values_list("key", flat=True)
    ]
    for path in paths:
        page.goto(path)
        assert_accessible(page, path)
    context.close()
