"""A patient's care: who may read it, the team, the case plan and notes, the checklists.

Note visibility follows role: a clinical note is read by those whose organisation role may
read clinical notes, unless their role on *this patient's* care team is not a clinical one
(a family support worker from the patient charity arranges travel, not treatment).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.care.models import (
    CLINICAL_TEAM_ROLES,
    CareNote,
    CareTeamMember,
    CaseGoal,
    CaseTask,
    ChecklistEntry,
)
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.permissions import Perm, Role, role_has


def care_patients_for_user(*, user: User) -> QuerySet[PatientProfile]:
    return patients_for_user(user=user, perm=Perm.CARE_VIEW)


def care_patient_get_for_user(
    *, by: Actor | User, id: int, need: Perm = Perm.CARE_VIEW
) -> PatientProfile:
    """A patient whose care the person reads (else 404) with ``need`` (else 403); audited."""
    user = user_of(by)
    return get_for_actor(
        care_patients_for_user(user=user),
        by=by,
        allowed=_patient_need(user, need),
        audit="care.patient.viewed",
        payload={"need": str(need)},
        pk=id,
    )


def _patient_need(user: User, need: Perm):
    """The test of ``need`` beyond reading a patient's care (None: reading is enough)."""
    if need == Perm.CARE_VIEW:
        return None
    return lambda patient: patients_for_user(user=user, perm=need).filter(pk=patient.pk).exists()


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


def goal_get_for_user(*, by: Actor | User, id: int) -> CaseGoal:
    """A goal of a patient whose care the person manages; the read is the patient's (audited)."""
    goal = get_for_actor(CaseGoal.objects.select_related("patient"), by=by, pk=id)
    care_patient_get_for_user(by=by, id=goal.patient_id, need=Perm.CARE_MANAGE)
    return goal


def task_get_for_user(*, by: Actor | User, id: int) -> CaseTask:
    """A task of a patient whose care the person manages; the read is the patient's (audited)."""
    task = get_for_actor(CaseTask.objects.select_related("goal__patient"), by=by, pk=id)
    care_patient_get_for_user(by=by, id=task.goal.patient_id, need=Perm.CARE_MANAGE)
    return task


def checklist_state(*, patient: PatientProfile, kind: str) -> dict[str, ChecklistEntry]:
    return {e.key: e for e in ChecklistEntry.objects.filter(patient=patient, kind=kind)}
