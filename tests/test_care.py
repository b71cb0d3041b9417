import io
from datetime import UTC

import pytest
from django.urls import reverse
from icalendar import Calendar

from rarebridge.care.models import CareNote, ChecklistEntry, TeamRole
from rarebridge.care.selectors import (
    can_read_clinical_notes,
    explanations_for,
    notes_for_user,
    timeline_for,
)
from rarebridge.care.services import (
    clinic_plan,
    goal_add,
    letter_write,
    note_add,
    task_add,
    task_complete,
    team_member_add,
)
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from tests.care_fixtures import small_clinic
from tests.conftest import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(cast):
    """Anna's care team: Cem as specialist nurse, Fiona (family support worker) with an account."""
    fiona = staff(
        Role.CARE_COORDINATOR, cast.org, None, full_name="Fiona Family", email="fiona@example.org"
    )
    nurse = team_member_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        role=TeamRole.SPECIALIST_NURSE,
        user=cast.care_coordinator,
    )
    team_member_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        role=TeamRole.FAMILY_SUPPORT_WORKER,
        user=fiona,
    )
    clinical = note_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        kind=CareNote.Kind.CLINICAL,
        text="Liver enzymes up; repeat bloods.",
    )
    shared = note_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        kind=CareNote.Kind.TEAM,
        text="Family travels by train.",
    )
    return type(
        "Team", (), {"fiona": fiona, "nurse": nurse, "clinical": clinical, "shared": shared}
    )


# --- team, plan, notes, timeline -------------------------------------------------------------


def test_it_hides_clinical_notes_from_a_family_support_worker(cast, team, as_user):
    assert set(notes_for_user(user=cast.care_coordinator, patient=cast.patient)) == {
        team.clinical,
        team.shared,
    }
    assert list(notes_for_user(user=team.fiona, patient=cast.patient)) == [team.shared]
    assert not can_read_clinical_notes(user=team.fiona, patient=cast.patient)

    page = as_user(team.fiona).get(reverse("care:patient", args=[cast.patient.pk]))

    assert page.status_code == 200
    assert "Family travels by train." in page.content.decode()
    assert "Liver enzymes" not in page.content.decode()


def test_it_refuses_a_clinical_note_from_a_family_support_worker(cast, team, as_user):
    response = as_user(team.fiona).post(
        reverse("care:note_add", args=[cast.patient.pk]),
        {"note-kind": "clinical", "note-text": "Should not be saved."},
    )

    assert response.status_code == 400
    assert not CareNote.objects.filter(text="Should not be saved.").exists()


def test_it_keeps_a_case_plan_and_a_timeline_without_note_text(cast, team):
    goal = goal_add(
        patient=cast.patient,
        by=cast.care_coordinator,
        title="Start school support",
        owner=team.nurse,
    )
    task = task_add(goal=goal, by=cast.care_coordinator, title="Call the school", owner=team.nurse)
    task_complete(task=task, by=cast.care_coordinator)

    lines = [line.text for line in timeline_for(patient=cast.patient)]

    assert lines[0] == "Task done: Call the school"
    assert "Goal added: Start school support" in lines
    assert "A note was written." in lines
    assert not any("Liver" in line for line in lines)
    assert AuditEntry.objects.filter(
        action="care.task.completed", actor=cast.care_coordinator
    ).exists()


def test_it_names_checklist_items_and_statuses_on_the_timeline_in_the_readers_language(
    cast, team, as_user
):
    from django.utils import translation

    from rarebridge.care.services import checklist_set

    for kind, key, status in (
        ("transition", "t16-medicines", "in_progress"),
        ("benefits", "disability-card", "done"),
        ("travel", "stay-booked", "n_a"),
        ("benefits", "no-such-item", "done"),
    ):
        checklist_set(
            patient=cast.patient, by=cast.care_coordinator, kind=kind, key=key, status=status
        )

    with translation.override("en"):
        english = [line.text for line in timeline_for(patient=cast.patient)[:4]]
    with translation.override("de"):
        german = [line.text for line in timeline_for(patient=cast.patient)[:4]]

    assert english == [
        "Checklist updated: “no-such-item” is now: Done.",
        "Checklist updated: “Hotel or family room booked” is now: Does not apply.",
        "Checklist updated: “Example: disability card (travel and tax relief)” is now: Done.",
        "Checklist updated: “Knows their medicines and doses” is now: In progress.",
    ]
    assert german[1] == (
        "Checkliste aktualisiert: „Hotel oder Familienzimmer gebucht“ ist jetzt: Trifft nicht zu."
    )
    assert "Kennt die eigenen Medikamente und Dosierungen" in german[3]
    assert not any("t16-medicines" in line or "in_progress" in line for line in german)
    reader = as_user(cast.care_coordinator)
    cast.care_coordinator.language = "de"
    cast.care_coordinator.save()
    page = reader.get(reverse("care:patient", args=[cast.patient.pk])).content.decode()
    assert "Kennt die eigenen Medikamente und Dosierungen" in page


def test_it_shows_the_care_page_to_the_care_coordinator_and_audits_it(cast, team, as_user):
    page = as_user(cast.care_coordinator).get(reverse("care:patient", args=[cast.patient.pk]))

    assert page.status_code == 200
    assert "Liver enzymes up" in page.content.decode()
    assert AuditEntry.objects.filter(
        action="care.patient.viewed", actor=cast.care_coordinator, object_id=str(cast.patient.pk)
    ).exists()


@pytest.mark.parametrize("who", ["counsellor", "coordinator", "outsider"])
def test_it_hides_the_care_page_from_other_roles_and_tenants(cast, team, as_user, who):
    page = as_user(getattr(cast, who)).get(reverse("care:patient", args=[cast.patient.pk]))

    assert page.status_code == 404


def test_it_lets_a_supervisor_read_but_not_change(cast, team, as_user):
    client = as_user(cast.supervisor)

    assert client.get(reverse("care:patient", args=[cast.patient.pk])).status_code == 200
    response = client.post(
        reverse("care:goal_add", args=[cast.patient.pk]), {"goal-title": "Not allowed"}
    )
    assert response.status_code == 403


def test_a_change_on_the_care_page_is_audited_as_the_person_acting_from_their_address(
    cast, team, as_user
):
    response = as_user(cast.care_coordinator).post(
        reverse("care:goal_add", args=[cast.patient.pk]),
        {"goal-title": "Walk to school"},
        HTTP_X_REQUEST_ID="care-goal-1",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    for action in ("care.patient.viewed", "care.goal.added"):
        entry = AuditEntry.objects.get(action=action, request_id="care-goal-1")
        assert entry.actor == cast.care_coordinator
        assert entry.ip_address == "203.0.113.9"


def test_it_refuses_get_on_a_write(cast, team, as_user):
    response = as_user(cast.care_coordinator).get(reverse("care:goal_add", args=[cast.patient.pk]))

    assert response.status_code == 405


def test_it_adds_a_goal_and_a_checklist_status_through_the_page(cast, team, as_user):
    client = as_user(cast.care_coordinator)

    client.post(
        reverse("care:goal_add", args=[cast.patient.pk]),
        {"goal-title": "Plan transition", "goal-owner": team.nurse.pk},
    )
    client.post(
        reverse("care:checklist_set", args=[cast.patient.pk]),
        {"kind": "transition", "key": "t16-medicines", "status": "done"},
    )

    assert cast.patient.care_goals.get().owner == team.nurse
    entry = ChecklistEntry.objects.get(patient=cast.patient, kind="transition")
    assert entry.status == "done"
    page = client.get(reverse("care:patient", args=[cast.patient.pk])).content.decode()
    assert "Knows their medicines and doses" in page
    assert "Example: disability card" in page  # the German example benefits list


def test_it_writes_a_school_letter_in_the_familys_language(cast, team):
    cast.patient.user.language = "de"
    cast.patient.user.save()

    letter = letter_write(
        patient=cast.patient,
        by=cast.care_coordinator,
        template="school_liaison",
        school="Gymnasium Altona",
    )

    assert letter.language == "de"
    assert "An das Kollegium der Gymnasium Altona" in letter.body
    assert "Anna Schmidt" in letter.body


# --- clinic pages ------------------------------------------------------------------------------


@pytest.fixture
def planned(cast):
    small = small_clinic(cast)
    clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    return small


def test_it_plans_from_the_clinic_page_in_the_background(
    cast, as_user, django_capture_on_commit_callbacks
):
    small = small_clinic(cast)
    client = as_user(cast.care_coordinator)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(reverse("care:clinic_plan", args=[small.clinic.pk]))

    assert response.status_code == 302
    assert len(queued) == 1
    page = client.get(reverse("care:clinic", args=[small.clinic.pk])).content.decode()
    assert "Planned, proven best" in page
    assert "Planning since" not in page
    assert AuditEntry.objects.filter(action="care.clinic.plan_requested").exists()


def test_it_shows_the_explanation_on_the_clinic_page(
    cast, as_user, django_capture_on_commit_callbacks
):
    small = small_clinic(cast)
    small.tech.shifts.create(day=small.day, starts="12:45", ends="13:00")
    client = as_user(cast.care_coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("care:clinic_plan", args=[small.clinic.pk]))

    page = client.get(reverse("care:clinic", args=[small.clinic.pk])).content.decode()
    assert "Why no timetable is possible" in page
    assert "Professionals&#x27; hours" in page or "Professionals' hours" in page
    assert "Tom Tech" in page


def test_it_hides_clinics_from_other_tenants_and_roles(cast, planned, as_user):
    for user in (cast.outsider, cast.counsellor):
        assert (
            as_user(user).get(reverse("care:clinic", args=[planned.clinic.pk])).status_code == 404
        )
    assert (
        as_user(cast.supervisor)
        .post(reverse("care:clinic_plan", args=[planned.clinic.pk]))
        .status_code
        == 403
    )


def test_it_cancels_an_appointment_at_once_and_replans_in_the_background(
    cast, planned, as_user, django_capture_on_commit_callbacks
):
    from rarebridge.care.models import ClinicReplan

    anna = planned.invitations[0]
    hearing = anna.appointments.get(label="Hearing test")
    client = as_user(cast.care_coordinator)
    page = reverse("care:clinic", args=[planned.clinic.pk])
    progress = reverse("care:clinic_progress", args=[planned.clinic.pk])

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("care:appointment_cancel", args=[hearing.pk]))

    # Recorded at once; the re-plan waits for the worker.
    assert response.status_code == 302
    hearing.refresh_from_db()
    assert hearing.status == "cancelled"
    replan = ClinicReplan.objects.get(clinic=planned.clinic)
    assert (replan.status, replan.touched) == ("queued", [anna.pk])
    waiting = client.get(page).content.decode()
    assert "Re-planning since" in waiting
    assert "After: Hearing test cancelled for Anna Schmidt." in waiting
    assert f'hx-get="{progress}"' in waiting
    assert client.get(progress, headers={"HX-Request": "true"}).status_code == 204
    assert AuditEntry.objects.filter(
        action="care.clinic.replan_requested", actor=cast.care_coordinator
    ).exists()

    for callback in queued:
        callback()

    replan.refresh_from_db()
    assert replan.status == "done"
    assert not hearing.visits.exists()
    done = client.get(progress, headers={"HX-Request": "true"})
    assert (done.status_code, done["HX-Refresh"]) == (200, "true")
    result = client.get(page).content.decode()
    assert "Re-planning since" not in result
    assert "Re-planned" in result and "After: Hearing test cancelled for Anna Schmidt." in result
    assert client.get(progress).status_code == 302  # without HTMX: the page itself


def test_it_shows_day_sheets_per_professional_and_per_room(cast, planned, as_user):
    client = as_user(cast.care_coordinator)

    nurse = client.get(
        reverse("care:professional_sheet", args=[planned.clinic.pk, planned.nurse.pk])
    )
    booth = client.get(
        reverse("care:room_sheet", args=[planned.clinic.pk, planned.rooms["booth"].pk])
    )

    assert nurse.content.decode().count("Fasting bloods") == 2
    assert booth.content.decode().count("Hearing test") == 2
    assert "Anna Schmidt" in booth.content.decode()


def test_it_shows_the_itinerary_in_normal_and_large_print_with_a_calendar_file(
    cast, planned, as_user
):
    client = as_user(cast.care_coordinator)
    invitation = planned.invitations[0]

    page = client.get(reverse("care:itinerary", args=[invitation.pk]))
    large = client.get(reverse("care:itinerary", args=[invitation.pk]) + "?print=large")
    ics = client.get(reverse("care:itinerary_ics", args=[invitation.pk]))

    assert "Fasting bloods" in page.content.decode()
    assert 'class="itinerary large"' in large.content.decode()
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(events) == 4
    assert events[0]["dtstart"].dt.tzinfo is not None


def test_it_shows_the_family_their_own_itinerary_and_travel_only(cast, planned, as_user):
    from rarebridge.care.services import travel_plan_set

    anna, ben = planned.invitations
    travel_plan_set(
        invitation=anna,
        by=cast.care_coordinator,
        stay="family_room",
        stay_name="Ronald House",
        nights=1,
    )
    client = as_user(cast.patient.user)

    mine = client.get(reverse("patient_care:itinerary", args=[anna.pk]))
    theirs = client.get(reverse("patient_care:itinerary", args=[ben.pk]))

    assert mine.status_code == 200
    assert "Ronald House" in mine.content.decode()
    assert theirs.status_code == 404
    assert client.get(reverse("patient_care:home")).status_code == 200
    assert as_user(cast.care_coordinator).get(reverse("patient_care:home")).status_code == 404


def test_it_renders_the_itinerary_pdf_in_the_familys_language(cast, planned, as_user):
    from pypdf import PdfReader

    cast.patient.user.language = "de"
    cast.patient.user.save()
    client = as_user(cast.patient.user)

    response = client.get(reverse("patient_care:itinerary_pdf", args=[planned.invitations[0].pk]))

    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Blutabnahme (nüchtern)" in text
    assert "für Anna Schmidt" in text and "Itinerary" not in text
    assert "Hörtest" in text


def test_it_edits_travel_and_works_the_checklist(cast, planned, as_user):
    client = as_user(cast.care_coordinator)
    invitation = planned.invitations[0]

    client.post(
        reverse("care:travel", args=[invitation.pk]),
        {
            "form": "plan",
            "plan-stay": "hotel",
            "plan-stay_name": "Hotel Stadtpark",
            "plan-nights": 2,
            "plan-assistance": "Wheelchair at the station",
        },
    )
    client.post(
        reverse("care:travel", args=[invitation.pk]),
        {
            "form": "leg",
            "leg-mode": "train",
            "leg-departs_at": "2026-12-06T14:05",
            "leg-arrives_at": "2026-12-06T17:40",
            "leg-origin": "Kiel",
            "leg-destination": "Hamburg",
            "leg-paid_by": "charity",
            "leg-booked": "on",
        },
    )
    backwards = client.post(
        reverse("care:travel", args=[invitation.pk]),
        {
            "form": "leg",
            "leg-mode": "train",
            "leg-departs_at": "2026-12-06T18:00",
            "leg-arrives_at": "2026-12-06T17:00",
            "leg-origin": "Hamburg",
            "leg-destination": "Kiel",
            "leg-paid_by": "family",
        },
    )
    client.post(
        reverse("care:travel", args=[invitation.pk]),
        {
            "form": "cost",
            "cost-what": "Tickets",
            "cost-amount": "59.90",
            "cost-currency": "eur",
            "cost-status": "claimed",
        },
    )
    client.post(
        reverse("care:checklist_set", args=[cast.patient.pk]),
        {
            "kind": "travel",
            "key": "travel-booked",
            "status": "done",
            "back": "travel",
            "invitation": invitation.pk,
        },
    )

    page = client.get(reverse("care:travel", args=[invitation.pk])).content.decode()
    assert "Hotel Stadtpark" in page
    assert ChecklistEntry.objects.get(patient=cast.patient, key="travel-booked").status == "done"
    assert AuditEntry.objects.filter(action="care.travel.updated").exists()
    assert backwards.status_code == 400
    leg = invitation.travel.legs.get()
    # Entered in the coordinator's zone (Berlin, CET): stored as UTC.
    assert (leg.departs_at.hour, leg.departs_at.tzinfo) == (13, UTC)
    cost = invitation.travel.costs.get()
    assert cost.currency == "EUR"
    client.post(
        reverse("care:travel", args=[invitation.pk]),
        {"form": "cost_status", "cost": cost.pk, "status": "reimbursed"},
    )
    cost.refresh_from_db()
    assert cost.status == "reimbursed"
    assert (
        "Kiel → Hamburg"
        in as_user(cast.patient.user)
        .get(reverse("patient_care:itinerary", args=[invitation.pk]))
        .content.decode()
    )


def test_it_shows_the_clinic_page_in_the_same_number_of_queries_for_more_families(cast, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rarebridge.care.services import appointment_require, clinic_invite
    from tests.factories import PatientFactory

    small = small_clinic(cast)
    client = as_user(cast.care_coordinator)
    url = reverse("care:clinic", args=[small.clinic.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for n in range(3):
        invitation = clinic_invite(
            clinic=small.clinic, patient=PatientFactory(site=cast.site), by=cast.care_coordinator
        )
        appointment_require(
            invitation=invitation, label=f"Eyes {n}", professionals=[small.endo], minutes=15
        )
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)

    assert response.status_code == 200
    assert len(five) == len(two)


def test_it_sets_up_a_clinic_through_the_pages_and_plans_it(
    cast, as_user, django_capture_on_commit_callbacks
):
    from rarebridge.care.models import Clinic

    client = as_user(cast.care_coordinator)
    response = client.post(
        reverse("care:clinic_new"),
        {
            "clinic-site": cast.site.pk,
            "clinic-name": "Spring clinic",
            "clinic-first_day": "2027-03-02",
            "clinic-opens": "08:30",
            "clinic-closes": "12:00",
            "clinic-break_from": "10:00",
            "clinic-break_until": "10:15",
        },
    )
    clinic = Clinic.objects.get(name="Spring clinic")
    assert response.status_code == 302
    setup = reverse("care:clinic_setup", args=[clinic.pk])

    client.post(
        setup,
        {"form": "room", "room-name": "Room A", "room-kind": "consulting", "room-step_free": "on"},
    )
    room = clinic.rooms.get()
    client.post(
        setup,
        {
            "form": "professional",
            "professional-name": "Dr Eye",
            "professional-discipline": "Eyes",
            "professional-rooms": [room.pk],
            "professional-present_from": "09:00",
            "professional-present_until": "11:00",
        },
    )
    pro = clinic.professionals.get()
    assert [(x.starts.hour, x.ends.hour) for x in pro.shifts.all()] == [(9, 11)]
    client.post(
        setup,
        {"form": "invite", "invite-patient": cast.patient.pk, "invite-round_table_minutes": 0},
    )
    invitation = clinic.invitations.get()
    response = client.post(
        setup,
        {
            "form": "appointment",
            "appointment-invitation": invitation.pk,
            "appointment-label": "Eye check",
            "appointment-minutes": 30,
            "appointment-professionals": [pro.pk],
            "appointment-rest_after_minutes": 0,
            "appointment-gap_minutes": 0,
        },
    )
    assert response.status_code == 302
    assert client.get(setup).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("care:clinic_plan", args=[clinic.pk]))

    clinic.refresh_from_db()
    assert clinic.status == "optimal"
    assert AuditEntry.objects.filter(
        action="care.clinic.room_added", actor=cast.care_coordinator
    ).exists()


def test_it_refuses_set_up_to_readers_and_other_tenants(cast, planned, as_user):
    setup = reverse("care:clinic_setup", args=[planned.clinic.pk])
    data = {"form": "room", "room-name": "Nope", "room-kind": "consulting"}

    assert as_user(cast.supervisor).post(setup, data).status_code == 403
    assert as_user(cast.outsider).post(setup, data).status_code == 404
    assert as_user(cast.supervisor).post(reverse("care:clinic_new"), {}).status_code == 403
    assert not planned.clinic.rooms.filter(name="Nope").exists()


def test_it_hides_itineraries_from_other_tenants(cast, planned, as_user):
    invitation = planned.invitations[0]
    for name in ("care:itinerary", "care:itinerary_pdf", "care:itinerary_ics", "care:travel"):
        assert as_user(cast.outsider).get(reverse(name, args=[invitation.pk])).status_code == 404


def test_it_puts_a_colleague_on_the_team_whose_role_decides_what_they_read(cast, as_user):
    fiona = staff(Role.CARE_COORDINATOR, cast.org, None, full_name="Fiona Family")
    note_add(
        patient=cast.patient, by=cast.care_coordinator, kind=CareNote.Kind.CLINICAL, text="Secret"
    )
    assert can_read_clinical_notes(user=fiona, patient=cast.patient)

    response = as_user(cast.care_coordinator).post(
        reverse("care:team_add", args=[cast.patient.pk]),
        {"member-user": fiona.pk, "member-role": TeamRole.FAMILY_SUPPORT_WORKER},
    )

    assert response.status_code == 302
    assert cast.patient.care_team.get().name == "Fiona Family"
    assert not can_read_clinical_notes(user=fiona, patient=cast.patient)
    missing = as_user(cast.care_coordinator).post(
        reverse("care:team_add", args=[cast.patient.pk]), {"member-role": TeamRole.CLINICIAN}
    )
    assert missing.status_code == 400


def test_it_sends_each_family_their_itinerary_once(
    cast, planned, as_user, django_capture_on_commit_callbacks
):
    from rarebridge.notify.models import Message

    client = as_user(cast.care_coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("care:clinic_send", args=[planned.clinic.pk]))
        client.post(reverse("care:clinic_send", args=[planned.clinic.pk]))

    ready = Message.objects.filter(template_key="care_itinerary_ready", channel="email")
    assert ready.count() == 2
    assert ChecklistEntry.objects.get(patient=cast.patient, key="itinerary-sent").status == "done"
    assert "Itinerary for Alström clinic, December sent to the family." in [
        line.text for line in timeline_for(patient=cast.patient)
    ]


def test_it_reports_an_incomplete_set_up_and_skips_a_superseded_request(cast):
    from rarebridge.care.services import clinic_create, clinic_plan_run

    clinic = clinic_create(site=cast.site, name="Empty", by=cast.care_coordinator)
    clinic.planning_since = clinic.created_at
    clinic.save()

    assert (
        clinic_plan_run(clinic_id=clinic.pk, since="2000-01-01T00:00:00+00:00", by_id=None)
        == "superseded"
    )
    clinic_plan_run(clinic_id=clinic.pk, since=clinic.planning_since.isoformat(), by_id=None)

    clinic.refresh_from_db()
    assert clinic.planning_since is None
    assert [r["title"] for r in explanations_for(clinic=clinic)] == ["The set-up is incomplete"]
