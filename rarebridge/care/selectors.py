"""Permission-checked reads of care data. 404 for no access, 403 for read-only access.

Note visibility follows role: a clinical note is read by those whose organisation role may
read clinical notes, unless their role on *this patient's* care team is not a clinical one
(a family support worker from the patient charity arranges travel, not treatment).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.care.content import checklist_titles
from rarebridge.care.models import (
    CLINICAL_TEAM_ROLES,
    CareEvent,
    CareNote,
    CareTeamMember,
    CaseGoal,
    CaseTask,
    ChecklistEntry,
    Clinic,
    ClinicInvitation,
    ClinicProfessional,
    ClinicReplan,
    ClinicRoom,
    RequiredAppointment,
    ScheduledVisit,
    TravelPlan,
)
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has, user_has_perm

# --- patients, team, notes ----------------------------------------------------------------


def care_patients_for_user(*, user: User) -> QuerySet[PatientProfile]:
    return patients_for_user(user=user, perm=Perm.CARE_VIEW)


def care_patient_get_for_user(
    *, user: User, id: int, need: Perm = Perm.CARE_VIEW, request: HttpRequest | None = None
) -> PatientProfile:
    patient = care_patients_for_user(user=user).filter(pk=id).first()
    if patient is None:
        raise Http404
    if (
        need != Perm.CARE_VIEW
        and not patients_for_user(user=user, perm=need).filter(pk=id).exists()
    ):
        raise PermissionDenied
    audit_log(
        action="care.patient.viewed",
        actor=user,
        obj=patient,
        payload={"need": str(need)},
        request=request,
    )
    return patient


def can_read_clinical_notes(*, user: User, patient: PatientProfile) -> bool:
    if (
        not patients_for_user(user=user, perm=Perm.CLINICAL_NOTES_VIEW)
        .filter(pk=patient.pk)
        .exists()
    ):
        return False
    roles = set(
        CareTeamMember.objects.filter(patient=patient, user=user, active=True).values_list(
            "role", flat=True
        )
    )
    return not roles or bool(roles & CLINICAL_TEAM_ROLES)


def notes_for_user(*, user: User, patient: PatientProfile) -> QuerySet[CareNote]:
    notes = CareNote.objects.filter(patient=patient).select_related("author")
    if not can_read_clinical_notes(user=user, patient=patient):
        notes = notes.exclude(kind=CareNote.Kind.CLINICAL)
    return notes


def care_staff_for_user(*, user: User) -> QuerySet[User]:
    """People of the user's organisations whose role works with care data (for the team)."""
    roles = [str(r) for r in Role if role_has(r, Perm.CARE_VIEW)]
    return (
        User.objects.filter(
            role_assignments__organisation_id__in=user.organisation_ids,
            role_assignments__role__in=roles,
            role_assignments__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("full_name")
    )


def team_for(*, patient: PatientProfile) -> QuerySet[CareTeamMember]:
    return CareTeamMember.objects.filter(patient=patient, active=True).select_related("user")


def goals_for(*, patient: PatientProfile) -> QuerySet[CaseGoal]:
    return (
        CaseGoal.objects.filter(patient=patient)
        .select_related("owner")
        .prefetch_related(Prefetch("tasks", queryset=CaseTask.objects.select_related("owner")))
    )


def goal_get_for_user(*, user: User, id: int) -> CaseGoal:
    goal = CaseGoal.objects.filter(pk=id).select_related("patient").first()
    if goal is None:
        raise Http404
    care_patient_get_for_user(user=user, id=goal.patient_id, need=Perm.CARE_MANAGE)
    return goal


def task_get_for_user(*, user: User, id: int) -> CaseTask:
    task = CaseTask.objects.filter(pk=id).select_related("goal__patient").first()
    if task is None:
        raise Http404
    care_patient_get_for_user(user=user, id=task.goal.patient_id, need=Perm.CARE_MANAGE)
    return task


TIMELINE_TEXT = {
    "care.team.member_added": gettext_lazy("%(name)s joined the care team."),
    "care.goal.added": gettext_lazy("Goal added: %(title)s"),
    "care.task.added": gettext_lazy("Task added: %(title)s"),
    "care.task.completed": gettext_lazy("Task done: %(title)s"),
    "care.note.added": gettext_lazy("A note was written."),
    "care.checklist.updated": gettext_lazy("Checklist updated: “%(item)s” is now: %(status)s."),
    "care.letter.written": gettext_lazy("A letter to school was written."),
    "care.clinic.invited": gettext_lazy("Invited to the clinic %(clinic)s."),
    "care.clinic.planned": gettext_lazy("Itinerary planned for %(clinic)s."),
    "care.itinerary.changed": gettext_lazy(
        "Itinerary for %(clinic)s changed; the family was told."
    ),
    "care.itinerary.sent": gettext_lazy("Itinerary for %(clinic)s sent to the family."),
    "care.invitation.cancelled": gettext_lazy("No longer coming to %(clinic)s."),
    "care.appointment.cancelled": gettext_lazy("Appointment cancelled: %(label)s"),
    "care.appointment.removed": gettext_lazy("Appointment taken off the clinic set-up: %(label)s"),
    "care.invitation.updated": gettext_lazy("Arrangements for %(clinic)s changed."),
    "care.invitation.removed": gettext_lazy("Invitation to %(clinic)s withdrawn."),
    "care.travel.updated": gettext_lazy("Travel and stay updated for %(clinic)s."),
}


@dataclass(frozen=True)
class TimelineLine:
    at: Any
    actor: str
    text: str


def _checklist_params(
    params: dict[str, Any], *, patient: PatientProfile, titles: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """A checklist line names the item and its status as the reader reads them, not as stored."""
    kind, key, status = params.get("kind", ""), params.get("key", ""), params.get("status", "")
    if not titles:
        titles.update(checklist_titles(country=patient.country_id))
    return {
        **params,
        "item": titles.get((kind, key), key),
        "status": ChecklistEntry.Status(status).label
        if status in ChecklistEntry.Status.values
        else status,
    }


def timeline_for(*, patient: PatientProfile, limit: int = 100) -> list[TimelineLine]:
    """The patient's care timeline, newest first, in the reader's language."""
    lines = []
    titles: dict[tuple[str, str], str] = {}
    for event in CareEvent.objects.filter(patient=patient).select_related("actor")[:limit]:
        template = TIMELINE_TEXT.get(event.code)
        params = event.params
        if event.code == "care.checklist.updated":
            params = _checklist_params(params, patient=patient, titles=titles)
        try:
            text = str(template) % params if template else event.code
        except (KeyError, TypeError, ValueError):
            text = event.code
        lines.append(
            TimelineLine(at=event.at, actor=str(event.actor) if event.actor else "", text=text)
        )
    return lines


def checklist_state(*, patient: PatientProfile, kind: str) -> dict[str, ChecklistEntry]:
    return {e.key: e for e in ChecklistEntry.objects.filter(patient=patient, kind=kind)}


# --- clinics ------------------------------------------------------------------------------


def clinics_for_user(*, user: User) -> QuerySet[Clinic]:
    if not user_has_perm(user, Perm.CARE_VIEW):
        return Clinic.objects.none()
    return Clinic.objects.filter(organisation_id__in=user.organisation_ids).select_related("site")


def clinic_get_for_user(*, user: User, id: int, need: Perm = Perm.CARE_VIEW) -> Clinic:
    clinic = clinics_for_user(user=user).filter(pk=id).first()
    if clinic is None:
        raise Http404
    if need != Perm.CARE_VIEW and not user_has_perm(user, need):
        raise PermissionDenied
    return clinic


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


CHANGE_TEXT = {
    ClinicReplan.Reason.APPOINTMENT_CANCELLED: gettext_lazy("%(what)s cancelled for %(name)s"),
    ClinicReplan.Reason.INVITATION_CANCELLED: gettext_lazy("%(name)s cannot come"),
    ClinicReplan.Reason.PROFESSIONAL_LATE: gettext_lazy("%(who)s arrives at %(time)s on %(date)s"),
    ClinicReplan.Reason.SETUP_CHANGED: gettext_lazy("The set-up changed"),
}


@dataclass(frozen=True)
class MovedLine:
    name: str
    what: str
    was: Any  # None: it had no place before
    now: Any


def clinic_progress(*, clinic: Clinic) -> dict[str, Any]:
    """What the clinic page says about planning: a plan or re-plan under way (the changes it
    is about), and the outcome of the last re-plan since the last plan."""
    queued = list(clinic.replans.filter(status=ClinicReplan.Status.QUEUED).order_by("pk"))
    last = (
        clinic.replans.exclude(status=ClinicReplan.Status.QUEUED).order_by("-finished_at").first()
    )
    if last is not None and clinic.planned_at and last.finished_at < clinic.planned_at:
        last = None  # a plan from scratch came after it
    batch = list(clinic.replans.filter(batch=last.batch).order_by("pk")) if last else []
    shown = [*queued, *batch]
    invitation_ids = {r.params.get("invitation") for r in shown}
    invitation_ids |= {m["invitation"] for m in last.moved} if last else set()
    names = dict(
        ClinicInvitation.objects.filter(pk__in=invitation_ids - {None}).values_list(
            "pk", "patient__user__full_name"
        )
    )
    labels = (
        dict(
            RequiredAppointment.objects.filter(
                pk__in={m["appointment"] for m in last.moved if m["appointment"]}
            ).values_list("pk", "label")
        )
        if last
        else {}
    )
    moved = [
        MovedLine(
            name=names.get(m["invitation"], ""),
            what=labels.get(m["appointment"], "") if m["appointment"] else _("Round table"),
            was=datetime.fromisoformat(m["from"]) if m["from"] else None,
            now=datetime.fromisoformat(m["to"]),
        )
        for m in (last.moved if last else [])
    ]
    return {
        "planning": clinic.planning_since is not None,
        "replanning": [_change_text(r, names) for r in queued],
        "replanning_since": queued[0].requested_at if queued else None,
        "busy": clinic.planning_since is not None or bool(queued),
        "last_replan": {
            "changes": [_change_text(r, names) for r in batch],
            "kept": last.status == ClinicReplan.Status.KEPT,
            "at": last.finished_at,
            "moved": moved,
        }
        if last
        else None,
    }


def _change_text(replan: ClinicReplan, names: dict[int, str]) -> str:
    params = replan.params
    day = params.get("day")
    return str(CHANGE_TEXT[ClinicReplan.Reason(replan.reason)]) % {
        "what": params.get("label", ""),
        "name": names.get(params.get("invitation"), _("a family")),
        "who": params.get("name", ""),
        "time": params.get("arrives", ""),
        "date": date_format(date.fromisoformat(day), "DATE_FORMAT") if day else "",
    }


def clinic_busy(*, clinic: Clinic) -> bool:
    return (
        clinic.planning_since is not None
        or clinic.replans.filter(status=ClinicReplan.Status.QUEUED).exists()
    )


def invitation_get_for_user(
    *, user: User, id: int, need: Perm = Perm.CARE_VIEW, request: HttpRequest | None = None
) -> ClinicInvitation:
    """A staff member's read of one family's itinerary and travel."""
    invitation = (
        ClinicInvitation.objects.filter(pk=id)
        .select_related("clinic__site", "patient__user")
        .first()
    )
    if invitation is None:
        raise Http404
    clinic_get_for_user(user=user, id=invitation.clinic_id)
    care_patient_get_for_user(user=user, id=invitation.patient_id, need=need, request=request)
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


def appointment_get_for_user(*, user: User, id: int) -> RequiredAppointment:
    appointment = (
        RequiredAppointment.objects.filter(pk=id).select_related("invitation__clinic").first()
    )
    if appointment is None:
        raise Http404
    clinic_get_for_user(user=user, id=appointment.invitation.clinic_id, need=Perm.CARE_MANAGE)
    return appointment


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
    user: User,
    professional: ClinicProfessional | None = None,
    room: ClinicRoom | None = None,
    request: HttpRequest | None = None,
):
    """One professional's or one room's visits, by day. It names patients, so it is logged."""
    audit_log(
        action="care.day_sheet.viewed",
        actor=user,
        obj=clinic,
        payload={
            "professional": professional.pk if professional else None,
            "room": room.pk if room else None,
        },
        request=request,
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


# --- explanations -------------------------------------------------------------------------

RULE_TITLES = {
    "setup": gettext_lazy("The set-up is incomplete"),
    "opening_hours": gettext_lazy("Opening hours and breaks"),
    "capacity": gettext_lazy("One place at a time"),
    "professional_hours": gettext_lazy("Professionals' hours"),
    "room": gettext_lazy("A suitable room"),
    "step_free": gettext_lazy("Step-free access"),
    "patient_days": gettext_lazy("The days the patient attends"),
    "precedence": gettext_lazy("Order of appointments"),
    "fasting": gettext_lazy("Fasting tests first and early"),
    "rest": gettext_lazy("Rest after a long test"),
    "lunch": gettext_lazy("Lunch break"),
    "max_span": gettext_lazy("Daily limit on time at the clinic"),
    "back_to_back": gettext_lazy("Brothers and sisters seen back to back"),
    "round_table": gettext_lazy("Round table at the end"),
}

RULE_SENTENCES = {
    "opening_hours": gettext_lazy(
        "An appointment is longer than any stretch of opening hours between breaks (%(people)s)."
    ),
    "capacity": gettext_lazy(
        "There are more appointments than the professionals, rooms and opening hours can hold."
    ),
    "professional_hours": gettext_lazy(
        "The professionals' hours are too short for what they must see (%(people)s)."
    ),
    "room": gettext_lazy(
        "No room of the needed kind is available to the professional (%(people)s)."
    ),
    "step_free": gettext_lazy(
        "The patient needs step-free rooms and there are not enough (%(people)s)."
    ),
    "patient_days": gettext_lazy(
        "The appointments do not fit the days the patient attends (%(people)s)."
    ),
    "precedence": gettext_lazy(
        "%(before)s must come before %(after)s, with the gap required (%(people)s)."
    ),
    "fasting": gettext_lazy("A fasting test must be first of the day and early (%(people)s)."),
    "rest": gettext_lazy("A long test must be followed by a rest (%(people)s)."),
    "lunch": gettext_lazy("The patient needs a lunch break around midday (%(people)s)."),
    "max_span": gettext_lazy(
        "The patient may be at the clinic at most the set number of hours a day (%(people)s)."
    ),
    "back_to_back": gettext_lazy(
        "Brothers and sisters must be seen back to back by one professional (%(people)s)."
    ),
    "round_table": gettext_lazy(
        "The round table comes after all the patient's appointments, with the whole team (%(people)s)."
    ),
}


def explanations_for(*, clinic: Clinic) -> list[dict[str, str]]:
    """The solver's reasons, as translated sentences naming the rule and the people."""
    names: dict[str, str] = {}
    for invitation in clinic.invitations.select_related("patient__user"):
        names[f"i{invitation.pk}"] = invitation.patient.user.full_name
    for pro in clinic.professionals.all():
        names[f"s{pro.pk}"] = f"{pro.name} ({pro.discipline})"
    labels = {
        f"a{a.pk}": a.label for a in RequiredAppointment.objects.filter(invitation__clinic=clinic)
    }
    found = []
    for reason in clinic.explanations:
        rule = reason.get("rule", "")
        params = reason.get("params", {})
        people = ", ".join(names.get(p, p) for p in reason.get("people", [])) or "—"
        values = {
            "people": people,
            "before": labels.get(str(params.get("before", "")), _("one appointment")),
            "after": labels.get(str(params.get("after", "")), _("another")),
        }
        sentence = RULE_SENTENCES.get(rule)
        found.append(
            {
                "rule": rule,
                "title": str(RULE_TITLES.get(rule, rule)),
                "sentence": str(sentence) % values if sentence else reason.get("message", ""),
            }
        )
    return found
