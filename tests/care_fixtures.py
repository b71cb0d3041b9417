"""A small one-day clinic at the cast's Hamburg site, for the care tests."""

from __future__ import annotations

from datetime import date, time

from rarebridge.care.services import (
    appointment_require,
    clinic_create,
    clinic_day_add,
    clinic_invite,
    clinic_professional_add,
    clinic_room_add,
)
from tests.factories import PatientFactory

CLINIC_DATE = date(2026, 12, 7)


def small_clinic(cast, *, patients=None):
    """One morning, a nurse (fasting bloods), an endocrinologist who reads them, an audiology
    technician and an audiologist; Anna and a second Hamburg patient."""
    clinic = clinic_create(
        site=cast.site, name="Alström clinic, December", by=cast.care_coordinator
    )
    day = clinic_day_add(
        clinic=clinic,
        day=CLINIC_DATE,
        opens=time(8, 30),
        closes=time(13, 0),
        breaks=[(time(10, 30), time(10, 45))],
    )
    bloods = clinic_room_add(clinic=clinic, name="Phlebotomy", kind="phlebotomy")
    c1 = clinic_room_add(clinic=clinic, name="Room 1")
    c2 = clinic_room_add(clinic=clinic, name="Room 2")
    booth = clinic_room_add(clinic=clinic, name="Audiology booth", kind="audiology booth")
    nurse = clinic_professional_add(
        clinic=clinic, name="Nina Nurse", discipline="Specialist nurse", rooms=[bloods, c1]
    )
    endo = clinic_professional_add(
        clinic=clinic, name="Dr Ender", discipline="Endocrinology", rooms=[c1]
    )
    tech = clinic_professional_add(
        clinic=clinic, name="Tom Tech", discipline="Audiology technician", rooms=[booth]
    )
    audio = clinic_professional_add(
        clinic=clinic, name="Dr Ohr", discipline="Audiology", rooms=[c2]
    )
    people = patients or [cast.patient, PatientFactory(site=cast.site, user__full_name="Ben Bauer")]
    invitations = []
    for patient in people:
        invitation = clinic_invite(
            clinic=clinic, patient=patient, by=cast.care_coordinator, lunch_minutes=0
        )
        blood = appointment_require(
            invitation=invitation,
            label="Fasting bloods",
            labels={"de": "Blutabnahme (nüchtern)"},
            professionals=[nurse],
            minutes=15,
            room_kind="phlebotomy",
            fasting=True,
        )
        appointment_require(
            invitation=invitation,
            label="Endocrinology",
            labels={"de": "Endokrinologie"},
            professionals=[endo],
            minutes=30,
            after=blood,
            gap_minutes=30,
        )
        hearing = appointment_require(
            invitation=invitation,
            label="Hearing test",
            labels={"de": "Hörtest"},
            professionals=[tech],
            minutes=30,
            room_kind="audiology booth",
        )
        appointment_require(
            invitation=invitation,
            label="Audiology review",
            labels={"de": "Hörsprechstunde"},
            professionals=[audio],
            minutes=15,
            after=hearing,
        )
        invitations.append(invitation)
    return type(
        "Small",
        (),
        {
            "clinic": clinic,
            "day": day,
            "invitations": invitations,
            "nurse": nurse,
            "endo": endo,
            "tech": tech,
            "audio": audio,
            "rooms": {"bloods": bloods, "c1": c1, "c2": c2, "booth": booth},
        },
    )
