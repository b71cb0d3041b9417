"""Timetables for one-stop multidisciplinary clinics (a patient sees 10 to 15 professionals over
one or two days), built with OR-Tools CP-SAT.

Plain frozen dataclasses in (``Clinic`` and what it holds), a ``Schedule`` out: per patient an
itinerary, per professional and per room a day sheet, the objective with the solver's bound
and gap (also on the changeable part alone), a ``Summary`` in minutes for people, and, when
no timetable exists, explanations naming the rules and the people. The search is limited by
deterministic work: the same clinic gives the same plan on any machine.

    schedule = solve(clinic=clinic, options=SolveOptions(time_limit_seconds=20))
    baseline = solve_greedy(clinic=clinic)
    reasons = explain(clinic=clinic)                       # also in schedule.explanations
    later = replan(clinic=cancel_appointment(clinic=clinic, appointment_id="p3-echo"),
                   previous=schedule)

Rules kept in every timetable: appointments inside opening hours and never across a break; a
professional sees one patient at a time, inside their hours, in a room they can use; a room
holds one appointment at a time; a patient is in one place at a time, on the days they
attend, in a room of the kind the appointment needs and step-free if they need it; fasting
tests open the patient's day and start by the deadline; long tests are followed by rest;
precedences with their gaps; a lunch break inside the patient's window; a daily maximum span;
back-to-back blocks for families; the round table after all of a patient's appointments with
the whole team present. The objective is described on ``Weights``; how the search is split
(mornings and afternoons first, then the full model) on ``SolveOptions.sessions``.

Pure Python: no Django, no other RareBridge app. The care app adapts its models to these.
"""

from rarebridge.engines.clinic.greedy import solve_greedy
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
    Window,
    cancel_appointment,
    cancel_patient,
    professional_late,
    validate,
)
from rarebridge.engines.clinic.options import Keep, SolveOptions, Weights
from rarebridge.engines.clinic.replan import replan
from rarebridge.engines.clinic.results import (
    Cost,
    DaySheet,
    Explanation,
    Itinerary,
    LunchBreak,
    Rule,
    Schedule,
    Status,
    Summary,
    Visit,
)
from rarebridge.engines.clinic.solver import explain, solve

__all__ = [
    "Appointment",
    "Clinic",
    "Cost",
    "Day",
    "DaySheet",
    "Explanation",
    "Group",
    "Itinerary",
    "Keep",
    "Lunch",
    "LunchBreak",
    "Patient",
    "Precedence",
    "Professional",
    "Room",
    "RoundTable",
    "Rule",
    "Schedule",
    "Shift",
    "SolveOptions",
    "Status",
    "Summary",
    "Visit",
    "Weights",
    "Window",
    "cancel_appointment",
    "cancel_patient",
    "explain",
    "professional_late",
    "replan",
    "solve",
    "solve_greedy",
    "validate",
]
