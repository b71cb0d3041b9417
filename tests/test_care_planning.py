import os
import subprocess
import sys
from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from rarebridge.care.models import Clinic, ClinicReplan, RequiredAppointment, ScheduledVisit
from rarebridge.care.selectors import explanations_for, itinerary_for
from rarebridge.care.services import (
    appointment_cancel,
    clinic_plan,
    clinic_plan_request,
    clinic_replan_after_cancellation,
    clinic_replan_after_late_professional,
    clinic_replan_run,
    clinic_replans_requeue_due,
    professional_late,
)
from rarebridge.care.tasks import replan_clinic
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


def test_it_replans_after_a_family_cancels_keeping_the_others_in_place(
    cast, as_user, django_capture_on_commit_callbacks
):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    anna, ben = small.invitations
    before = {v.pk: (v.starts_at, v.room_id) for v in ScheduledVisit.objects.filter(invitation=ben)}

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(cast.care_coordinator).post(
            reverse("care:invitation_cancel", args=[anna.pk])
        )

    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.status == "cancelled"
    assert not ScheduledVisit.objects.filter(invitation=anna).exists()
    after = ScheduledVisit.objects.filter(invitation=ben)
    assert sorted((v.starts_at, v.room_id) for v in after) == sorted(before.values())
    assert ClinicReplan.objects.get(clinic=small.clinic).status == "done"
    assert not Message.objects.filter(template_key="care_itinerary_changed").exists()
    assert (
        as_user(cast.supervisor).post(reverse("care:invitation_cancel", args=[ben.pk])).status_code
        == 403
    )


# --- re-planning in the background ----------------------------------------------------------


@pytest.fixture
def planned(cast):
    small = small_clinic(cast)
    small.nurse.user = cast.care_coordinator
    small.nurse.save()
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    small.clinic.refresh_from_db()
    return small


def _messages():
    return sorted(Message.objects.values_list("idempotency_key", flat=True))


def test_it_tells_people_once_however_often_the_replan_task_runs(
    cast, planned, django_capture_on_commit_callbacks
):
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    replan = appointment_cancel(appointment=hearing, by=cast.care_coordinator, enqueue=False)

    with django_capture_on_commit_callbacks(execute=True):
        first = replan_clinic.call(replan_id=replan.pk)
    sent = _messages()
    events = cast.patient.care_events.filter(code="care.itinerary.changed").count()
    with django_capture_on_commit_callbacks(execute=True):
        again = replan_clinic.call(replan_id=replan.pk)

    assert (first, again) == ("done", "done already")
    assert sent and _messages() == sent
    assert f"care-itinerary-{planned.invitations[0].pk}-replan-{replan.pk}:email" in sent
    assert cast.patient.care_events.filter(code="care.itinerary.changed").count() == events == 1
    assert AuditEntry.objects.filter(action="care.clinic.replanned").count() == 1


def test_it_replans_changes_recorded_together_in_one_run(cast, planned):
    anna, ben = planned.invitations
    first = appointment_cancel(
        appointment=anna.appointments.get(label="Hearing test"),
        by=cast.care_coordinator,
        enqueue=False,
    )
    second = appointment_cancel(
        appointment=ben.appointments.get(label="Audiology review"),
        by=cast.care_coordinator,
        enqueue=False,
    )

    assert clinic_replan_run(replan_id=first.pk, time_limit_seconds=5) == "done"

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("done", "done")
    assert first.batch == second.batch == second.pk
    assert AuditEntry.objects.get(action="care.clinic.replanned").payload["replans"] == [
        first.pk,
        second.pk,
    ]
    assert not ScheduledVisit.objects.filter(appointment__status="cancelled").exists()
    assert clinic_replan_run(replan_id=second.pk) == "done already"


def test_it_leaves_a_change_to_the_replan_already_running(cast, planned):
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    replan = appointment_cancel(appointment=hearing, by=cast.care_coordinator, enqueue=False)
    Clinic.objects.filter(pk=planned.clinic.pk).update(replan_lease=timezone.now())

    assert clinic_replan_run(replan_id=replan.pk) == "left to the re-plan running now"
    replan.refresh_from_db()
    assert replan.status == "queued"

    # A lease this old belongs to a lost worker; the next run takes over.
    Clinic.objects.filter(pk=planned.clinic.pk).update(
        replan_lease=timezone.now() - timedelta(minutes=10)
    )
    assert clinic_replan_run(replan_id=replan.pk, time_limit_seconds=5) == "done"
    assert Clinic.objects.get(pk=planned.clinic.pk).replan_lease is None


def test_it_queues_again_a_replan_a_lost_worker_left_behind(cast, planned, monkeypatch):
    from rarebridge.core.periodic import run_periodic_jobs

    # The runner closes connections between jobs; inside a test transaction that would end it.
    monkeypatch.setattr("rarebridge.core.periodic.close_old_connections", lambda: None)
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    replan = appointment_cancel(appointment=hearing, by=cast.care_coordinator, enqueue=False)

    assert clinic_replans_requeue_due() == 0  # just recorded: its own task is on the way
    ClinicReplan.objects.filter(pk=replan.pk).update(
        requested_at=timezone.now() - timedelta(minutes=3)
    )
    assert run_periodic_jobs()["rarebridge.care.services.clinic_replans_requeue_due"] == 1

    replan.refresh_from_db()
    assert replan.status == "done"
    assert clinic_replans_requeue_due() == 0


def test_it_records_a_late_arrival_and_shows_why_the_replan_kept_the_timetable(
    cast, planned, as_user, django_capture_on_commit_callbacks
):
    client = as_user(cast.care_coordinator)
    visits = ScheduledVisit.objects.filter(clinic=planned.clinic).count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("care:professional_late", args=[planned.clinic.pk]),
            {"professional": planned.tech.pk, "day": planned.day.pk, "arrives": "12:45"},
        )

    assert response.status_code == 302
    assert [(s.starts, s.ends) for s in planned.tech.shifts.all()] == [(time(12, 45), time(13, 0))]
    replan = ClinicReplan.objects.get(clinic=planned.clinic)
    assert (replan.reason, replan.status) == ("late", "kept")
    assert ScheduledVisit.objects.filter(clinic=planned.clinic).count() == visits
    page = client.get(reverse("care:clinic", args=[planned.clinic.pk])).content.decode()
    assert "The last change could not be planned" in page
    assert "After: Tom Tech arrives at 12:45 on" in page
    assert "Professionals&#x27; hours" in page or "Professionals' hours" in page
    bad = client.post(
        reverse("care:professional_late", args=[planned.clinic.pk]),
        {"professional": planned.tech.pk, "day": planned.day.pk, "arrives": "late"},
    )
    assert bad.status_code == 400
    assert 'value="late"' in bad.content.decode()


def test_it_does_not_mix_planning_from_scratch_and_replanning(cast, planned):
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    review = planned.invitations[0].appointments.get(label="Audiology review")
    appointment_cancel(appointment=hearing, by=cast.care_coordinator, enqueue=False)

    with pytest.raises(ValidationError, match="being re-planned"):
        clinic_plan_request(clinic=planned.clinic, by=cast.care_coordinator)

    ClinicReplan.objects.update(status="done")
    clinic_plan_request(clinic=planned.clinic, by=cast.care_coordinator)

    with pytest.raises(ValidationError, match="being planned from scratch"):
        appointment_cancel(appointment=review, by=cast.care_coordinator)
    with pytest.raises(ValidationError, match="being planned from scratch"):
        professional_late(professional=planned.audio, day=planned.day, arrives=time(11), by=None)
    review.refresh_from_db()
    assert review.status == "needed"


def test_it_cancels_an_appointment_only_once(cast, planned, as_user):
    hearing = planned.invitations[0].appointments.get(label="Hearing test")
    client = as_user(cast.care_coordinator)

    client.post(reverse("care:appointment_cancel", args=[hearing.pk]))
    again = client.post(reverse("care:appointment_cancel", args=[hearing.pk]), follow=True)

    assert ClinicReplan.objects.count() == 1
    assert "That appointment is cancelled already." in again.content.decode()
    assert (
        as_user(cast.supervisor)
        .post(reverse("care:appointment_cancel", args=[hearing.pk]))
        .status_code
        == 403
    )
    assert (
        as_user(cast.outsider)
        .post(reverse("care:appointment_cancel", args=[hearing.pk]))
        .status_code
        == 404
    )


def test_it_lets_only_care_managers_of_the_organisation_ask_for_a_replan(cast, planned, as_user):
    replan = reverse("care:clinic_replan", args=[planned.clinic.pk])
    progress = reverse("care:clinic_progress", args=[planned.clinic.pk])
    htmx = {"HX-Request": "true"}

    assert as_user(cast.supervisor).post(replan).status_code == 403
    assert as_user(cast.outsider).post(replan).status_code == 404
    assert as_user(cast.outsider).get(progress, headers=htmx).status_code == 404
    assert as_user(cast.care_coordinator).get(replan).status_code == 405
    assert as_user(cast.supervisor).get(progress, headers=htmx)["HX-Refresh"] == "true"
    assert not ClinicReplan.objects.exists()


def test_a_worker_imports_the_care_tasks_on_their_own():
    """A worker finds a task by its path before anything else is loaded: no import goes back
    from the services to the tasks."""
    code = (
        "import django; django.setup(); import rarebridge.care.tasks as t; "
        "print(t.plan_clinic.module_path, t.replan_clinic.module_path)"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter, a fixed program)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RAREBRIDGE_ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings"},
    )

    assert done.returncode == 0, done.stderr
    assert "plan_clinic" in done.stdout and "replan_clinic" in done.stdout
