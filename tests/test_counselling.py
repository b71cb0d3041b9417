from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from rarebridge.core.models import AuditEntry
from rarebridge.counselling.models import Call, CallNote, Certification
from rarebridge.counselling.selectors import (
    free_slots_for,
    late_notes_for,
    patients_needing_reassignment,
)
from rarebridge.counselling.services import (
    SlotTaken,
    availability_exception_add,
    availability_rule_add,
    calendar_feed_create,
    call_book,
    call_cancel,
    call_reminders_due,
    call_reschedule,
    certification_grant,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    note_amend,
    note_save,
    reminder_preference_set,
    roleplay_sign_off,
    training_attendance_record,
    training_curriculum_load,
)
from rarebridge.notify.models import Message
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.factories import PatientFactory

SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"
# Monday 2 March 2026, 09:00 UTC: before the EU clock change on 29 March.
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
    )  # Mondays, Berlin
    certification_grant_unchecked(counsellor=profile, by=None)
    enrolment = enrolment_start(patient=cast.patient, version=version, start_date=date(2026, 3, 2))
    return type("World", (), {"profile": profile, "enrolment": enrolment, "version": version})


def _book(world, cast, *, day=2, hour=16, minute=0, week=1):
    """The cast's patient books the counsellor on March `day`, 2026 at hour:minute UTC."""
    return call_book(
        enrolment=world.enrolment,
        counsellor=world.profile,
        starts_at=datetime(2026, 3, day, hour, minute, tzinfo=UTC),
        week=week,
        by=cast.patient.user,
    )


def test_it_lists_free_slots_in_the_counsellors_zone(world):
    slots = free_slots_for(counsellor=world.profile, start=NOW, end=NOW + timedelta(days=8))
    assert slots[:4] == [
        datetime(2026, 3, 2, h, m, tzinfo=UTC) for h, m in ((16, 0), (16, 30), (17, 0), (17, 30))
    ]


def test_it_books_a_call_and_tells_both_people_in_their_languages(
    world, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    assert call.status == "booked"
    assert Message.objects.filter(template_key="call_booked", recipient=cast.patient.user).exists()
    assert Message.objects.filter(template_key="call_booked", recipient=cast.counsellor).exists()
    assert AuditEntry.objects.filter(
        action="counselling.call.booked", actor=cast.patient.user
    ).exists()


def test_it_refuses_a_second_booking_of_the_same_slot_and_offers_the_next(world, cast):
    slot = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    call_book(
        enrolment=world.enrolment,
        counsellor=world.profile,
        starts_at=slot,
        week=1,
        by=cast.patient.user,
    )
    other = enrolment_start(
        patient=PatientFactory(site=cast.site), version=world.version, start_date=date(2026, 3, 2)
    )
    with pytest.raises(SlotTaken) as taken:
        call_book(
            enrolment=other, counsellor=world.profile, starts_at=slot, week=1, by=cast.coordinator
        )
    assert taken.value.alternatives[0] == datetime(2026, 3, 2, 16, 30, tzinfo=UTC)


def test_it_refuses_slots_outside_availability_and_on_days_off(world, cast):
    with pytest.raises(SlotTaken):
        _book(world, cast, day=3, hour=16, minute=0, week=1)
    availability_exception_add(
        counsellor=world.profile, day=date(2026, 3, 9), by=cast.counsellor, reason="holiday"
    )
    assert not [
        s
        for s in free_slots_for(counsellor=world.profile, start=NOW, end=NOW + timedelta(days=14))
        if s.date() == date(2026, 3, 9)
    ]


def test_it_cannot_book_a_counsellor_whose_certification_lapsed(world, cast):
    Certification.objects.update(valid_until=NOW - timedelta(days=1))
    with pytest.raises(ValidationError):
        _book(world, cast, day=2, hour=16, minute=0, week=1)
    assert list(patients_needing_reassignment(user=cast.coordinator)) == [cast.patient]


def test_it_moves_and_cancels_calls_up_to_the_cut_off(world, cast, clock):
    call = _book(world, cast, day=9, hour=16, minute=0, week=2)
    moved = call_reschedule(
        call=call,
        new_start=datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
        by=cast.patient.user,
        reason="work",
    )
    call.refresh_from_db()
    assert (call.status, call.moved_to, moved.counsellor) == (
        "moved",
        moved,
        world.profile,
    )  # same counsellor keeps the patient
    with pytest.raises(ValidationError):
        call_cancel(call=moved, by=cast.patient.user, reason="")
    clock.move_to(
        datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    )  # 9 hours before: past the 12-hour cut-off
    with pytest.raises(ValidationError):
        call_cancel(call=moved, by=cast.patient.user, reason="ill")


def test_it_sends_each_reminder_once_in_the_recipients_zone_and_never_for_a_cancelled_call(
    world, cast, clock, mailoutbox, django_capture_on_commit_callbacks
):
    reminder_preference_set(
        user=cast.patient.user,
        by=cast.patient.user,
        by_email=True,
        by_sms=False,
        day_before=True,
        hour_before=True,
    )
    cast.other_patient.user.time_zone = "America/Toronto"
    keep = _book(world, cast, day=9, hour=16, minute=0, week=2)
    other = enrolment_start(
        patient=PatientFactory(site=cast.site), version=world.version, start_date=date(2026, 3, 2)
    )
    dropped = call_book(
        enrolment=other,
        counsellor=world.profile,
        starts_at=datetime(2026, 3, 9, 16, 30, tzinfo=UTC),
        week=1,
        by=cast.coordinator,
    )
    call_cancel(call=dropped, by=cast.coordinator, reason="withdrew")
    clock.move_to(datetime(2026, 3, 8, 16, 5, tzinfo=UTC))  # 24 hours before
    with django_capture_on_commit_callbacks(execute=True):
        call_reminders_due()
        call_reminders_due()  # a second run (or a second worker) sends nothing more
    reminders = Message.objects.filter(template_key="call_reminder")
    assert {m.recipient for m in reminders} == {cast.patient.user, cast.counsellor}
    assert not reminders.filter(body__contains="16:30").exists()
    patient_mail = reminders.get(recipient=cast.patient.user, channel="email")
    assert "17:00" in patient_mail.body  # 16:00 UTC is 17:00 in Berlin
    assert keep.pk


def test_it_sends_reminders_exactly_once_when_the_worker_dies_mid_delivery(
    world, cast, clock, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from rarebridge.notify.services import messages_requeue_due

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "notify"],
        }
    }  # the worker is down
    _book(world, cast, day=9, hour=16, minute=0, week=2)
    clock.move_to(datetime(2026, 3, 9, 15, 1, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        call_reminders_due()
    # One message was claimed by a worker that died before it could finish.
    Message.objects.filter(template_key="call_reminder").update(status="sending")
    assert len(mailoutbox) == 0
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "notify"],
        }
    }
    clock.move_to(
        datetime(2026, 3, 9, 15, 15, tzinfo=UTC)
    )  # restart: the sweep finds stuck and queued messages
    with django_capture_on_commit_callbacks(execute=True):
        messages_requeue_due()
        messages_requeue_due()
        call_reminders_due()
    reminder_mails = [m for m in mailoutbox if "Reminder" in m.subject]
    assert sorted(m.to[0] for m in reminder_mails) == sorted(
        [cast.patient.user.email, cast.counsellor.email]
    )


def test_it_sends_future_reminders_at_the_new_local_time_after_a_time_zone_change(
    world, cast, clock, django_capture_on_commit_callbacks
):
    _book(world, cast, day=9, hour=16, minute=0, week=2)
    cast.patient.user.time_zone = "America/Toronto"
    cast.patient.user.save()
    clock.move_to(datetime(2026, 3, 8, 17, 0, tzinfo=UTC))
    call_reminders_due()
    body = Message.objects.get(
        template_key="call_reminder", recipient=cast.patient.user, channel="email"
    ).body
    assert "12:00" in body  # 16:00 UTC is noon in Toronto (EDT from 8 March 2026)


def test_it_writes_an_ics_file_with_the_right_instant(world, cast, as_user):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    response = as_user(cast.patient.user).get(reverse("patient:call_ics", args=[call.pk]))
    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    assert event.decoded("dtstart") == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert (
        as_user(cast.other_patient.user)
        .get(reverse("patient:call_ics", args=[call.pk]))
        .status_code
        == 404
    )


def test_it_serves_a_private_calendar_feed_until_it_is_revoked(world, cast):
    _book(world, cast, day=2, hour=16, minute=0, week=1)
    token = calendar_feed_create(user=cast.counsellor)
    feed = Client().get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and cast.patient.code.encode() in feed.content
    new_token = calendar_feed_create(user=cast.counsellor)  # a new link revokes the old one
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
    assert Client().get(f"/calendar/{new_token}.ics").status_code == 200


def test_it_locks_a_signed_note_and_keeps_amendments(world, cast, clock):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    note = note_save(
        call=call,
        by=cast.counsellor,
        sign=True,
        held=True,
        duration_minutes=28,
        topics=["w1-welcome"],
        risk="none",
    )
    call.refresh_from_db()
    assert call.status == "held"
    with pytest.raises(ValidationError):
        note_save(call=call, by=cast.counsellor, held=False, missed_reason="x")
    note_amend(note=note, by=cast.counsellor, text="Patient called back to add something.")
    assert note.amendments.get().author == cast.counsellor
    assert AuditEntry.objects.filter(action="counselling.note.amended").exists()


def test_it_needs_a_reason_for_a_missed_call(world, cast):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    with pytest.raises(ValidationError):
        note_save(call=call, by=cast.counsellor, held=False, missed_reason="")


def test_it_flags_a_note_not_written_within_a_day(world, cast, clock):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    clock.move_to(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    assert list(late_notes_for(counsellors=[world.profile])) == [call]
    note_save(call=call, by=cast.counsellor, sign=True, held=True, risk="none")
    assert not late_notes_for(counsellors=[world.profile]).exists()


def test_it_certifies_only_after_training_and_role_play(world, cast):
    training_curriculum_load(
        path=Path(settings.BASE_DIR) / "content" / "training" / "peer-counsellor-core.json"
    )
    Certification.objects.all().delete()
    with pytest.raises(ValidationError, match="role-play"):
        certification_grant(counsellor=world.profile, by=cast.supervisor)
    from rarebridge.counselling.selectors import training_modules

    for module in training_modules().filter(is_refresher=False):
        training_attendance_record(
            counsellor=world.profile,
            module=module,
            attended_on=date(2026, 2, 1),
            by=cast.supervisor,
        )
    roleplay_sign_off(
        counsellor=world.profile,
        results={"opens-call": True, "asks-about-risk": True},
        by=cast.supervisor,
    )
    cert = certification_grant(counsellor=world.profile, by=cast.supervisor)
    assert cert.valid_until == NOW + timedelta(days=settings.CERTIFICATION_VALID_DAYS)


def test_it_shows_the_patient_free_slots_in_their_own_zone_and_books(world, cast, as_user):
    from rarebridge.counselling.services import assignment_start

    assignment_start(
        patient=cast.other_patient, counsellor=cast.counsellor, by=None
    )  # Toronto patient
    enrolment_start(patient=cast.other_patient, version=world.version, start_date=date(2026, 3, 2))
    client = as_user(cast.other_patient.user)
    html = client.get(reverse("patient:calls")).content.decode()
    assert (
        'value="2026-03-09T16:00:00+00:00"' in html and "11:00" in html
    )  # 17:00 Berlin is 11:00 Toronto
    response = client.post(
        reverse("patient:call_book"), {"slot": "2026-03-09T16:00:00+00:00", "week": "1"}
    )
    assert response.status_code == 302 and Call.objects.get().patient == cast.other_patient


def test_it_shows_the_counsellor_home_with_a_constant_number_of_queries(world, cast, as_user):
    client = as_user(cast.counsellor)
    client.get(reverse("counsellor:home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("counsellor:home"))
    from rarebridge.counselling.services import assignment_start

    for _ in range(8):
        patient = PatientFactory(site=cast.site)
        assignment_start(patient=patient, counsellor=cast.counsellor, by=None)
        enrolment_start(patient=patient, version=world.version, start_date=date(2026, 2, 23))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("counsellor:home"))
    assert len(many) == len(few)


def test_it_shows_the_supervisor_dashboard_with_a_constant_number_of_queries(world, cast, as_user):
    client = as_user(cast.supervisor)
    client.get(reverse("staff:supervision"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:supervision"))
    from rarebridge.core.permissions import Role
    from tests.conftest import staff

    for _ in range(5):
        user = staff(Role.COUNSELLOR, cast.org, cast.site)
        counsellor_profile_upsert(
            user=user, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("staff:supervision"))
    assert response.status_code == 200 and len(many) == len(few)
    assert as_user(cast.counsellor).get(reverse("staff:supervision")).status_code == 403


def test_it_guards_the_note_page(world, cast, as_user, clock):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    url = reverse("counsellor:call_note", args=[call.pk])
    response = as_user(cast.counsellor).get(url)
    assert (
        response.status_code == 200 and "{#w1-" not in response.content.decode()
    )  # checklist ids stay out of the text
    assert (
        as_user(cast.supervisor).get(url).status_code == 200
    )  # supervisors read their counsellors' notes
    assert as_user(cast.supervisor).post(url, {"held": "yes", "risk": "none"}).status_code == 403
    assert as_user(cast.patient.user).get(url).status_code == 404
    assert as_user(cast.outsider).get(url).status_code == 404
    response = as_user(cast.counsellor).post(
        url, {"held": "yes", "risk": "none", "duration_minutes": "30", "action": "sign"}
    )
    assert response.status_code == 302 and CallNote.objects.get().signed_at


def test_it_lets_a_counsellor_edit_their_profile_and_book_for_a_patient(world, cast, as_user):
    from rarebridge.conditions.models import Condition

    Condition.objects.create(orphacode=171, names={"en": "Primary sclerosing cholangitis"})
    client = as_user(cast.counsellor)
    response = client.post(
        reverse("counsellor:profile"),
        {
            "languages": ["de", "en", "pl"],
            "conditions": "Primary sclerosing cholangitis\n",
            "gender": "woman",
            "age_band": "40-49",
            "capacity": "5",
            "introduction": "I listen.",
        },
    )
    assert response.status_code == 302
    world.profile.refresh_from_db()
    conditions = [row.condition.orphacode for row in world.profile.conditions.all()]
    assert (world.profile.languages, conditions, world.profile.capacity) == (
        ["de", "en", "pl"],
        [171],
        5,
    )
    page = client.get(reverse("counsellor:book", args=[cast.patient.pk]))
    assert page.status_code == 200 and "2026-03-02T16:00:00+00:00" in page.content.decode()
    response = client.post(
        reverse("counsellor:book", args=[cast.patient.pk]),
        {"slot": "2026-03-02T16:00:00+00:00", "week": "1"},
    )
    assert response.status_code == 302 and Call.objects.get().booked_by == cast.counsellor
    assert client.get(reverse("counsellor:book", args=[cast.other_patient.pk])).status_code == 404


def test_it_saves_reminder_preferences(world, cast, as_user):
    client = as_user(cast.patient.user)
    response = client.post(
        reverse("public:reminders"), {"by_email": "on", "by_sms": "on", "hour_before": "on"}
    )
    assert response.status_code == 302
    pref = cast.patient.user.reminder_preference
    assert (pref.by_email, pref.by_sms, pref.day_before, pref.hour_before) == (
        True,
        True,
        False,
        True,
    )


def test_it_sends_the_counsellor_from_a_risky_note_to_raise_a_concern_and_shows_it_on_their_home(
    world, cast, as_user, django_capture_on_commit_callbacks, clock
):
    call = _book(world, cast, day=2, hour=16, minute=0, week=1)
    clock.move_to(datetime(2026, 3, 2, 16, 35, tzinfo=UTC))
    client = as_user(cast.counsellor)
    response = client.post(
        reverse("counsellor:call_note", args=[call.pk]),
        {"held": "yes", "risk": "concern", "action": "save"},
    )
    assert response.status_code == 302 and response.url == reverse(
        "safety:concern_raise", args=[cast.patient.pk]
    )
    from rarebridge.safety.services import concern_raise

    with django_capture_on_commit_callbacks(execute=True):
        concern_raise(
            patient=cast.patient,
            level="high",
            observed="Said they see no way out",
            by=cast.counsellor,
        )
    html = client.get(reverse("counsellor:home")).content.decode()
    assert "Open concerns" in html and cast.patient.code in html
    assert (
        "open alert" in as_user(cast.supervisor).get(reverse("staff:supervision")).content.decode()
    )


def test_it_alerts_the_whole_chain_at_once_for_immediate_danger(
    world, cast, django_capture_on_commit_callbacks
):
    from rarebridge.core.permissions import Role
    from rarebridge.safety.services import concern_raise
    from tests.conftest import staff as make_staff

    second = make_staff(Role.SUPERVISOR, cast.org, cast.site, full_name="Second Supervisor")
    with django_capture_on_commit_callbacks(execute=True):
        concern_raise(
            patient=cast.patient, level="immediate", observed="Has a plan", by=cast.counsellor
        )
    told = set(
        Message.objects.filter(template_key="alert_raised", channel="email").values_list(
            "recipient", flat=True
        )
    )
    assert {cast.supervisor.pk, second.pk} <= told
