"""The families invited to a clinic and the appointments each needs: added, changed and
withdrawn while they are not in the timetable (then "cannot come" and "cancel" take them off,
in ``clinic_changes``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.models import (
    Clinic,
    ClinicDay,
    ClinicInvitation,
    ClinicProfessional,
    RequiredAppointment,
    TravelPlan,
)
from rarebridge.care.services._common import _record, _setup_changed
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log


@transaction.atomic
def clinic_invite(
    *,
    clinic: Clinic,
    patient: PatientProfile,
    by: Actor | User | None,
    days: list[ClinicDay] = (),  # type: ignore[assignment]
    step_free: bool = False,
    max_hours_a_day: Decimal | None = None,
    lunch_minutes: int = 30,
    family: str = "",
    round_table_minutes: int = 0,
    round_table_team: list[ClinicProfessional] = (),  # type: ignore[assignment]
) -> ClinicInvitation:
    if patient.organisation_id != clinic.organisation_id:
        raise ValidationError(_("The patient belongs to another organisation."))
    if clinic.invitations.filter(patient=patient).exists():
        raise ValidationError(_("The patient is invited already."))
    _check_invitation(clinic=clinic, days=days, round_table_team=round_table_team)
    invitation = ClinicInvitation.objects.create(
        organisation_id=clinic.organisation_id,
        clinic=clinic,
        patient=patient,
        step_free=step_free,
        max_hours_a_day=max_hours_a_day,
        lunch_minutes=lunch_minutes,
        family=family,
        round_table_minutes=round_table_minutes,
    )
    invitation.days.set(days)
    invitation.round_table_team.set(round_table_team)
    _record(
        action="care.clinic.invited",
        by=by,
        obj=invitation,
        patient=patient,
        clinic=clinic.name,
    )
    _setup_changed(clinic)
    return invitation


def _check_invitation(*, clinic: Clinic, days, round_table_team) -> None:
    if any(d.clinic_id != clinic.pk for d in days) or any(
        p.clinic_id != clinic.pk for p in round_table_team
    ):
        raise ValidationError(_("Choose days and people of this clinic."))


@transaction.atomic
def clinic_invitation_update(
    *,
    invitation: ClinicInvitation,
    by: Actor | User | None,
    days: list[ClinicDay] = (),  # type: ignore[assignment]
    step_free: bool = False,
    max_hours_a_day: Decimal | None = None,
    lunch_minutes: int = 30,
    family: str = "",
    round_table_minutes: int = 0,
    round_table_team: list[ClinicProfessional] = (),  # type: ignore[assignment]
) -> ClinicInvitation:
    """Change what an invited family needs around their appointments."""
    clinic = invitation.clinic
    _check_invitation(clinic=clinic, days=days, round_table_team=round_table_team)

    def state(inv, day_ids, team_ids):
        hours = None if inv.max_hours_a_day is None else Decimal(inv.max_hours_a_day)
        return (
            inv.step_free,
            hours,
            inv.lunch_minutes,
            inv.family,
            inv.round_table_minutes,
            day_ids,
            team_ids,
        )

    before = state(
        invitation,
        {d.pk for d in invitation.days.all()},
        {p.pk for p in invitation.round_table_team.all()},
    )
    invitation.step_free = step_free
    invitation.max_hours_a_day = max_hours_a_day
    invitation.lunch_minutes = lunch_minutes
    invitation.family = family
    invitation.round_table_minutes = round_table_minutes
    invitation.save()
    invitation.days.set(days)
    invitation.round_table_team.set(round_table_team)
    changed = before != state(invitation, {d.pk for d in days}, {p.pk for p in round_table_team})
    _record(
        action="care.invitation.updated",
        by=by,
        obj=invitation,
        patient=invitation.patient,
        clinic=clinic.name,
    )
    if changed:
        _setup_changed(clinic)
    return invitation


@transaction.atomic
def clinic_invitation_remove(*, invitation: ClinicInvitation, by: Actor | User | None) -> None:
    """Withdraw an invitation made by mistake. A family with appointments in the timetable or
    with travel arranged is taken off with "cannot come" instead, which keeps the record."""
    name = invitation.patient.user.full_name
    if invitation.visits.exists():
        raise ValidationError(
            _(
                "%(name)s has appointments in the timetable. If they cannot come, take them "
                "off on the planning page: the clinic is re-planned around them."
            )
            % {"name": name}
        )
    if TravelPlan.objects.filter(invitation=invitation).exists():
        raise ValidationError(
            _(
                "Travel and stay are arranged for %(name)s. If they cannot come, take them off "
                "on the planning page: the travel record is kept."
            )
            % {"name": name}
        )
    clinic = invitation.clinic
    _record(
        action="care.invitation.removed",
        by=by,
        obj=clinic,
        patient=invitation.patient,
        clinic=clinic.name,
    )
    invitation.delete()
    _setup_changed(clinic)


def _clean_labels(labels: dict[str, str] | None) -> dict[str, str]:
    return {k: v.strip() for k, v in (labels or {}).items() if v and v.strip()}


def _check_appointment(
    *,
    invitation: ClinicInvitation,
    professionals: list[ClinicProfessional],
    after: RequiredAppointment | None,
    appointment: RequiredAppointment | None = None,
) -> None:
    if after is not None and after.invitation_id != invitation.pk:
        raise ValidationError(_("An appointment can only follow one of the same patient's."))
    if appointment is not None and after is not None:
        # Following itself, or something that (in the end) follows it, can never be planned.
        seen: set[int] = set()
        step: RequiredAppointment | None = after
        while step is not None and step.pk not in seen:
            if step.pk == appointment.pk:
                raise ValidationError(_("An appointment cannot come after itself."))
            seen.add(step.pk)
            step = step.after
    if not professionals or any(p.clinic_id != invitation.clinic_id for p in professionals):
        raise ValidationError(_("Choose who sees the patient from this clinic's professionals."))


@transaction.atomic
def appointment_require(
    *,
    invitation: ClinicInvitation,
    label: str,
    professionals: list[ClinicProfessional],
    minutes: int,
    labels: dict[str, str] | None = None,
    room_kind: str = "",
    fasting: bool = False,
    rest_after_minutes: int = 0,
    after: RequiredAppointment | None = None,
    gap_minutes: int = 0,
    sibling_block: str = "",
    by: Actor | User | None = None,
) -> RequiredAppointment:
    _check_appointment(invitation=invitation, professionals=professionals, after=after)
    appointment = RequiredAppointment.objects.create(
        invitation=invitation,
        label=label,
        labels=_clean_labels(labels),
        minutes=minutes,
        room_kind=room_kind,
        fasting=fasting,
        rest_after_minutes=rest_after_minutes,
        after=after,
        gap_minutes=gap_minutes,
        sibling_block=sibling_block,
    )
    appointment.professionals.set(professionals)
    audit_log(
        action="care.clinic.appointment_required",
        actor=by,
        obj=invitation,
        payload={"label": label, "minutes": minutes},
    )
    _setup_changed(invitation.clinic)
    return appointment


@transaction.atomic
def appointment_update(
    *,
    appointment: RequiredAppointment,
    label: str,
    professionals: list[ClinicProfessional],
    minutes: int,
    labels: dict[str, str] | None = None,
    room_kind: str = "",
    fasting: bool = False,
    rest_after_minutes: int = 0,
    after: RequiredAppointment | None = None,
    gap_minutes: int = 0,
    by: Actor | User | None = None,
) -> RequiredAppointment:
    """Change what an appointment needs; its name in any language needs no new plan."""
    invitation = appointment.invitation
    _check_appointment(
        invitation=invitation, professionals=professionals, after=after, appointment=appointment
    )
    fields = ("minutes", "room_kind", "fasting", "rest_after_minutes", "after_id", "gap_minutes")
    before = (
        *(getattr(appointment, f) for f in fields),
        {p.pk for p in appointment.professionals.all()},
    )
    appointment.label = label
    appointment.labels = _clean_labels(labels)
    appointment.minutes = minutes
    appointment.room_kind = room_kind
    appointment.fasting = fasting
    appointment.rest_after_minutes = rest_after_minutes
    appointment.after = after
    appointment.gap_minutes = gap_minutes
    appointment.save()
    appointment.professionals.set(professionals)
    changed = before != (
        *(getattr(appointment, f) for f in fields),
        {p.pk for p in professionals},
    )
    audit_log(
        action="care.clinic.appointment_updated",
        actor=by,
        obj=invitation,
        payload={"appointment": appointment.pk, "label": label, "changed": changed},
    )
    if changed:
        _setup_changed(invitation.clinic)
    return appointment


@transaction.atomic
def appointment_remove(*, appointment: RequiredAppointment, by: Actor | User | None) -> None:
    """Take an appointment off a family's list. One in the timetable is cancelled instead, so
    the clinic is re-planned and the family told."""
    invitation = appointment.invitation
    if appointment.visits.exists():
        raise ValidationError(
            _(
                "“%(what)s” for %(name)s is in the timetable. Cancel it on the planning page "
                "instead: the clinic is re-planned and the family is told."
            )
            % {"what": appointment.label, "name": invitation.patient.user.full_name}
        )
    _record(
        action="care.appointment.removed",
        by=by,
        obj=invitation,
        patient=invitation.patient,
        label=appointment.label,
    )
    appointment.delete()
    _setup_changed(invitation.clinic)
