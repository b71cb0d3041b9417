"""Clinics: who may read and manage them, their set-up, what the timetable uses."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from rarebridge.accounts.models import User
from rarebridge.care.models import (
    Clinic,
    ClinicProfessional,
    ClinicRoom,
    RequiredAppointment,
    ScheduledVisit,
)
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.permissions import Perm, user_has_perm


def clinics_for_user(*, user: User) -> QuerySet[Clinic]:
    if not user_has_perm(user, Perm.CARE_VIEW):
        return Clinic.objects.none()
    return Clinic.objects.filter(organisation_id__in=user.organisation_ids).select_related("site")


def clinic_get_for_user(*, by: Actor | User, id: int, need: Perm = Perm.CARE_VIEW) -> Clinic:
    """A clinic of the person's organisations (else 404), with ``need`` (else 403)."""
    user = user_of(by)
    return get_for_actor(
        clinics_for_user(user=user), by=by, allowed=_clinic_need(user, need), pk=id
    )


def _clinic_need(user: User, need: Perm):
    """The test of ``need`` beyond reading the clinic (None: reading is enough)."""
    if need == Perm.CARE_VIEW:
        return None
    return lambda _clinic: user_has_perm(user, need)


def clinic_overview(*, clinic: Clinic) -> dict[str, Any]:
    invitations = list(
        clinic.invitations.select_related("patient__user").prefetch_related(
            Prefetch(
                "appointments",
                queryset=RequiredAppointment.objects.prefetch_related("professionals"),
            )
        )
    )
    return {
        "days": list(clinic.days.prefetch_related("breaks")),
        "rooms": list(clinic.rooms.all()),
        "professionals": list(clinic.professionals.prefetch_related("rooms", "shifts__day")),
        "invitations": invitations,
    }


SETUP_KINDS = ("day", "room", "professional", "invite", "appointment")


def clinic_setup_item_get(*, clinic: Clinic, kind: str, id: int):
    """One day, room, professional, invitation or required appointment of this clinic."""
    rows: dict[str, QuerySet] = {
        "day": clinic.days.prefetch_related("breaks"),
        "room": clinic.rooms.all(),
        "professional": clinic.professionals.prefetch_related("rooms", "shifts__day"),
        "invite": clinic.invitations.select_related("patient__user").prefetch_related(
            "days", "round_table_team"
        ),
        "appointment": RequiredAppointment.objects.filter(invitation__clinic=clinic)
        .select_related("invitation__patient__user", "invitation__clinic")
        .prefetch_related("professionals"),
    }
    if kind not in rows:
        raise Http404
    found = rows[kind].filter(pk=id).first()
    if found is None:
        raise Http404
    return found


def clinic_setup_usage(*, clinic: Clinic) -> dict[str, set[int]]:
    """What the stored timetable uses, by kind: removing any of it changes families' days."""
    used: dict[str, set[int]] = {kind: set() for kind in SETUP_KINDS}
    visits = clinic.visits.exclude(kind=ScheduledVisit.Kind.LUNCH)
    for day_id, room_id, invitation_id, appointment_id in visits.values_list(
        "day_id", "room_id", "invitation_id", "appointment_id"
    ):
        used["day"].add(day_id)
        used["room"].add(room_id)
        used["invite"].add(invitation_id)
        if appointment_id:
            used["appointment"].add(appointment_id)
    used["professional"] = set(
        ScheduledVisit.professionals.through.objects.filter(
            scheduledvisit__clinic=clinic
        ).values_list("clinicprofessional_id", flat=True)
    )
    return used


def appointment_get_for_user(*, by: Actor | User, id: int) -> RequiredAppointment:
    """An appointment of a clinic the person reads (else 404) and manages (else 403)."""
    user = user_of(by)
    return get_for_actor(
        RequiredAppointment.objects.filter(
            invitation__clinic__in=clinics_for_user(user=user)
        ).select_related("invitation__clinic"),
        by=by,
        allowed=_clinic_need(user, Perm.CARE_MANAGE),
        pk=id,
    )


def professional_get(*, clinic: Clinic, id: int) -> ClinicProfessional:
    found = clinic.professionals.filter(pk=id).first()
    if found is None:
        raise Http404
    return found


def room_get(*, clinic: Clinic, id: int) -> ClinicRoom:
    found = clinic.rooms.filter(pk=id).first()
    if found is None:
        raise Http404
    return found
