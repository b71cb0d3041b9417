"""Changing and removing a clinic's set-up: days, rooms, professionals, invitations and the
appointments each family needs."""

from datetime import time

import pytest
from django.urls import reverse
from django.utils import translation

from rarebridge.care.models import Clinic, ClinicReplan, RequiredAppointment, ScheduledVisit
from rarebridge.care.selectors import appointment_label, itinerary_for, timeline_for
from rarebridge.care.services import (
    clinic_plan,
    clinic_professional_add,
    travel_plan_set,
)
from rarebridge.core.models import AuditEntry
from rarebridge.notify.models import Message
from tests.care_fixtures import small_clinic
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def edit_url(small, kind, item):
    return reverse("care:clinic_setup_edit", args=[small.clinic.pk, kind, item.pk])


def remove_url(small, kind, item):
    return reverse("care:clinic_setup_remove", args=[small.clinic.pk, kind, item.pk])


@pytest.fixture
def small(cast):
    return small_clinic(cast)


@pytest.fixture
def planned(cast, small):
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    small.clinic.refresh_from_db()
    return small


@pytest.fixture
def coordinator(cast, as_user):
    return as_user(cast.care_coordinator)


# --- changing ---------------------------------------------------------------------------------


def test_it_shows_the_change_form_filled_in(small, coordinator):
    page = coordinator.get(edit_url(small, "room", small.rooms["booth"]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Change Audiology booth" in html
    assert 'value="audiology booth"' in html
    assert 'id="room-form"' in html


def test_it_changes_a_room_and_audits_it(cast, small, coordinator):
    response = coordinator.post(
        edit_url(small, "room", small.rooms["c2"]),
        {"form": "room", "room-name": "Room 2 (ground floor)", "room-kind": "consulting"},
    )

    assert response.status_code == 302
    room = small.rooms["c2"]
    room.refresh_from_db()
    assert (room.name, room.step_free) == ("Room 2 (ground floor)", False)
    entry = AuditEntry.objects.get(action="care.clinic.room_updated")
    assert entry.actor == cast.care_coordinator
    assert entry.payload["was"] == "Room 2"


def test_it_keeps_what_was_typed_when_a_change_is_invalid(small, coordinator):
    response = coordinator.post(
        edit_url(small, "room", small.rooms["c2"]),
        {"form": "room", "room-name": "Room 1", "room-kind": "typed kind"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "The clinic already has a room of that name." in html
    assert 'value="typed kind"' in html
    assert "Change Room 2" in html
    room = small.rooms["c2"]
    room.refresh_from_db()
    assert (room.name, room.kind) == ("Room 2", "consulting")


def test_it_adds_and_changes_a_day_with_its_breaks(small, coordinator):
    setup = reverse("care:clinic_setup", args=[small.clinic.pk])

    bad = coordinator.post(
        setup,
        {
            "form": "day",
            "day-on": "2026-12-08",
            "day-opens": "08:30",
            "day-closes": "16:00",
            "day-breaks": "lunch at noon",
        },
    )
    added = coordinator.post(
        setup,
        {
            "form": "day",
            "day-on": "2026-12-08",
            "day-opens": "08:30",
            "day-closes": "16:00",
            "day-breaks": "12:30\u201313:00, 10:00-10:15",
        },
    )

    assert bad.status_code == 400
    assert 'value="lunch at noon"' in bad.content.decode()
    assert added.status_code == 302
    second = small.clinic.days.get(date="2026-12-08")
    assert [(b.starts, b.ends) for b in second.breaks.all()] == [
        (time(10, 0), time(10, 15)),
        (time(12, 30), time(13, 0)),
    ]
    form = coordinator.get(edit_url(small, "day", second)).content.decode()
    assert 'value="10:00-10:15, 12:30-13:00"' in form

    changed = coordinator.post(
        edit_url(small, "day", second),
        {
            "form": "day",
            "day-on": "2026-12-09",
            "day-opens": "09:00",
            "day-closes": "15:00",
            "day-breaks": "",
            "day-fasting_by": "10:00",
        },
    )

    assert changed.status_code == 302
    second.refresh_from_db()
    assert (str(second.date), second.opens, second.fasting_by) == (
        "2026-12-09",
        time(9, 0),
        time(10, 0),
    )
    assert not second.breaks.exists()
    assert AuditEntry.objects.filter(action="care.clinic.day_updated").exists()


def test_it_changes_a_professional_keeping_hours_the_form_cannot_show_unless_they_change(
    small, coordinator
):
    second = small.clinic.days.create(date="2026-12-08", opens="08:00", closes="16:00")
    small.audio.shifts.create(day=small.day, starts="09:00", ends="12:00")
    small.audio.shifts.create(day=second, starts="13:00", ends="16:00")
    url = edit_url(small, "professional", small.audio)
    data = {
        "form": "professional",
        "professional-name": "Dr Ohr-Weiss",
        "professional-discipline": "Audiology",
        "professional-rooms": [small.rooms["c2"].pk, small.rooms["c1"].pk],
        "professional-present_from": "09:00",
        "professional-present_until": "12:00",
        "professional-days": [small.day.pk, second.pk],
    }

    renamed = coordinator.post(url, data)

    assert renamed.status_code == 302
    small.audio.refresh_from_db()
    assert small.audio.name == "Dr Ohr-Weiss"
    assert set(small.audio.rooms.all()) == {small.rooms["c1"], small.rooms["c2"]}
    assert sorted((s.starts.hour, s.ends.hour) for s in small.audio.shifts.all()) == [
        (9, 12),
        (13, 16),
    ]

    coordinator.post(url, {**data, "professional-present_from": "10:00"})

    assert sorted((s.starts.hour, s.ends.hour) for s in small.audio.shifts.all()) == [
        (10, 12),
        (10, 12),
    ]


def test_it_changes_an_invitation_but_never_its_patient(cast, small, coordinator):
    anna = small.invitations[0]

    response = coordinator.post(
        edit_url(small, "invite", anna),
        {
            "form": "invite",
            "invite-patient": small.invitations[1].patient.pk,
            "invite-step_free": "on",
            "invite-max_hours_a_day": "4.5",
            "invite-family": "S",
            "invite-round_table_minutes": 15,
            "invite-round_table_team": [small.endo.pk],
        },
    )

    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.patient == cast.patient
    assert (anna.step_free, str(anna.max_hours_a_day), anna.family) == (True, "4.5", "S")
    assert list(anna.round_table_team.all()) == [small.endo]
    assert "Arrangements for Alström clinic, December changed." in [
        line.text for line in timeline_for(patient=cast.patient)
    ]


# --- names in the family's language ---------------------------------------------------------


def test_it_keeps_an_appointments_name_in_other_languages_for_the_familys_itinerary(
    cast, small, coordinator
):
    hearing = small.invitations[0].appointments.get(label="Hearing test")
    url = edit_url(small, "appointment", hearing)
    form = coordinator.get(url).content.decode()
    assert 'value="Hörtest"' in form  # from the fixture's German name
    assert "<legend>" in form and 'for="id_appointment-label_fr"' in form

    response = coordinator.post(
        url,
        {
            "form": "appointment",
            "appointment-label": "Hearing test",
            "appointment-minutes": 30,
            "appointment-professionals": [small.tech.pk],
            "appointment-room_kind": "audiology booth",
            "appointment-rest_after_minutes": 0,
            "appointment-gap_minutes": 0,
            "appointment-label_de": "Hörtest",
            "appointment-label_fr": "  Test auditif ",
            "appointment-label_pl": "",
        },
    )

    assert response.status_code == 302
    hearing.refresh_from_db()
    assert hearing.labels == {"de": "Hörtest", "fr": "Test auditif"}
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    anna = small.invitations[0]

    def names(language):
        return {
            line.what
            for day in itinerary_for(invitation=anna, language=language)
            for line in day["lines"]
        }

    assert "Test auditif" in names("fr")
    assert "Hörtest" in names("de-at")
    assert "Hearing test" in names("pl") and "Hearing test" in names("en")
    cast.patient.user.language = "fr"
    cast.patient.user.save()
    staff_view = coordinator.get(reverse("care:itinerary", args=[anna.pk])).content.decode()
    assert "Test auditif" in staff_view
    family_view = (
        client_for(cast.patient.user)
        .get(reverse("patient_care:itinerary", args=[anna.pk]))
        .content.decode()
    )
    assert "Test auditif" in family_view


def test_it_refuses_an_appointment_that_would_come_after_itself(small, coordinator):
    anna = small.invitations[0]
    bloods = anna.appointments.get(label="Fasting bloods")
    endo = anna.appointments.get(label="Endocrinology")  # comes after the bloods

    response = coordinator.post(
        edit_url(small, "appointment", bloods),
        {
            "form": "appointment",
            "appointment-label": "Fasting bloods",
            "appointment-minutes": 15,
            "appointment-professionals": [small.nurse.pk],
            "appointment-rest_after_minutes": 0,
            "appointment-after": endo.pk,
            "appointment-gap_minutes": 0,
        },
    )

    assert response.status_code == 400
    assert "An appointment cannot come after itself." in response.content.decode()
    bloods.refresh_from_db()
    assert bloods.after is None


# --- removing ---------------------------------------------------------------------------------


def test_it_removes_a_room_but_not_the_only_room_of_a_professional(small, coordinator):
    spare = small.clinic.rooms.create(name="Spare room")

    refused = coordinator.post(remove_url(small, "room", small.rooms["booth"]))
    removed = coordinator.post(remove_url(small, "room", spare))

    assert refused.status_code == 400
    assert "Tom Tech can use only this room." in refused.content.decode()
    assert small.clinic.rooms.filter(name="Audiology booth").exists()
    assert removed.status_code == 302
    assert not small.clinic.rooms.filter(name="Spare room").exists()
    assert AuditEntry.objects.get(action="care.clinic.room_removed").payload["room"] == (
        "Spare room"
    )


def test_it_removes_a_day_from_a_planned_clinic_unless_someone_comes_only_then(
    cast, planned, coordinator
):
    second = planned.clinic.days.create(date="2026-12-08", opens="08:00", closes="16:00")
    planned.tech.shifts.create(day=second, starts="09:00", ends="12:00")

    refused = coordinator.post(remove_url(planned, "day", second))

    assert refused.status_code == 400
    assert "These people come only on this day: Tom Tech." in refused.content.decode()
    planned.tech.shifts.create(day=planned.day, starts="08:30", ends="13:00")
    visits = ScheduledVisit.objects.filter(clinic=planned.clinic)
    assert visits.exists()

    assert coordinator.post(remove_url(planned, "day", planned.day)).status_code == 302

    assert list(planned.clinic.days.all()) == [second]
    assert not visits.exists()
    assert Clinic.objects.get(pk=planned.clinic.pk).setup_changed_since_plan
    entry = AuditEntry.objects.get(action="care.clinic.day_removed")
    assert entry.payload == {"date": "2026-12-07", "timetable_visits": 8}


def test_it_shows_the_set_up_page_in_the_same_number_of_queries_for_more_families(
    cast, small, coordinator
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rarebridge.care.services import appointment_require, clinic_invite
    from tests.factories import PatientFactory

    url = reverse("care:clinic_setup", args=[small.clinic.pk])
    coordinator.get(url)
    with CaptureQueriesContext(connection) as two:
        coordinator.get(url)
    for n in range(3):
        invitation = clinic_invite(
            clinic=small.clinic, patient=PatientFactory(site=cast.site), by=cast.care_coordinator
        )
        appointment_require(
            invitation=invitation,
            label=f"Eyes {n}",
            labels={"de": f"Augen {n}"},
            professionals=[small.endo],
            minutes=15,
        )
    with CaptureQueriesContext(connection) as five:
        response = coordinator.get(url)

    assert response.status_code == 200
    assert "Augen 2" in response.content.decode()
    assert len(five) == len(two)


def test_it_refuses_to_remove_the_only_professional_who_can_see_an_appointment(small, coordinator):
    response = coordinator.post(remove_url(small, "professional", small.tech))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Tom Tech is the only one who can see Hearing test (Anna Schmidt)" in html
    assert 'role="alert"' in html
    assert small.clinic.professionals.filter(pk=small.tech.pk).exists()


def test_it_refuses_to_remove_an_appointment_in_the_timetable_and_points_to_cancelling(
    planned, coordinator
):
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    setup = coordinator.get(reverse("care:clinic_setup", args=[planned.clinic.pk]))
    assert "cancel it on the planning page" in setup.content.decode()

    response = coordinator.post(remove_url(planned, "appointment", hearing))

    assert response.status_code == 400
    assert "Cancel it on the planning page instead" in response.content.decode()
    assert RequiredAppointment.objects.filter(pk=hearing.pk).exists()


def test_it_removes_an_appointment_not_yet_planned_and_notes_it_on_the_timeline(
    cast, small, coordinator
):
    hearing = small.invitations[0].appointments.get(label="Hearing test")
    review = small.invitations[0].appointments.get(label="Audiology review")

    response = coordinator.post(remove_url(small, "appointment", hearing))

    assert response.status_code == 302
    assert not RequiredAppointment.objects.filter(pk=hearing.pk).exists()
    review.refresh_from_db()
    assert review.after is None
    assert "Appointment taken off the clinic set-up: Hearing test" in [
        line.text for line in timeline_for(patient=cast.patient)
    ]


def test_it_withdraws_an_invitation_made_by_mistake_but_not_one_with_travel(
    cast, small, coordinator
):
    anna, ben = small.invitations
    travel_plan_set(invitation=anna, by=cast.care_coordinator, stay="hotel")

    refused = coordinator.post(remove_url(small, "invite", anna))
    removed = coordinator.post(remove_url(small, "invite", ben))

    assert refused.status_code == 400
    assert "Travel and stay are arranged for Anna Schmidt" in refused.content.decode()
    assert removed.status_code == 302
    assert list(small.clinic.invitations.all()) == [anna]
    assert AuditEntry.objects.filter(action="care.invitation.removed").count() == 1


# --- a planned clinic whose set-up changes ---------------------------------------------------


def test_it_marks_a_planned_clinic_when_the_set_up_changes_in_a_way_the_plan_depends_on(
    planned, coordinator
):
    clinic_page = reverse("care:clinic", args=[planned.clinic.pk])
    room = planned.rooms["c2"]
    data = {"form": "room", "room-name": "Room Two", "room-kind": "consulting"}

    coordinator.post(edit_url(planned, "room", room), {**data, "room-step_free": "on"})

    assert not Clinic.objects.get(pk=planned.clinic.pk).setup_changed_since_plan
    assert "The set-up changed since the plan" not in coordinator.get(clinic_page).content.decode()

    coordinator.post(edit_url(planned, "room", room), data)  # no longer step-free

    assert Clinic.objects.get(pk=planned.clinic.pk).setup_changed_since_plan
    page = coordinator.get(clinic_page).content.decode()
    assert "The set-up changed since the plan; plan again." in page
    assert "keeping families' times where possible" in page
    coordinator.post(reverse("care:clinic_send", args=[planned.clinic.pk]))
    assert not Message.objects.filter(template_key="care_itinerary_ready").exists()


def test_it_takes_a_removed_professional_out_of_the_timetable_and_re_plans_around_it(
    cast, planned, coordinator, django_capture_on_commit_callbacks
):
    reviews = RequiredAppointment.objects.filter(label="Audiology review")
    assert ScheduledVisit.objects.filter(professionals=planned.audio).count() == 2
    # A second audiologist joins who can give the reviews too; then Dr Ohr cannot come.
    second = clinic_professional_add(
        clinic=planned.clinic, name="Dr Zwei", discipline="Audiology", rooms=[planned.rooms["c2"]]
    )
    for review in reviews:
        review.professionals.add(second)

    removed = coordinator.post(remove_url(planned, "professional", planned.audio))

    assert removed.status_code == 302
    clinic = Clinic.objects.get(pk=planned.clinic.pk)
    assert clinic.setup_changed_since_plan and clinic.has_timetable
    assert AuditEntry.objects.get(action="care.clinic.professional_removed").payload == {
        "name": "Dr Ohr",
        "discipline": "Audiology",
        "timetable_visits": 2,
    }
    assert not ScheduledVisit.objects.filter(appointment__in=reviews).exists()
    assert ScheduledVisit.objects.filter(clinic=clinic).count() == 6

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("care:clinic_replan", args=[clinic.pk]))

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.has_timetable and not clinic.setup_changed_since_plan
    placed = ScheduledVisit.objects.filter(appointment__in=reviews)
    assert [list(v.professionals.all()) for v in placed] == [[second], [second]]
    replan = ClinicReplan.objects.get(clinic=clinic)
    assert (replan.reason, replan.status) == ("setup", "done")
    assert {m["appointment"] for m in replan.moved} >= set(reviews.values_list("pk", flat=True))
    told = Message.objects.filter(template_key="care_itinerary_changed", channel="email")
    assert told.count() == 2
    page = coordinator.get(reverse("care:clinic", args=[clinic.pk])).content.decode()
    assert "After: The set-up changed." in page
    assert "newly placed at" in page


# --- who may ---------------------------------------------------------------------------------


def test_it_lets_only_care_managers_of_the_clinics_organisation_change_the_set_up(
    cast, small, as_user
):
    room = small.rooms["c1"]
    reader = as_user(cast.supervisor)

    setup = reader.get(reverse("care:clinic_setup", args=[small.clinic.pk])).content.decode()
    assert "Room 1" in setup and "Add the room" not in setup and "Remove" not in setup
    assert reader.get(edit_url(small, "room", room)).status_code == 403
    assert reader.post(remove_url(small, "room", room)).status_code == 403
    assert as_user(cast.outsider).post(remove_url(small, "room", room)).status_code == 404
    coordinator = as_user(cast.care_coordinator)
    assert coordinator.get(remove_url(small, "room", room)).status_code == 405
    assert (
        coordinator.get(
            reverse("care:clinic_setup_edit", args=[small.clinic.pk, "patient", room.pk])
        ).status_code
        == 404
    )
    other = small_clinic(cast, patients=[cast.other_patient])
    assert coordinator.post(remove_url(small, "room", other.rooms["c1"])).status_code == 404
    assert small.clinic.rooms.filter(pk=room.pk).exists()
    assert not AuditEntry.objects.filter(action="care.clinic.room_removed").exists()


def test_it_reads_the_label_in_the_reader_language_only_when_one_is_given(small):
    appointment = small.invitations[0].appointments.get(label="Endocrinology")

    with translation.override("de"):
        assert appointment_label(appointment, "de") == "Endokrinologie"
    appointment.labels = {"de": "  "}
    assert appointment_label(appointment, "de") == "Endocrinology"
    assert appointment_label(appointment, None) == "Endocrinology"


# --- who may -----------------------------------------------------------------------------------


def test_only_care_staff_of_the_clinic_may_change_or_remove_its_set_up(cast, small, as_user):
    room = small.rooms["c2"]
    change = {"form": "room", "room-name": "Renamed", "room-kind": "consulting"}

    assert as_user(cast.supervisor).get(edit_url(small, "room", room)).status_code == 403
    assert as_user(cast.supervisor).post(remove_url(small, "room", room)).status_code == 403
    assert as_user(cast.outsider).post(edit_url(small, "room", room), change).status_code == 404
    assert as_user(cast.outsider).post(remove_url(small, "room", room)).status_code == 404
    room.refresh_from_db()
    assert room.name != "Renamed"
