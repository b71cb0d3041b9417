"""A family's itinerary and travel, and the professionals' and rooms' day sheets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.care.models import (
    Clinic,
    ClinicInvitation,
    ClinicProfessional,
    ClinicRoom,
    RequiredAppointment,
    ScheduledVisit,
    TravelPlan,
)
from rarebridge.care.selectors.clinics import clinics_for_user
from rarebridge.care.selectors.patients import care_patient_get_for_user
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm


def invitation_get_for_user(
    *, by: Actor | User, id: int, need: Perm = Perm.CARE_VIEW
) -> ClinicInvitation:
    """A staff member's read of one family's itinerary and travel: an invitation to a clinic
    they read (else 404); the read is of the patient's care, with ``need`` (404, 403, audited)."""
    invitation = get_for_actor(
        ClinicInvitation.objects.filter(
            clinic__in=clinics_for_user(user=user_of(by))
        ).select_related("clinic__site", "patient__user"),
        by=by,
        pk=id,
    )
    care_patient_get_for_user(by=by, id=invitation.patient_id, need=need)
    return invitation


def own_invitations(*, user: User) -> QuerySet[ClinicInvitation]:
    """The clinics a patient is invited to (their own only)."""
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return ClinicInvitation.objects.none()
    return (
        ClinicInvitation.objects.filter(patient=profile, status=ClinicInvitation.Status.INVITED)
        .select_related("clinic__site", "patient__user")
        .order_by("-clinic_id")
    )


def own_invitation_get(*, user: User, id: int) -> ClinicInvitation:
    invitation = own_invitations(user=user).filter(pk=id).first()
    if invitation is None:
        raise Http404
    return invitation


@dataclass(frozen=True)
class ItineraryLine:
    starts_at: Any
    ends_at: Any
    kind: str
    what: str
    room: str
    step_free: bool
    who: str
    note: str


def _label(visit: ScheduledVisit, language: str) -> str:
    if visit.kind == ScheduledVisit.Kind.LUNCH:
        return _("Lunch break")
    if visit.kind == ScheduledVisit.Kind.ROUND_TABLE:
        return _("Round table with your care team")
    appointment = visit.appointment
    assert appointment is not None
    return appointment_label(appointment, language)


def appointment_label(appointment: RequiredAppointment, language: str | None) -> str:
    """The appointment's name in ``language`` ("de", "de-at"), else the one staff entered."""
    code = (language or "").split("-")[0].lower()
    return (appointment.labels or {}).get(code, "").strip() or appointment.label


def itinerary_for(*, invitation: ClinicInvitation, language: str) -> list[dict[str, Any]]:
    """The family's itinerary by day: [{"day": ClinicDay, "lines": [ItineraryLine]}]."""
    visits = (
        invitation.visits.select_related("appointment", "room", "day")
        .prefetch_related("professionals")
        .order_by("starts_at")
    )
    days: dict[Any, list[ItineraryLine]] = defaultdict(list)
    for visit in visits:
        note = ""
        if visit.appointment is not None and visit.appointment.fasting:
            note = _("Come without breakfast: nothing to eat or drink but water before this.")
        elif visit.appointment is not None and visit.appointment.rest_after_minutes:
            note = _("A rest follows this test.")
        days[visit.day].append(
            ItineraryLine(
                starts_at=visit.starts_at,
                ends_at=visit.ends_at,
                kind=visit.kind,
                what=_label(visit, language),
                room=visit.room.name if visit.room else "",
                step_free=bool(visit.room and visit.room.step_free),
                who=", ".join(p.name for p in visit.professionals.all()),
                note=note,
            )
        )
    return [
        {"day": day, "lines": lines} for day, lines in sorted(days.items(), key=lambda d: d[0].date)
    ]


def day_sheets(
    *,
    clinic: Clinic,
    by: Actor | User,
    professional: ClinicProfessional | None = None,
    room: ClinicRoom | None = None,
):
    """One professional's or one room's visits, by day. It names patients, so it is logged."""
    audit_log(
        action="care.day_sheet.viewed",
        actor=by,
        obj=clinic,
        payload={
            "professional": professional.pk if professional else None,
            "room": room.pk if room else None,
        },
    )
    visits = clinic.visits.exclude(kind=ScheduledVisit.Kind.LUNCH).select_related(
        "appointment", "room", "day", "invitation__patient__user"
    )
    if professional is not None:
        visits = visits.filter(professionals=professional)
    if room is not None:
        visits = visits.filter(room=room)
    days: dict[Any, list[ScheduledVisit]] = defaultdict(list)
    for visit in visits.order_by("starts_at"):
        days[visit.day].append(visit)
    return [{"day": d, "visits": v} for d, v in sorted(days.items(), key=lambda x: x[0].date)]


def travel_for(*, invitation: ClinicInvitation) -> TravelPlan | None:
    return (
        TravelPlan.objects.filter(invitation=invitation).prefetch_related("legs", "costs").first()
    )
