from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.accounts.selectors import (
    audit_entries_for_user,
    invitable_roles_for,
    invitation_get_for_user,
    invitations_for_user,
    organisation_for_user,
    patient_get_for_user,
    patients_for_user,
    patients_page_for_user,
    reach_for,
    sites_for,
    user_has_perm,
)
from rarebridge.accounts.services import invitation_create, invitation_revoke
from rarebridge.core.permissions import Perm, Role
from rarebridge.counselling.matching import (
    batch_proposal,
    fix_text,
    reason_text,
    sign_slot,
    slot_texts,
    unsign_slot,
)
from rarebridge.counselling.selectors import (
    calls_for_supervision,
    counsellor_get_for_manager,
    is_certified,
    matching_overview,
    patients_needing_reassignment,
    roleplay_checklist,
    supervisor_dashboard,
    supervisor_dashboard_rows_for_manager,
    training_gaps,
    training_modules,
)
from rarebridge.counselling.services import (
    certification_grant,
    counsellor_deactivate,
    match_accept,
    match_batch_confirm,
    roleplay_sign_off,
    training_attendance_record,
)
from rarebridge.network.selectors import crisis_resource_get_for_user, crisis_resources_for_admin
from rarebridge.network.services import crisis_resource_preview, crisis_resource_update
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.people import (
    ROLE_LABELS,
    AuditFilterForm,
    CrisisResourceForm,
    InvitationForm,
)
from rarebridge.programs.selectors import (
    chapter_in_language,
    translation_status,
    version_get_for_admin,
    versions_for_admin,
)
from rarebridge.safety.selectors import alerts_for_user

PAGE_SIZE = 50


@require_GET
@staff_required
def home(request):
    roles = request.user.role_set()
    return render(
        request,
        "staff/home.html",
        {
            "role_labels": [ROLE_LABELS[Role(r)] for r in sorted(roles)],
            "assignments": request.user.active_roles(),
            "patient_count": patients_for_user(user=request.user).count(),
            "reach": reach_for(user=request.user),
        },
    )


@require_GET
@staff_required
def patients(request):
    query = request.GET.get("q", "").strip()
    page = patients_page_for_user(
        user=request.user,
        query=query,
        page_number=request.GET.get("page"),
        per_page=PAGE_SIZE,
        by=request.actor,
    )
    return render(request, "staff/patients.html", {"page": page, "q": query})


@require_GET
@staff_required
def patient_detail(request, pk: int):
    patient = patient_get_for_user(user=request.user, id=pk, by=request.actor)
    can_change = (
        user_has_perm(request.user, Perm.PATIENT_CHANGE)
        and patients_for_user(user=request.user, perm=Perm.PATIENT_CHANGE).filter(pk=pk).exists()
    )
    calls = (
        calls_for_supervision(user=request.user, patient_id=patient.pk)
        if user_has_perm(request.user, Perm.SUPERVISION_VIEW)
        else None
    )
    return render(
        request,
        "staff/patient_detail.html",
        {"patient": patient, "can_change": can_change, "calls": calls},
    )


@require_GET
@staff_required
def audit(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries_for_user(user=request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "staff/audit.html", {"form": form, "page": page, "query": query.urlencode()}
    )


def _invitation_form(request, data=None):
    user = request.user
    roles = invitable_roles_for(user)
    if not roles:
        raise PermissionDenied
    return InvitationForm(data, roles=roles, sites=sites_for(user, Perm.PEOPLE_INVITE))


@require_http_methods(["GET", "POST"])
@staff_required
def invitations(request):
    if not user_has_perm(request.user, Perm.PEOPLE_INVITE):
        raise PermissionDenied
    form = _invitation_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site = data["site"]
        organisation = site.organisation if site else organisation_for_user(user=request.user)
        try:
            invitation_create(
                by=request.actor,
                organisation=organisation,
                role=Role(data["role"]),
                email=data["email"],
                full_name=data["full_name"],
                language=data["language"],
                site=site,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
            return redirect("staff:invitations")
    items = invitations_for_user(user=request.user)[:100]
    return render(
        request,
        "staff/invitations.html",
        {"form": form, "items": items, "role_labels": ROLE_LABELS},
    )


@require_POST
@staff_required
def invitation_revoke_view(request, pk: int):
    invitation = invitation_get_for_user(user=request.user, id=pk, by=request.actor)
    invitation_revoke(invitation=invitation, by=request.actor)
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("staff:invitations")


@require_GET
@staff_required
def crisis_resources(request):
    resources = crisis_resources_for_admin(user=request.user)
    can_edit = user_has_perm(request.user, Perm.CRISIS_CHANGE)
    return render(
        request, "staff/crisis_resources.html", {"resources": resources, "can_edit": can_edit}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def crisis_resource_edit(request, pk: int):
    """Edit → preview (what patients will see, in every language) → confirm. Nothing changes
    for patients until the confirm step."""
    resource = crisis_resource_get_for_user(user=request.user, id=pk)
    form = CrisisResourceForm(request.POST or None, instance=copy.copy(resource))
    step = request.POST.get("step", "preview")
    if request.method == "POST" and step in ("preview", "confirm") and form.is_valid():
        try:
            if step == "confirm":
                crisis_resource_update(resource=resource, by=request.actor, **form.changes())
                messages.success(request, _("Published. Patients see the change now."))
                return redirect("staff:crisis_resources")
            candidate = crisis_resource_preview(resource=resource, **form.changes())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            changed = [
                getattr(candidate._meta.get_field(name), "verbose_name", name)
                for name in form.changes()
                if getattr(candidate, name) != getattr(resource, name)
            ]
            return render(
                request,
                "staff/crisis_resource_preview.html",
                {
                    "form": form,
                    "resource": resource,
                    "candidate": candidate,
                    "changed": changed,
                    "languages": settings.LANGUAGES,
                },
            )
    return render(request, "staff/crisis_resource_edit.html", {"form": form, "resource": resource})


@require_GET
@staff_required
def programs(request):
    return render(
        request, "staff/programs.html", {"versions": versions_for_admin(user=request.user)}
    )


@require_GET
@staff_required
def program_version(request, pk: int):
    version = version_get_for_admin(user=request.user, id=pk)
    return render(
        request,
        "staff/program_version.html",
        {
            "version": version,
            "status": translation_status(version=version),
            "weeks": range(1, version.weeks + 1),
        },
    )


@require_GET
@staff_required
def program_preview(request, pk: int):
    version = version_get_for_admin(user=request.user, id=pk)
    week = request.GET.get("week", "1")
    language = request.GET.get("language", "en")
    if (
        not week.isdigit()
        or not 1 <= int(week) <= version.weeks
        or language not in dict(settings.LANGUAGES)
    ):
        raise Http404
    chapter, fallback = chapter_in_language(version=version, week=int(week), language=language)
    return render(
        request,
        "staff/program_preview.html",
        {
            "version": version,
            "chapter": chapter,
            "fallback": fallback,
            "week": week,
            "language": language,
        },
    )


# Counselling: supervisor dashboard, counsellors, training and certification -------------------


@require_GET
@staff_required
def supervision(request):
    context = supervisor_dashboard(user=request.user)
    context["supervise"] = True  # each counsellor links to their calls and notes
    if user_has_perm(request.user, Perm.ALERT_HANDLE):
        context["open_alerts"] = alerts_for_user(user=request.user).exclude(status="closed").count()
    return render(request, "staff/supervision.html", context)


@require_GET
@staff_required
def counsellors(request):
    if not user_has_perm(request.user, Perm.COUNSELLING_MANAGE):
        raise PermissionDenied
    return render(
        request,
        "staff/counsellors.html",
        {
            "dashboard": supervisor_dashboard_rows_for_manager(user=request.user),
            "reassign": patients_needing_reassignment(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required
def counsellor_training(request, pk: int):
    profile = counsellor_get_for_manager(user=request.user, id=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "attend":
                module = training_modules().get(pk=request.POST.get("module"))
                training_attendance_record(
                    counsellor=profile,
                    module=module,
                    attended_on=timezone.localdate(),
                    by=request.actor,
                )
            elif action == "roleplay":
                checklist = roleplay_checklist()
                roleplay_sign_off(
                    counsellor=profile,
                    results={k: request.POST.get(f"rp-{k}") == "on" for k in checklist},
                    by=request.actor,
                )
            elif action == "certify":
                certification_grant(counsellor=profile, by=request.actor)
                messages.success(
                    request, _("Certified. Patients can now be assigned and book calls.")
                )
            return redirect("staff:counsellor_training", pk=pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "staff/counsellor_training.html",
        {
            "profile": profile,
            "modules": training_modules(),
            "gaps": training_gaps(counsellor=profile),
            "attended": set(profile.attendance.values_list("module_id", flat=True)),
            "checklist": roleplay_checklist(),
            "certified": is_certified(counsellor=profile),
            "certifications": profile.certifications.all(),
        },
    )


# The reasons a preview shows for a match (the other hard rules hold for every match).
SHOWN = {"language", "site", "call_times", "condition", "country", "gender", "age", "continuity"}


def _preview_rows(proposal) -> list[dict]:
    """Who with whom, why, and the first call in both people's local time."""
    rows = []
    for item in proposal.result.assignments:
        patient = proposal.patients[item.patient_id]
        rows.append(
            {
                "patient": patient,
                "counsellor": proposal.names[item.counsellor_id],
                "reasons": [reason_text(r) for r in item.reasons if r.met and r.criterion in SHOWN],
                **slot_texts(
                    calls=item.schedule,
                    counsellor_zone=proposal.counsellors[item.counsellor_id].time_zone,
                    patient_zone=patient.user.time_zone,
                ),
            }
        )
    return rows


def _render_preview(request, proposal):
    return render(
        request,
        "staff/matching_preview.html",
        {
            "proposal": proposal,
            "rows": _preview_rows(proposal),
            "unmatched": [proposal.patients[u.patient_id] for u in proposal.result.unmatched],
        },
    )


def _accept_one(request) -> None:
    patient = patient_get_for_user(
        user=request.user,
        id=int(request.POST.get("patient", "0")),
        need=Perm.PATIENT_VIEW,
        by=request.actor,
    )
    profile = counsellor_get_for_manager(
        user=request.user, id=int(request.POST.get("counsellor", "0"))
    )
    action = request.POST.get("action")
    reason = request.POST.get("reason", "").strip()
    if action == "override":
        if not reason:
            raise ValidationError(_("Please give the reason for choosing another counsellor."))
        calls = None
    else:
        calls = unsign_slot(
            value=request.POST.get("slot", ""), patient_id=patient.pk, counsellor_id=profile.pk
        )
        if not calls:
            raise ValidationError(
                _("This suggestion is out of date. Please look at the suggestions again.")
            )
    match_accept(
        patient=patient,
        counsellor=profile.user,
        by=request.actor,
        reasons=request.POST.getlist("reasons"),
        override_reason=reason if action == "override" else "",
        calls=calls,
    )
    messages.success(request, _("Matched. Both have been told."))


@require_http_methods(["GET", "POST"])
@staff_required
def matching(request):
    """Waiting patients with suggested counsellors, reasons and the weekly time each would
    book; accept one, override, or match everyone (a preview first, then a confirmation of
    exactly that preview)."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("preview", "batch"):
            return _render_preview(request, batch_proposal(user=request.user))
        if action == "confirm":
            outcome = match_batch_confirm(token=request.POST.get("token", ""), by=request.actor)
            if outcome.status == "stale":
                messages.warning(
                    request,
                    _(
                        "The situation changed since the preview (or it is too old). Nothing "
                        "was matched; here is a fresh preview."
                    ),
                )
                return _render_preview(request, outcome.fresh)
            if outcome.status == "already":
                messages.info(request, _("This preview was confirmed already."))
            else:
                messages.success(
                    request,
                    _("%(matched)s patient(s) matched; %(left)s still waiting.")
                    % {"matched": outcome.matched, "left": outcome.left},
                )
                for patient, text in outcome.refused:
                    messages.error(request, f"{patient.code}: {text}")
            return redirect("staff:matching")
        try:
            _accept_one(request)
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("staff:matching")
    rows = matching_overview(user=request.user)
    for row in rows:
        for suggestion in row["suggestions"]:
            suggestion["texts"] = [
                (r.met, reason_text(r)) for r in suggestion["reasons"] if r.met is not None
            ]
            suggestion.update(
                slot_texts(
                    calls=suggestion["calls"],
                    counsellor_zone=suggestion["counsellor_zone"],
                    patient_zone=suggestion["patient_zone"],
                )
            )
            suggestion["slot"] = sign_slot(
                patient_id=row["patient"].pk,
                counsellor_id=suggestion["counsellor_id"],
                calls=suggestion["calls"],
            )
        if row["unmatched"]:
            row["why"] = [reason_text(r) for r in row["unmatched"].reasons if r.met is False]
            row["fixes"] = [fix_text(f) for f in row["unmatched"].fixes]
    return render(
        request,
        "staff/matching.html",
        {"rows": rows, "counsellors": supervisor_dashboard_rows_for_manager(user=request.user)},
    )


@require_POST
@staff_required
def counsellor_deactivate_view(request, pk: int):
    profile = counsellor_get_for_manager(user=request.user, id=pk)
    count = counsellor_deactivate(
        profile=profile, by=request.actor, reason=request.POST.get("reason", "")
    )
    messages.success(
        request,
        _("The counsellor is inactive. %(n)s patient(s) are back on the waiting list.")
        % {"n": count},
    )
    return redirect("staff:matching")
