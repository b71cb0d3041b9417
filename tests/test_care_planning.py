from datetime import time

import pytest

from rarebridge.care.models import Clinic, RequiredAppointment, ScheduledVisit
from rarebridge.care.selectors import explanations_for, itinerary_for
from rarebridge.care.services import (
    clinic_plan,
    clinic_replan_after_cancellation,
    clinic_replan_after_late_professional,
)
from rarebridge.core.models import AuditEntry
from rarebridge.notify.models import Message
from tests.care_fixtures import small_clinic

pytestmark = pytest.mark.django_db


def test_it_plans_the_clinic_and_stores_each_itinerary(cast):
    small = small_clinic(cast)

    clinic = clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)

    assert clinic.status == Clinic.Status.OPTIMAL
    assert clinic.gap == 0.0 and clinic.bound == clinic.objective
    visits = ScheduledVisit.objects.filter(clinic=clinic)
    assert visits.count() == 8
    for invitation in small.invitations:
        lines = itinerary_for(invitation=invitation, language="en")[0]["lines"]
        assert lines[0].what == "Fasting bloods"
        # Stored in UTC, meaning the site's local clock (Hamburg, CET in December).
        assert lines[0].starts_at.astimezone(clinic.site_zone()).time() >= time(8, 30)
    assert AuditEntry.objects.filter(
        action="care.clinic.planned", actor=cast.care_coordinator
    ).exists()


def test_it_explains_an_impossible_plan_naming_the_rule(cast):
    small = small_clinic(cast)
    # Bloods must be read two hours later, but the patient may stay one hour only.
    for invitation in small.invitations:
        invitation.max_hours_a_day = 1
        invitation.save()
    RequiredAppointment.objects.filter(label="Endocrinology").update(gap_minutes=120)

    clinic = clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)

    assert clinic.status == Clinic.Status.INFEASIBLE
    assert not clinic.visits.exists()
    reasons = explanations_for(clinic=clinic)
    rules = {r["rule"] for r in reasons}
    assert rules & {"max_span", "precedence"}
    assert any("Anna Schmidt" in r["sentence"] for r in reasons)
    assert any(r["title"] == "Daily limit on time at the clinic" for r in reasons)


def test_it_replans_after_one_cancellation_keeping_the_other_appointments(
    cast, django_capture_on_commit_callbacks
):
    small = small_clinic(cast)
    small.nurse.user = cast.care_coordinator
    small.nurse.save()
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    anna, ben = small.invitations
    before = {
        v.appointment_id: (v.starts_at, v.room_id)
        for v in ScheduledVisit.objects.filter(invitation=ben)
    }
    hearing = anna.appointments.get(label="Hearing test")

    with django_capture_on_commit_callbacks(execute=True):
        clinic_replan_after_cancellation(
            appointment=hearing, by=cast.care_coordinator, time_limit_seconds=5
        )

    after = {
        v.appointment_id: (v.starts_at, v.room_id)
        for v in ScheduledVisit.objects.filter(invitation=ben)
    }
    assert after == before
    assert not ScheduledVisit.objects.filter(appointment=hearing).exists()
    assert Message.objects.filter(
        template_key="care_itinerary_changed", recipient=cast.patient.user
    ).exists()
    assert not Message.objects.filter(
        template_key="care_itinerary_changed", recipient=ben.patient.user
    ).exists()
    assert AuditEntry.objects.filter(action="care.clinic.replanned").exists()
    assert Message.objects.filter(
        template_key="care_day_sheet_changed", recipient=cast.care_coordinator
    ).exists()


def test_it_replans_around_a_late_professional(cast):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)

    clinic_replan_after_late_professional(
        professional=small.audio,
        day=small.day,
        arrives=time(11, 0),
        by=cast.care_coordinator,
        time_limit_seconds=5,
    )

    small.clinic.refresh_from_db()
    assert small.clinic.has_timetable
    for visit in ScheduledVisit.objects.filter(professionals=small.audio):
        assert visit.starts_at.astimezone(small.clinic.site_zone()).time() >= time(11, 0)


def test_it_keeps_the_timetable_and_explains_when_a_late_arrival_cannot_be_planned(cast):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    visits = ScheduledVisit.objects.filter(clinic=small.clinic).count()

    clinic_replan_after_late_professional(
        professional=small.tech,
        day=small.day,
        arrives=time(12, 45),
        by=cast.care_coordinator,
        time_limit_seconds=5,
    )

    small.clinic.refresh_from_db()
    assert small.clinic.status == Clinic.Status.OPTIMAL
    assert ScheduledVisit.objects.filter(clinic=small.clinic).count() == visits
    assert {r["rule"] for r in explanations_for(clinic=small.clinic)} == {"professional_hours"}
    assert not Message.objects.filter(template_key="care_itinerary_changed").exists()


def test_it_replans_after_a_family_cancels_keeping_the_others_in_place(cast, as_user):
    from django.urls import reverse

    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    anna, ben = small.invitations
    before = {v.pk: (v.starts_at, v.room_id) for v in ScheduledVisit.objects.filter(invitation=ben)}

    response = as_user(cast.care_coordinator).post(
        reverse("care:invitation_cancel", args=[anna.pk])
    )

    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.status == "cancelled"
    assert not ScheduledVisit.objects.filter(invitation=anna).exists()
    after = ScheduledVisit.objects.filter(invitation=ben)
    assert sorted((v.starts_at, v.room_id) for v in after) == sorted(before.values())
    assert (
        as_user(cast.supervisor).post(reverse("care:invitation_cancel", args=[ben.pk])).status_code
        == 403
    )
