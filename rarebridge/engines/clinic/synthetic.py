"""A deterministic synthetic one-stop clinic, shaped like the published Alström clinics: two
days, a dozen specialties, fasting bloods, a hearing test before the audiology review, an
exercise test that needs rest, siblings seen back to back, and a round table to close.

For benchmarks, demos and tests; the same ``seed`` always gives the same clinic.
"""

from __future__ import annotations

import random
from datetime import time

from rarebridge.engines.clinic.model import (
    Appointment,
    Clinic,
    Day,
    Group,
    Lunch,
    Patient,
    Precedence,
    Professional,
    Room,
    RoundTable,
    Shift,
)

# (id, name, rooms, shifts as (day, start, end) or None for all opening hours).
_STAFF: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[int, int, int], ...] | None], ...] = (
    ("imd-a", "Metabolic consultant A", ("c1", "c2"), None),
    ("imd-b", "Metabolic consultant B", ("c2", "c1"), None),
    ("cardio", "Cardiologist", ("echo",), None),
    ("resp", "Respiratory physician", ("c3",), None),
    ("eyes", "Ophthalmologist", ("c4",), None),
    ("audio", "Audiologist", ("c5",), None),
    ("audio-tech", "Audiology technician", ("booth",), None),
    ("genetics", "Geneticist", ("c6",), ((0, 2, 36),)),
    ("diabetes", "Diabetes consultant", ("c7",), None),
    ("physio", "Physiotherapist", ("gym",), None),
    ("psych", "Psychologist", ("c8",), ((0, 20, 36), (1, 2, 36))),
    ("diet", "Dietitian", ("c9", "c12"), None),
    ("nurse-a", "Specialist nurse A", ("bloods-1", "c10"), None),
    ("nurse-b", "Specialist nurse B", ("bloods-2", "c10"), None),
    ("pharm", "Pharmacist", ("c11", "c10"), None),
)

_ROOMS = (
    *(Room(id=f"c{i}", kind="consulting", step_free=i not in (9, 11)) for i in range(1, 13)),
    Room(id="echo", kind="echo"),
    Room(id="booth", kind="audiology booth"),
    Room(id="gym", kind="gym"),
    Room(id="bloods-1", kind="phlebotomy"),
    Room(id="bloods-2", kind="phlebotomy"),
    Room(id="meeting-1", kind="meeting"),
    Room(id="meeting-2", kind="meeting"),
)


def synthetic_clinic(*, patients: int = 20, seed: int = 0) -> Clinic:
    """Two days, 08:30 to 17:00 in 15-minute steps, fifteen professionals, ``patients`` patients
    with 10 to 13 appointments each."""
    rng = random.Random(seed)
    day = Day(opens=2, closes=36)  # 08:30 to 17:00 when step 0 is 08:00
    staff = tuple(
        Professional(
            id=pro_id,
            name=name,
            rooms=rooms,
            hours=None
            if shifts is None
            else tuple(Shift(day=d, start=start, end=end) for d, start, end in shifts),
        )
        for pro_id, name, rooms, shifts in _STAFF
    )
    people = tuple(_patient(index=i, rng=rng) for i in range(patients))
    groups = []
    # Two pairs of siblings: eyes and psychology back to back, so the family waits once.
    for first in range(0, min(patients - 1, 8), 4):
        a, b = people[first], people[first + 1]
        groups.append(
            Group(
                id=f"family-{first}",
                patients=(a.id, b.id),
                back_to_back=((f"{a.id}-eyes", f"{b.id}-eyes"), (f"{a.id}-psych", f"{b.id}-psych")),
            )
        )
    return Clinic(
        days=(day, day),
        rooms=_ROOMS,
        professionals=staff,
        patients=people,
        groups=tuple(groups),
        step_minutes=15,
        day_starts_at=time(8, 0),
    )


def _patient(*, index: int, rng: random.Random) -> Patient:
    pid = f"p{index + 1:02d}"
    lead = "imd-a" if index % 2 == 0 else "imd-b"
    siblings = index % 4 in (0, 1) and index < 8

    def visit(
        name: str,
        pros: tuple[str, ...],
        steps: int,
        room_kind: str | None = None,
        fasting: bool = False,
        rest_after: int = 0,
    ) -> Appointment:
        return Appointment(
            id=f"{pid}-{name}",
            label=name,
            professionals=pros,
            duration=steps,
            room_kind=room_kind,
            fasting=fasting,
            rest_after=rest_after,
        )

    appointments = [
        visit("bloods", ("nurse-a", "nurse-b"), 1, room_kind="phlebotomy", fasting=True),
        visit("metabolic", (lead,), 2),
        visit("cardiology", ("cardio",), rng.choice((2, 3)), room_kind="echo"),
        visit("hearing-test", ("audio-tech",), 2, room_kind="audiology booth"),
        visit("audiology", ("audio",), 1),
        visit("eyes", ("eyes",), 2),
        visit("psych", ("psych",), 2),
        visit("diet", ("diet",), 1),
        visit("nurse", ("nurse-a", "nurse-b"), 1),
    ]
    precedences = [
        Precedence(before=f"{pid}-bloods", after=f"{pid}-metabolic", min_gap=4),
        Precedence(before=f"{pid}-hearing-test", after=f"{pid}-audiology"),
    ]
    if rng.random() < 0.7:
        appointments.append(visit("exercise-test", ("physio",), 2, room_kind="gym", rest_after=2))
    if rng.random() < 0.5 or siblings:
        appointments.append(visit("genetics", ("genetics",), 2))
    if rng.random() < 0.6:
        appointments.append(visit("diabetes", ("diabetes",), 2))
        precedences.append(Precedence(before=f"{pid}-bloods", after=f"{pid}-diabetes", min_gap=4))
    if rng.random() < 0.5:
        appointments.append(visit("respiratory", ("resp",), 2))
    if rng.random() < 0.5:
        appointments.append(visit("pharmacy", ("pharm",), 1))
    return Patient(
        id=pid,
        name=f"Patient {index + 1}",
        appointments=tuple(appointments),
        precedences=tuple(precedences),
        max_span=26,  # six and a half hours a day
        lunch=Lunch(earliest=16, latest=24, duration=2),  # 30 minutes between 12:00 and 14:00
        step_free=index % 5 == 3,
        round_table=RoundTable(
            id=f"{pid}-round-table", team=(lead, "nurse-a"), duration=1, room_kind="meeting"
        ),
    )
