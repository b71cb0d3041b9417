"""Care coordination: the overview (patients and clinics) and a patient's care page: team,
case plan, notes, timeline, transition and benefits checklists, letters to school."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rarebridge.accounts.selectors import sites_for_user
from rarebridge.care.content import benefits_checklist, transition_milestones
from rarebridge.care.models import ChecklistEntry
from rarebridge.care.selectors import (
    can_read_clinical_notes,
    care_patient_get_for_user,
    care_patients_for_user,
    care_staff_for_user,
    checklist_state,
    clinics_for_user,
    goal_get_for_user,
    goals_for,
    notes_for_user,
    task_get_for_user,
    team_for,
    timeline_for,
)
from rarebridge.care.services import (
    checklist_set,
    goal_add,
    letter_write,
    note_add,
    task_add,
    task_complete,
    team_member_add,
)
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.care import (
    ClinicForm,
    GoalForm,
    LetterForm,
    NoteForm,
    TaskForm,
    TeamMemberForm,
)


@require_GET
@staff_required
def home(request):
    if not user_has_perm(request.user, Perm.CARE_VIEW):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    patients = care_patients_for_user(user=request.user).order_by("code")
    if query:
        patients = patients.filter(code__icontains=query) | patients.filter(
            user__full_name__icontains=query
        )
    return render(
        request,
        "care/home.html",
        {
            "clinics": clinics_for_user(user=request.user)[:50],
            "patients": patients.filter(care_team__isnull=False).distinct()[:50]
            if not query
            else patients[:50],
            "query": query,
            "clinic_form": ClinicForm(sites=sites_for_user(user=request.user), prefix="clinic")
            if user_has_perm(request.user, Perm.CARE_MANAGE)
            else None,
        },
    )


def _patient_page(request, patient, *, forms_: dict | None = None, status: int = 200):
    clinical = can_read_clinical_notes(user=request.user, patient=patient)
    team = team_for(patient=patient)
    can_manage = user_has_perm(request.user, Perm.CARE_MANAGE)
    language = translation.get_language()
    transition_state = checklist_state(patient=patient, kind=ChecklistEntry.Kind.TRANSITION)
    benefits_state = checklist_state(patient=patient, kind=ChecklistEntry.Kind.BENEFITS)
    forms_ = forms_ or {}
    return render(
        request,
        "care/patient.html",
        {
            "patient": patient,
            "team": team,
            "goals": [
                (goal, TaskForm(team=team, prefix=f"task-{goal.pk}"))
                for goal in goals_for(patient=patient)
            ],
            "notes": notes_for_user(user=request.user, patient=patient)[:50],
            "clinical": clinical,
            "timeline": timeline_for(patient=patient),
            "can_manage": can_manage,
            "member_form": forms_.get("member")
            or TeamMemberForm(staff=care_staff_for_user(user=request.user), prefix="member"),
            "goal_form": forms_.get("goal") or GoalForm(team=team, prefix="goal"),
            "note_form": forms_.get("note") or NoteForm(clinical=clinical, prefix="note"),
            "letter_form": forms_.get("letter") or LetterForm(prefix="letter"),
            "letters": patient.school_letters.all()[:10],
            "transition": [
                {
                    **stage,
                    "items": [
                        {**item, "entry": transition_state.get(item["key"])}
                        for item in stage["items"]
                    ],
                }
                for stage in transition_milestones(language=language)
            ],
            "benefits": [
                {**item, "entry": benefits_state.get(item["key"])}
                for item in benefits_checklist(country=patient.country_id, language=language)
            ],
            "statuses": ChecklistEntry.Status.choices,
            "invitations": patient.clinic_invitations.select_related("clinic"),
        },
        status=status,
    )


@require_GET
@staff_required
def patient(request, patient_id: int):
    found = care_patient_get_for_user(by=request.actor, id=patient_id)
    return _patient_page(request, found)


def _managed(request, patient_id: int):
    return care_patient_get_for_user(by=request.actor, id=patient_id, need=Perm.CARE_MANAGE)


@require_POST
@staff_required
def team_member_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = TeamMemberForm(
        request.POST, staff=care_staff_for_user(user=request.user), prefix="member"
    )
    if form.is_valid():
        try:
            team_member_add(patient=found, by=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _patient_page(request, found, forms_={"member": form}, status=400)
    messages.success(request, _("Added to the care team."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def goal_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = GoalForm(request.POST, team=team_for(patient=found), prefix="goal")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"goal": form}, status=400)
    goal_add(patient=found, by=request.actor, **form.cleaned_data)
    messages.success(request, _("Goal added to the case plan."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def task_add_view(request, goal_id: int):
    goal = goal_get_for_user(by=request.actor, id=goal_id)
    form = TaskForm(request.POST, team=team_for(patient=goal.patient), prefix=f"task-{goal.pk}")
    if form.is_valid():
        task_add(goal=goal, by=request.actor, **form.cleaned_data)
        messages.success(request, _("Task added."))
    else:
        messages.error(request, _("The task needs a title."))
    return redirect("care:patient", goal.patient_id)


@require_POST
@staff_required
def task_done_view(request, task_id: int):
    task = task_get_for_user(by=request.actor, id=task_id)
    task_complete(task=task, by=request.actor)
    return redirect("care:patient", task.goal.patient_id)


@require_POST
@staff_required
def note_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    clinical = can_read_clinical_notes(user=request.user, patient=found)
    form = NoteForm(request.POST, clinical=clinical, prefix="note")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"note": form}, status=400)
    note_add(patient=found, by=request.actor, **form.cleaned_data)
    messages.success(request, _("Note saved."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def checklist_set_view(request, patient_id: int):
    found = _managed(request, patient_id)
    kind = request.POST.get("kind", "")
    status = request.POST.get("status", "")
    key = request.POST.get("key", "")[:80]
    if (
        kind not in ChecklistEntry.Kind.values
        or status not in ChecklistEntry.Status.values
        or not key
    ):
        messages.error(request, _("That checklist change was not understood."))
    else:
        checklist_set(patient=found, by=request.actor, kind=kind, key=key, status=status)
    back = request.POST.get("back")
    if back == "travel" and request.POST.get("invitation"):
        return redirect("care:travel", int(request.POST["invitation"]))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def letter_write_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = LetterForm(request.POST, prefix="letter")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"letter": form}, status=400)
    letter = letter_write(patient=found, by=request.actor, **form.cleaned_data)
    messages.success(request, _("The letter was written in the family's language."))
    return redirect("care:letter", found.pk, letter.pk)


@require_GET
@staff_required
def letter(request, patient_id: int, letter_id: int):
    found = care_patient_get_for_user(by=request.actor, id=patient_id)
    letter = found.school_letters.filter(pk=letter_id).first()
    if letter is None:
        raise Http404
    return render(request, "care/letter.html", {"patient": found, "letter": letter})
