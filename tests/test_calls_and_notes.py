"""Calls and notes: what happened, who may read it, when a call fits, and calendars that
follow moves and cancellations."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from rarebridge.core.models import AuditEntry
from rarebridge.counselling.models import Call, CallNote
from rarebridge.counselling.selectors import free_slots_for, supervisor_dashboard
from rarebridge.counselling.services import (
    SlotTaken,
    availability_exception_add,
    availability_rule_add,
    calendar_feed_create,
    call_book,
    call_cancel,
    call_reschedule,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    note_save,
)
from rarebridge.notify.models import Message
from rarebridge.programs.content import render_markdown
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.factories import PatientFactory

SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"
# Monday 2 March 2026, 09:00 UTC (10:00 in Berlin).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast, clock):
    version, _ = program_version_load(path=SOURCE)
    profile = counsellor_profile_upsert(
        user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["de", "en"]
    )
    availability_rule_add(
        counsellor=profile, weekday=0, start=time(17), end=time(19), by=cast.counsellor
    )  # Mondays 17:00-19:00 Berlin = 16:00-18:00 UTC in March
    certification_grant_unchecked(counsellor=profile, by=None)
    enrolment = enrolment_start(patient=cast.patient, version=version, start_date=date(2026, 3, 2))
    return type("World", (), {"profile": profile, "enrolment": enrolment, "version": version})


def _book(world, cast, *, at=datetime(2026, 3, 2, 16, 0, tzinfo=UTC), week=1, enrolment=None):
    return call_book(
        enrolment=enrolment or world.enrolment,
        counsellor=world.profile,
        starts_at=at,
        week=week,
        by=cast.patient.user,
    )


# What happened -------------------------------------------------------------------------------


def test_it_records_a_call_as_held_only_from_its_start_time_on(world, cast, clock):
    call = _book(world, cast)  # 16:00 UTC; it is 09:00
    with pytest.raises(ValidationError) as refused:
        note_save(call=call, by=cast.counsellor, sign=True, held=True, duration_minutes=30)
    assert refused.value.code == "not_started"
    call.refresh_from_db()
    assert call.status == "booked" and not CallNote.objects.exists()
    clock.move_to(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    note_save(call=call, by=cast.counsellor, sign=True, held=True, duration_minutes=30)
    call.refresh_from_db()
    assert call.status == "held"


def test_it_asks_why_a_call_did_not_take_place_from_a_list(world, cast, clock):
    call = _book(world, cast)
    clock.move_to(datetime(2026, 3, 2, 16, 40, tzinfo=UTC))
    with pytest.raises(ValidationError):
        note_save(call=call, by=cast.counsellor, held=False)
    with pytest.raises(ValidationError):
        note_save(call=call, by=cast.counsellor, held=False, missed_code="other")
    with pytest.raises(ValidationError):
        note_save(call=call, by=cast.counsellor, held=False, missed_code="dog-ate-it")
    note = note_save(call=call, by=cast.counsellor, held=False, missed_code="no_answer")
    assert note.get_missed_code_display() == "The patient did not answer"
    call.refresh_from_db()
    assert call.status == "missed"


def test_it_offers_the_reasons_on_the_note_page(world, cast, as_user, clock):
    call = _book(world, cast)
    clock.move_to(datetime(2026, 3, 2, 16, 40, tzinfo=UTC))
    client = as_user(cast.counsellor)
    url = reverse("counsellor:call_note", args=[call.pk])
    assert "The patient cancelled late" in client.get(url).content.decode()
    response = client.post(
        url, {"held": "no", "missed_code": "technical", "risk": "none", "action": "sign"}
    )
    assert response.status_code == 302
    assert CallNote.objects.get().missed_code == "technical"


def test_it_refuses_a_held_note_for_a_future_call_on_the_page(world, cast, as_user):
    call = _book(world, cast)
    response = as_user(cast.counsellor).post(
        reverse("counsellor:call_note", args=[call.pk]),
        {"held": "yes", "duration_minutes": "30", "risk": "none", "action": "sign"},
    )
    assert response.status_code == 200 and "has not started yet" in response.content.decode()
    assert not CallNote.objects.exists()


def test_it_counts_only_calls_that_happened_on_the_supervision_dashboard(world, cast, clock):
    past = _book(world, cast)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    note_save(
        call=past, by=cast.counsellor, sign=True, held=True, topics=["w1-welcome"], risk="none"
    )
    future = _book(world, cast, at=datetime(2026, 3, 9, 16, 0, tzinfo=UTC), week=2)
    # A note signed "held" ahead of time (as the old code allowed) is not counted.
    CallNote.objects.create(
        organisation_id=future.organisation_id,
        call=future,
        held=True,
        duration_minutes=30,
        topics=["w2-a", "w2-b"],
        written_by=cast.counsellor,
    )
    Call.objects.filter(pk=future.pk).update(status="held")
    row = supervisor_dashboard(user=cast.supervisor)["rows"][0]
    assert (row["counsellor"].held, row["counsellor"].missed) == (1, 0)
    assert row["fidelity"] is not None and row["fidelity"] < 100  # only the past note counts


# Who may read what ---------------------------------------------------------------------------


def test_it_lists_a_counsellors_upcoming_and_past_calls_with_their_notes(
    world, cast, as_user, clock
):
    past = _book(world, cast)
    upcoming = _book(world, cast, at=datetime(2026, 3, 9, 16, 0, tzinfo=UTC), week=2)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    note_save(call=past, by=cast.counsellor, sign=True, held=True, risk="none")
    html = as_user(cast.counsellor).get(reverse("counsellor:calls")).content.decode()
    assert reverse("counsellor:call_note", args=[upcoming.pk]) in html
    assert reverse("counsellor:call_note", args=[past.pk]) in html and "Signed note" in html
    assert (
        reverse("counsellor:calls")
        in as_user(cast.counsellor).get(reverse("counsellor:home")).content.decode()
    )
    assert as_user(cast.patient.user).get(reverse("counsellor:calls")).status_code == 404


def test_it_leads_a_supervisor_to_each_note_and_audits_the_read(world, cast, as_user, clock):
    call = _book(world, cast)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    note_save(call=call, by=cast.counsellor, sign=True, held=True, risk="none", text="Went well")
    client = as_user(cast.supervisor)
    note_url = reverse("safety:call_note", args=[call.pk])
    calls_url = reverse("safety:counsellor_calls", args=[world.profile.pk])
    assert calls_url in client.get(reverse("staff:supervision")).content.decode()
    assert note_url in client.get(calls_url).content.decode()
    assert (
        note_url
        in client.get(reverse("staff:patient_detail", args=[cast.patient.pk])).content.decode()
    )
    AuditEntry.objects.filter(action="counselling.note.viewed").delete()
    page = client.get(note_url)
    assert page.status_code == 200 and "Went well" in page.content.decode()
    assert "<form" not in page.content.decode().split('id="note-title"')[1].split("</section>")[0]
    assert AuditEntry.objects.filter(
        action="counselling.note.viewed", actor=cast.supervisor
    ).exists()
    assert client.post(note_url).status_code == 405  # read, never edit
    assert as_user(cast.counsellor).get(note_url).status_code == 404
    assert as_user(cast.outsider).get(note_url).status_code == 404
    assert as_user(cast.outsider).get(calls_url).status_code == 404


# Availability and slots ----------------------------------------------------------------------


def test_it_shows_the_weekday_of_each_weekly_time_in_the_persons_language(world, cast, as_user):
    client = as_user(cast.counsellor)
    assert "Monday 17:00" in client.get(reverse("counsellor:availability")).content.decode()
    cast.counsellor.language = "de"
    cast.counsellor.save()
    with translation.override("de"):
        html = client.get(reverse("counsellor:availability"), HTTP_ACCEPT_LANGUAGE="de")
    assert "Montag 17:00" in html.content.decode()


def test_it_renders_tables_and_checklists_in_guidelines():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [ ] ask\n- [x] listen\n\n<b>x</b>")
    assert "<table>" in html and "<td>1</td>" in html
    assert '<li class="task"><span class="task-box" aria-hidden="true">☐</span> ask' in html
    assert "☑</span> listen" in html and "[ ]" not in html and "<input" not in html
    assert "&lt;b&gt;" in html  # raw HTML stays off


def test_it_offers_a_slot_only_when_the_whole_call_fits_around_an_hour_off(world, cast):
    availability_exception_add(
        counsellor=world.profile,
        day=date(2026, 3, 2),
        start=time(17, 15),
        end=time(17, 45),
        by=cast.counsellor,
    )
    slots = free_slots_for(
        counsellor=world.profile,
        start=datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
        end=datetime(2026, 3, 2, 19, 0, tzinfo=UTC),
    )
    assert datetime(2026, 3, 2, 16, 0, tzinfo=UTC) not in slots  # 17:00-17:30 Berlin
    assert datetime(2026, 3, 2, 16, 30, tzinfo=UTC) not in slots  # 17:30-18:00 Berlin
    assert datetime(2026, 3, 2, 17, 0, tzinfo=UTC) in slots  # 18:00 Berlin
    with pytest.raises(SlotTaken):
        _book(world, cast)


def test_it_refuses_a_call_that_overlaps_another_of_the_same_counsellor(world, cast):
    availability_rule_add(
        counsellor=world.profile,
        weekday=0,
        start=time(17, 15),
        end=time(18, 15),
        by=cast.counsellor,
    )
    other = enrolment_start(
        patient=PatientFactory(site=cast.site), version=world.version, start_date=date(2026, 3, 2)
    )
    _book(world, cast, at=datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    with pytest.raises(SlotTaken):
        _book(world, cast, at=datetime(2026, 3, 2, 16, 15, tzinfo=UTC), enrolment=other)
    assert Call.objects.count() == 1


def test_it_books_and_moves_only_within_the_booking_horizon(world, cast, as_user):
    far = NOW + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1)
    with pytest.raises(ValidationError) as refused:
        _book(world, cast, at=datetime(2026, 4, 6, 15, 0, tzinfo=UTC))  # a Monday, 35 days on
    assert refused.value.code == "beyond_horizon" and far < datetime(2026, 4, 6, tzinfo=UTC)
    call = _book(world, cast, at=datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    with pytest.raises(ValidationError):
        call_reschedule(
            call=call,
            new_start=datetime(2026, 9, 14, 15, 0, tzinfo=UTC),
            by=cast.patient.user,
            reason="holiday",
        )
    call.refresh_from_db()
    assert call.status == "booked"
    client = as_user(cast.patient.user)
    for slot in ("9999-12-27T16:00:00+00:00", "9999-12-31T23:59:00+00:00"):
        response = client.post(
            reverse("patient:call_change", args=[call.pk]),
            {"slot": slot, "reason": "later", "action": "move"},
        )
        assert response.status_code == 200
        assert "at most" in response.content.decode()
        response = client.post(reverse("patient:call_book"), {"slot": slot, "week": "2"})
        assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == "booked" and Call.objects.count() == 1


# Calendars -----------------------------------------------------------------------------------


def _attached(person, template_key):
    message = Message.objects.get(
        recipient=person, template_key=template_key, channel="email", attachment__contains="UID"
    )
    calendar = Calendar.from_ical(message.attachment)
    return calendar, next(iter(calendar.walk("VEVENT")))


def test_it_keeps_one_uid_and_a_rising_sequence_through_book_move_and_cancel(world, cast, as_user):
    first = _book(world, cast, at=datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    booked_cal, booked = _attached(cast.patient.user, "call_booked")
    moved = call_reschedule(
        call=first,
        new_start=datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
        by=cast.patient.user,
        reason="work",
    )
    message = Message.objects.filter(
        recipient=cast.patient.user, template_key="call_booked", channel="email"
    ).latest("id")
    moved_cal = Calendar.from_ical(message.attachment)
    moved_event = next(iter(moved_cal.walk("VEVENT")))
    download = as_user(cast.patient.user).get(reverse("patient:call_ics", args=[moved.pk]))
    download_event = next(iter(Calendar.from_ical(download.content).walk("VEVENT")))
    call_cancel(call=moved, by=cast.patient.user, reason="ill")
    cancel_cal, cancelled = _attached(cast.patient.user, "call_cancelled")

    assert len({str(e["uid"]) for e in (booked, moved_event, download_event, cancelled)}) == 1
    sequences = [int(e["sequence"]) for e in (booked, moved_event, cancelled)]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert [str(c["method"]) for c in (booked_cal, moved_cal, cancel_cal)] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    assert moved_event.decoded("dtstart") == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    assert str(cancelled["status"]) == "CANCELLED"
    assert int(download_event["sequence"]) == int(moved_event["sequence"])
    # The counsellor's invitation is the same event, and SMS never carries a file.
    assert str(_attached(cast.counsellor, "call_cancelled")[1]["uid"]) == str(booked["uid"])
    assert not Message.objects.exclude(channel="email").exclude(attachment="").exists()


def test_it_sends_the_invitation_as_an_email_attachment(world, cast, mailoutbox):
    from rarebridge.notify.delivery import message_deliver

    _book(world, cast)
    message = Message.objects.get(
        recipient=cast.patient.user, template_key="call_booked", channel="email"
    )
    assert message_deliver(message_id=message.pk) == "sent"
    sent = mailoutbox[-1]
    part = sent.attachments[0]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert b"BEGIN:VCALENDAR" in part.get_payload(decode=True)


def test_it_writes_the_feed_in_its_owners_language_and_keeps_past_calls(world, cast, clock):
    call = _book(world, cast)
    cast.counsellor.language = "de"
    cast.counsellor.save()
    token = calendar_feed_create(user=cast.counsellor)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    note_save(call=call, by=cast.counsellor, sign=True, held=True, risk="none")
    clock.move_to(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/calendar/{token}.ics")
    events = list(Calendar.from_ical(response.content).walk("VEVENT"))
    assert len(events) == 1
    with translation.override("de"):
        from django.utils.translation import gettext

        expected = gettext("RareBridge call with %(code)s (week %(week)s)") % {
            "code": cast.patient.code,
            "week": 1,
        }
        held = str(Call.Status.HELD.label)
    assert expected != f"RareBridge call with {cast.patient.code} (week 1)"
    assert str(events[0]["summary"]) == f"{expected} — {held}"


def test_it_closes_the_feed_of_a_deactivated_account(world, cast):
    _book(world, cast)
    token = calendar_feed_create(user=cast.counsellor)
    assert Client().get(f"/calendar/{token}.ics").status_code == 200
    cast.counsellor.is_active = False
    cast.counsellor.save()
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
