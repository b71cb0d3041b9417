"""The care team and the case plan: members, goals and their tasks, notes."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.models import CareNote, CareTeamMember, CaseGoal, CaseTask
from rarebridge.care.selectors import can_read_clinical_notes
from rarebridge.care.services._common import _record
from rarebridge.core.actor import Actor, user_of


@transaction.atomic
def team_member_add(
    *,
    patient: PatientProfile,
    by: Actor | User | None,
    role: str,
    name: str = "",
    user: User | None = None,
    specialty: str = "",
) -> CareTeamMember:
    """Put a person on the patient's care team (staff with an account, or a named clinician)."""
    if user is None and not name.strip():
        raise ValidationError(_("Give a name or choose a person."))
    member = CareTeamMember.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        user=user,
        name=name.strip() or str(user),
        role=role,
        specialty=specialty,
    )
    _record(
        action="care.team.member_added",
        by=by,
        obj=member,
        patient=patient,
        name=member.name,
        role=role,
    )
    return member


@transaction.atomic
def goal_add(
    *,
    patient: PatientProfile,
    by: Actor | User | None,
    title: str,
    owner: CareTeamMember | None = None,
    due_on: date | None = None,
) -> CaseGoal:
    if owner is not None and owner.patient_id != patient.pk:
        raise ValidationError(_("The owner must be on this patient's care team."))
    goal = CaseGoal.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        title=title,
        owner=owner,
        due_on=due_on,
    )
    _record(action="care.goal.added", by=by, obj=goal, patient=patient, title=title)
    return goal


@transaction.atomic
def task_add(
    *,
    goal: CaseGoal,
    by: Actor | User | None,
    title: str,
    owner: CareTeamMember | None = None,
    due_on: date | None = None,
) -> CaseTask:
    if owner is not None and owner.patient_id != goal.patient_id:
        raise ValidationError(_("The owner must be on this patient's care team."))
    task = CaseTask.objects.create(goal=goal, title=title, owner=owner, due_on=due_on)
    _record(
        action="care.task.added",
        by=by,
        obj=goal,
        patient=goal.patient,
        title=title,
        owner=owner.name if owner else "",
    )
    return task


@transaction.atomic
def task_complete(*, task: CaseTask, by: Actor | User | None) -> CaseTask:
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at", "updated_at"])
        _record(
            action="care.task.completed",
            by=by,
            obj=task.goal,
            patient=task.goal.patient,
            title=task.title,
        )
    return task


@transaction.atomic
def note_add(
    *,
    patient: PatientProfile,
    by: Actor | User,
    kind: str,
    text: str,
) -> CareNote:
    """Write a note. Only those who may read clinical notes may write one."""
    author = user_of(by)
    if kind == CareNote.Kind.CLINICAL and not can_read_clinical_notes(user=author, patient=patient):
        raise PermissionDenied
    if not text.strip():
        raise ValidationError(_("The note is empty."))
    note = CareNote.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        author=author,
        kind=kind,
        text=text,
    )
    # The timeline says a note was written, never what it says.
    _record(action="care.note.added", by=by, obj=note, patient=patient, kind=kind)
    return note
