"""The care part of the demo: a two-day Alström-style one-stop clinic at the Hamburg site for
six demo patients, planned by the solver, with care teams, case plans, notes and travel.

Called once from ``seed_demo``; deterministic and idempotent (a second run changes nothing).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.models import (
    CareNote,
    ChecklistEntry,
    Clinic,
    RequiredAppointment,
    TeamRole,
    TravelLeg,
)
from rarebridge.care.services import (
    appointment_require,
    checklist_set,
    clinic_create,
    clinic_day_add,
    clinic_invite,
    clinic_itineraries_send,
    clinic_plan,
    clinic_professional_add,
    clinic_room_add,
    goal_add,
    note_add,
    task_add,
    team_member_add,
    travel_cost_add,
    travel_leg_add,
    travel_plan_set,
)
from rarebridge.network.models import Site

CLINIC_NAME = "Alström one-stop clinic (demo)"

# (key, name, discipline, rooms, shifts as (day, from, until) or None for all hours)
STAFF = (
    ("lead", "Dr Helene Brandt", "Metabolic medicine (lead consultant)", ("c1",), None),
    ("cardio", "Dr Jonas Weber", "Cardiology", ("echo",), None),
    ("resp", "Dr Mira Koch", "Respiratory medicine", ("c2",), None),
    ("eyes", "Dr Lukas Richter", "Ophthalmology", ("c3",), None),
    ("audio", "Dr Eva Hoffmann", "Audiology", ("c4",), None),
    ("audio-tech", "Paul Neumann", "Audiology technician", ("booth",), None),
    ("genetics", "Dr Sara Yilmaz", "Clinical genetics", ("c5",), ((0, time(9), time(17)),)),
    ("diabetes", "Dr Felix Schulz", "Diabetes", ("c6",), None),
    ("physio", "Anke Wolf", "Physiotherapy", ("gym",), None),
    (
        "psych",
        "Dr Lena Krüger",
        "Psychology",
        ("c7", "c8"),
        ((0, time(13), time(17)), (1, time(8, 30), time(17))),
    ),
    ("diet", "Marie Braun", "Dietetics", ("c8",), None),
    ("nurse-a", "Sarah Campbell", "Specialist nurse", ("bloods", "c1"), None),
    ("nurse-b", "Tobias Lange", "Specialist nurse", ("bloods", "c2"), None),
    ("pharm", "Jana Fischer", "Pharmacy", ("c6", "c8"), None),
)

ROOMS = (
    ("c1", "Consulting room 1", "consulting", True),
    ("c2", "Consulting room 2", "consulting", True),
    ("c3", "Eye clinic", "consulting", True),
    ("c4", "Consulting room 4", "consulting", True),
    ("c5", "Consulting room 5", "consulting", True),
    ("c6", "Consulting room 6", "consulting", True),
    ("c7", "Psychology room (first floor, no lift)", "consulting", False),
    ("c8", "Consulting room 8", "consulting", True),
    ("echo", "Echocardiography", "echo", True),
    ("booth", "Audiology booth", "audiology booth", True),
    ("gym", "Physiotherapy gym", "gym", True),
    ("bloods", "Blood room", "phlebotomy", True),
    ("meeting", "Family meeting room", "meeting", True),
)

# (key, English label, German label, professionals, minutes, extra)
VISITS: dict[str, tuple[str, str, tuple[str, ...], int, dict[str, Any]]] = {
    "bloods": (
        "Fasting blood tests",
        "Blutabnahme (nüchtern)",
        ("nurse-a", "nurse-b"),
        15,
        {"room_kind": "phlebotomy", "fasting": True},
    ),
    "metabolic": ("Metabolic review", "Stoffwechselsprechstunde", ("lead",), 30, {}),
    "cardio": ("Heart scan (echo)", "Herzultraschall", ("cardio",), 45, {"room_kind": "echo"}),
    "hearing": ("Hearing test", "Hörtest", ("audio-tech",), 30, {"room_kind": "audiology booth"}),
    "audiology": ("Audiology review", "Hörsprechstunde", ("audio",), 15, {}),
    "eyes": ("Eye examination", "Augenuntersuchung", ("eyes",), 30, {}),
    "psych": ("Psychology", "Psychologie", ("psych",), 30, {}),
    "diet": ("Dietitian", "Ernährungsberatung", ("diet",), 15, {}),
    "exercise": (
        "Exercise test",
        "Belastungstest",
        ("physio",),
        30,
        {"room_kind": "gym", "rest_after_minutes": 30},
    ),
    "genetics": ("Genetics", "Humangenetik", ("genetics",), 30, {}),
    "diabetes": ("Diabetes review", "Diabetessprechstunde", ("diabetes",), 30, {}),
    "resp": ("Lung function review", "Lungensprechstunde", ("resp",), 30, {}),
    "pharmacy": ("Medicines review", "Medikamentenberatung", ("pharm",), 15, {}),
}

# Per patient number: extra visits, step-free, family label.
PATIENTS = {
    1: (("exercise", "genetics", "diabetes"), False, "family-a"),
    2: (("genetics", "resp"), False, "family-a"),
    3: (("exercise", "diabetes", "pharmacy"), False, ""),
    4: (("diabetes", "resp"), True, ""),
    5: (("exercise", "pharmacy", "resp"), False, ""),
    6: (("genetics", "diabetes"), False, ""),
}


def _clinic_dates(today: date) -> tuple[date, date]:
    """A Tuesday and Wednesday at least three weeks ahead."""
    start = today + timedelta(days=21)
    start += timedelta(days=(1 - start.weekday()) % 7)
    return start, start + timedelta(days=1)


def care_demo_load(*, time_limit_seconds: float = 8.0) -> Clinic | None:
    """Build and plan the demo clinic; does nothing when it is there already."""
    site = Site.objects.filter(name="Hamburg").select_related("organisation").first()
    nurse = User.objects.filter(email="care.coordinator@rarebridge.test").first()
    patients = list(
        PatientProfile.objects.filter(site=site, user__email__regex=r"^patient0[1-6]\.de@")
        .select_related("user")
        .order_by("user__email")
    )
    if site is None or nurse is None or len(patients) < 6:
        return None
    existing = Clinic.objects.filter(site=site, name=CLINIC_NAME).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        clinic = _clinic(site=site, nurse=nurse, patients=patients)
        for number, patient in enumerate(patients, start=1):
            _care_team(patient=patient, nurse=nurse, number=number)
    clinic = clinic_plan(
        clinic=clinic, by=None, time_limit_seconds=time_limit_seconds, gap_limit=0.02
    )
    if clinic.has_timetable:
        clinic_itineraries_send(clinic=clinic, by=nurse)
    return clinic


def _clinic(*, site: Site, nurse: User, patients: list[PatientProfile]) -> Clinic:
    clinic = clinic_create(site=site, name=CLINIC_NAME, by=None)
    first, second = _clinic_dates(timezone.localdate())
    days = [
        clinic_day_add(
            clinic=clinic,
            day=d,
            opens=time(8, 30),
            closes=time(17, 0),
            breaks=[(time(12, 30), time(13, 0))],
            fasting_by=time(9, 30),
        )
        for d in (first, second)
    ]
    rooms = {
        key: clinic_room_add(clinic=clinic, name=name, kind=kind, step_free=step_free)
        for key, name, kind, step_free in ROOMS
    }
    staff = {
        key: clinic_professional_add(
            clinic=clinic,
            name=name,
            discipline=discipline,
            rooms=[rooms[r] for r in usable],
            shifts=[(days[d], a, b) for d, a, b in shifts or ()],
            user=nurse if key == "nurse-a" else None,
        )
        for key, name, discipline, usable, shifts in STAFF
    }
    for number, patient in enumerate(patients, start=1):
        extra, step_free, family = PATIENTS[number]
        invitation = clinic_invite(
            clinic=clinic,
            patient=patient,
            by=None,
            step_free=step_free,
            max_hours_a_day=Decimal("6.5"),
            lunch_minutes=30,
            family=family,
            round_table_minutes=15,
            round_table_team=[staff["lead"], staff["nurse-a"]],
        )
        made: dict[str, RequiredAppointment] = {}
        for key in (
            "bloods",
            "metabolic",
            "cardio",
            "hearing",
            "audiology",
            "eyes",
            "psych",
            "diet",
            *extra,
        ):
            label, german, pros, minutes, options = VISITS[key]
            after, gap = None, 0
            if key in ("metabolic", "diabetes"):
                after, gap = made["bloods"], 60  # the consultant reads the results
            elif key == "audiology":
                after = made["hearing"]
            made[key] = appointment_require(
                invitation=invitation,
                label=label,
                labels={"en": label, "de": german},
                professionals=[staff[p] for p in pros],
                minutes=minutes,
                after=after,
                gap_minutes=gap,
                sibling_block="eyes" if key == "eyes" and family else "",
                **options,
            )
        _travel(invitation=invitation, number=number, first=first, site=site)
    return clinic


def _travel(*, invitation, number: int, first: date, site: Site) -> None:
    zone = zoneinfo.ZoneInfo(site.time_zone)
    family_room = number in (1, 2, 4)
    plan = travel_plan_set(
        invitation=invitation,
        by=None,
        stay="family_room" if family_room else "hotel",
        stay_name="Family room, children's hospital" if family_room else "Hotel am Stadtpark",
        nights=2,
        assistance="Wheelchair at the station and a step-free room." if number == 4 else "",
    )
    eve = first - timedelta(days=1)
    travel_leg_add(
        plan=plan,
        by=None,
        mode=TravelLeg.Mode.TRAIN,
        departs_at=datetime.combine(eve, time(14, 5), tzinfo=zone),
        arrives_at=datetime.combine(eve, time(17, 40), tzinfo=zone),
        origin="Hannover Hbf" if number % 2 else "Kiel Hbf",
        destination="Hamburg Hbf",
        paid_by=TravelLeg.Payer.CHARITY,
        booked=True,
    )
    home = first + timedelta(days=1)
    travel_leg_add(
        plan=plan,
        by=None,
        mode=TravelLeg.Mode.TRAIN,
        departs_at=datetime.combine(home, time(18, 10), tzinfo=zone),
        arrives_at=datetime.combine(home, time(21, 30), tzinfo=zone),
        origin="Hamburg Hbf",
        destination="Hannover Hbf" if number % 2 else "Kiel Hbf",
        paid_by=TravelLeg.Payer.FAMILY,
        booked=number % 3 != 0,
    )
    travel_cost_add(
        plan=plan, by=None, what="Train tickets", amount=Decimal("118.40"), status="claimed"
    )
    if not family_room:
        travel_cost_add(plan=plan, by=None, what="Hotel, two nights", amount=Decimal("196.00"))


def _care_team(*, patient: PatientProfile, nurse: User, number: int) -> None:
    nurse_member = team_member_add(
        patient=patient, by=None, role=TeamRole.SPECIALIST_NURSE, user=nurse, specialty="Alström"
    )
    team_member_add(
        patient=patient, by=None, role=TeamRole.TRANSITION_COORDINATOR, name="Jan Hansen"
    )
    # The family support worker comes from the patient charity and has no account here.
    worker_member = team_member_add(
        patient=patient,
        by=None,
        role=TeamRole.FAMILY_SUPPORT_WORKER,
        name="Nele Petersen",
        specialty="Patient charity",
    )
    team_member_add(
        patient=patient,
        by=None,
        role=TeamRole.CLINICIAN,
        name="Dr Helene Brandt",
        specialty="Metabolic medicine",
    )
    today = timezone.localdate()
    goal = goal_add(
        patient=patient,
        by=nurse,
        title="Prepare the one-stop clinic visit",
        owner=nurse_member,
        due_on=today + timedelta(days=14),
    )
    task_add(
        goal=goal,
        by=nurse,
        title="Book travel and a room",
        owner=worker_member,
        due_on=today + timedelta(days=7),
    )
    task_add(
        goal=goal,
        by=nurse,
        title="Send the itinerary to the family",
        owner=nurse_member,
        due_on=today + timedelta(days=10),
    )
    school = goal_add(
        patient=patient, by=nurse, title="Agree support at school", owner=nurse_member
    )
    task_add(
        goal=school,
        by=nurse,
        title="Write to the school with the family's consent",
        owner=nurse_member,
    )
    note_add(
        patient=patient,
        by=nurse,
        kind=CareNote.Kind.CLINICAL,
        text="HbA1c rising since the last clinic; review with the diabetes team.",
    )
    note_add(
        patient=patient,
        by=nurse,
        kind=CareNote.Kind.TEAM,
        text="Family prefers the afternoon train; a sibling comes along (from the family support worker).",
    )
    for key, status in (
        ("travel-booked", "done"),
        ("stay-booked", "done"),
        ("itinerary-sent", "todo"),
    ):
        checklist_set(
            patient=patient, by=nurse, kind=ChecklistEntry.Kind.TRAVEL, key=key, status=status
        )
    checklist_set(
        patient=patient,
        by=nurse,
        kind=ChecklistEntry.Kind.TRANSITION,
        key="t16-medicines",
        status="in_progress" if number % 2 else "done",
    )
    checklist_set(
        patient=patient,
        by=nurse,
        kind=ChecklistEntry.Kind.BENEFITS,
        key="travel-costs",
        status="in_progress",
    )
