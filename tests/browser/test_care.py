"""The care pages in a real browser: axe finds nothing, and they fit a phone screen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rarebridge.accounts.mfa import totp_code
from rarebridge.care.models import CareNote, TeamRole
from rarebridge.care.services import clinic_plan, goal_add, note_add, team_member_add
from tests.care_fixtures import small_clinic
from tests.conftest import TOTP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


@pytest.fixture
def open_as(browser, live_server):
    contexts = []

    def sign_in(user, *, phone: bool = False, staff: bool = True):
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
        if staff:
            page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
            page.locator("#id_code").fill(totp_code(TOTP_SECRET))
            page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(re.compile(r"/(staff|me)/"))
        return page

    yield sign_in
    for context in contexts:
        context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_it_passes_axe_on_the_planning_and_itinerary_pages(cast, open_as, assert_accessible):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    nurse = team_member_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        role=TeamRole.SPECIALIST_NURSE,
        user=cast.care_coordinator,
    )
    goal_add(patient=cast.patient, by=cast.care_coordinator, title="Plan the visit", owner=nurse)
    note_add(patient=cast.patient, by=cast.care_coordinator, kind=CareNote.Kind.TEAM, text="Hi")
    invitation = small.invitations[0]

    # One sign-in: a one-time code cannot be used twice, so the phone pass narrows the window.
    page = open_as(cast.care_coordinator)
    for phone in (False, True):
        if phone:
            page.set_viewport_size({"width": 360, "height": 740})
        for path in (
            reverse("care:home"),
            reverse("care:clinic", args=[small.clinic.pk]),
            reverse("care:clinic_setup", args=[small.clinic.pk]),
            reverse("care:itinerary", args=[invitation.pk]),
            reverse("care:itinerary", args=[invitation.pk]) + "?print=large",
            reverse("care:patient", args=[cast.patient.pk]),
            reverse("care:professional_sheet", args=[small.clinic.pk, small.nurse.pk]),
            reverse("care:travel", args=[invitation.pk]),
        ):
            response = page.goto(path)
            assert response.status < 400, path
            assert_accessible(page, path)
            if phone:
                assert fits_the_screen(page), path

    page = open_as(cast.patient.user, phone=True, staff=False)
    page.goto(reverse("patient_care:itinerary", args=[invitation.pk]))
    expect(page.get_by_role("heading", name="Itinerary for Anna Schmidt")).to_be_visible()
    assert_accessible(page, "the family's itinerary")
    assert fits_the_screen(page)


def test_it_explains_an_impossible_plan_on_the_planning_page(cast, open_as, assert_accessible):
    small = small_clinic(cast)
    small.tech.shifts.create(day=small.day, starts="12:45", ends="13:00")
    page = open_as(cast.care_coordinator)
    page.goto(reverse("care:clinic", args=[small.clinic.pk]))

    page.get_by_role("button", name="Plan the clinic").click()

    expect(page.get_by_role("heading", name="Why no timetable is possible")).to_be_visible()
    expect(page.get_by_text("Professionals' hours").first).to_be_visible()
    assert_accessible(page, "an impossible plan")


def test_it_changes_and_removes_set_up_by_keyboard_and_passes_axe(cast, open_as, assert_accessible):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    page = open_as(cast.care_coordinator)
    page.goto(reverse("care:clinic_setup", args=[small.clinic.pk]))
    assert_accessible(page, "the set-up page")

    page.get_by_role("link", name="Change Room 2").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Change Room 2")).to_be_visible()
    # Keyboard and screen-reader users land on the form they chose to change.
    expect(page.locator("#room-form-h")).to_be_focused()
    page.locator("#id_room-kind").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Please check what you entered")).to_be_visible()
    assert page.locator("#id_room-name").input_value() == "Room 2"
    assert_accessible(page, "a change with an error")
    page.locator("#id_room-kind").fill("consulting")
    page.locator("#id_room-step_free").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()

    page.locator("summary", has_text="Tom Tech").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Remove Tom Tech").press("Enter")
    expect(page.get_by_role("heading", name="This cannot be removed yet")).to_be_visible()
    assert_accessible(page, "a refused removal")

    bloods = small.invitations[0].appointments.get(label="Fasting bloods")
    page.goto(reverse("care:clinic_setup_edit", args=[small.clinic.pk, "appointment", bloods.pk]))
    expect(page.get_by_role("group", name=re.compile("Its name for families"))).to_be_visible()
    assert page.get_by_label("German").input_value() == "Blutabnahme (nüchtern)"
    assert_accessible(page, "changing an appointment")

    page.goto(reverse("care:clinic", args=[small.clinic.pk]))
    expect(page.get_by_text("The set-up changed since the plan; plan again.")).to_be_visible()
    assert_accessible(page, "a clinic whose set-up changed")


def test_it_shows_re_planning_until_it_is_done_and_then_the_result(
    cast, open_as, assert_accessible
):
    from django.utils import timezone

    from rarebridge.care.models import ClinicReplan
    from rarebridge.care.services import appointment_cancel

    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    hearing = small.invitations[0].appointments.get(label="Hearing test")
    replan = appointment_cancel(appointment=hearing, by=cast.care_coordinator, enqueue=False)
    page = open_as(cast.care_coordinator)

    page.goto(reverse("care:clinic", args=[small.clinic.pk]))

    status = page.get_by_role("status").filter(has_text="Re-planning since")
    expect(status).to_be_visible()
    assert "Hearing test cancelled for Anna Schmidt" in status.inner_text()
    assert_accessible(page, "a clinic being re-planned")
    # The worker finishes (here: the row says so); the page's next poll reloads it.
    ClinicReplan.objects.filter(pk=replan.pk).update(
        status="done", batch=replan.pk, finished_at=timezone.now(), moved=[]
    )
    page.get_by_role("heading", name=re.compile("^Re-planned")).wait_for(timeout=10_000)
    expect(page.get_by_text("Nobody else's appointments had to move.")).to_be_visible()
    assert_accessible(page, "a re-planned clinic")
