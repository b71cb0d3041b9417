"""A patient in Toronto books a call with a counsellor in Hamburg; both see their own time."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from icalendar import Calendar
from playwright.sync_api import expect

from rarebridge.counselling.models import Call
from rarebridge.counselling.services import (
    assignment_start,
    availability_rule_add,
    certification_grant_unchecked,
    counsellor_profile_upsert,
)
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.browser.test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


def test_it_books_across_time_zones_and_shows_each_side_its_own_time(
    browser, live_server, cast, assert_accessible
):
    version, _ = program_version_load(path=SOURCE)
    profile = counsellor_profile_upsert(
        user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["en", "de"]
    )
    for weekday in range(7):
        availability_rule_add(
            counsellor=profile, weekday=weekday, start=time(17), end=time(18), by=cast.counsellor
        )  # Berlin
    certification_grant_unchecked(counsellor=profile, by=None)
    toronto = cast.other_patient  # lives in America/Toronto
    assignment_start(patient=toronto, counsellor=cast.counsellor, by=None)
    enrolment_start(patient=toronto, version=version, start_date=date.today())

    patient = browser.new_context(base_url=live_server.url, timezone_id="America/Toronto")
    page = patient.new_page()
    sign_in(page, toronto.user.email, staff=False)
    page.goto(reverse("patient:calls"))
    assert_accessible(page, "calls")
    first = page.locator("input[name=slot]").first
    instant = datetime.fromisoformat(first.get_attribute("value"))
    toronto_label = (
        page.locator(f"label[for='{first.get_attribute('id')}']").inner_text().split()[0]
    )
    assert toronto_label == instant.astimezone(zoneinfo.ZoneInfo("America/Toronto")).strftime(
        "%H:%M"
    )
    first.check()
    page.get_by_role("button", name="Book this call").click()
    page.wait_for_url(re.compile(r"/me/calls/"))
    expect(page.get_by_text("Your call is booked")).to_be_visible()
    call = Call.objects.get()
    assert call.starts_at == instant
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Add to my calendar")).click()
    event = next(iter(Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")))
    assert event.decoded("dtstart").astimezone(UTC) == instant.astimezone(UTC)
    patient.close()

    counsellor = browser.new_context(base_url=live_server.url, timezone_id="Europe/Berlin")
    page = counsellor.new_page()
    sign_in(page, cast.counsellor.email, staff=True)
    page.goto(reverse("counsellor:home"))
    berlin = instant.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).strftime("%H:%M")
    assert berlin.startswith("17")  # what the counsellor offered, in their own zone
    if instant.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).date() == date.today():
        expect(page.get_by_text(berlin).first).to_be_visible()
    page.goto(reverse("counsellor:call_note", args=[call.pk]))
    expect(
        page.get_by_text(
            instant.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).strftime("%H:%M")
        ).first
    ).to_be_visible()
    assert_accessible(page, "call note")
    page.goto(reverse("counsellor:availability"))
    assert_accessible(page, "availability")
    counsellor.close()
