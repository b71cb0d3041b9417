"""The study team's pages: recruitment, participants, screening, consent, randomisation,
data entry and export. Views fetch through the trials selectors and call one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.engines.allocation import AllocationError, AllocationTableError
from rarebridge.instruments.content import questionnaire, wording_status
from rarebridge.instruments.models import Response
from rarebridge.instruments.services import missing_items
from rarebridge.network.selectors import crisis_resources_for_country
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.study import AllocationTableForm, ReferralForm
from rarebridge.trials.fhir import responses_bundle
from rarebridge.trials.models import Participant
from rarebridge.trials.selectors import (
    completeness,
    consort_numbers,
    current_consent,
    email_unconfirmed,
    overdue_assessments,
    participant_get_for_user,
    participants_for_user,
    recruitment_by_site,
    screening_log,
    slot_usage,
    studies_for_user,
    study_get_for_user,
    study_sites_for_user,
)
from rarebridge.trials.services import (
    Contact,
    RandomisationRefused,
    allocation_table_load,
    consent_countersign,
    eligibility_reasons,
    participant_randomise,
    participant_withdraw,
    randomisation_blockers,
    response_for,
    response_save,
    response_submit,
    screening_record,
)


@require_GET
@staff_required
def studies(request):
    return render(
        request, "trials/staff_studies.html", {"studies": studies_for_user(user=request.user)}
    )


@require_GET
@staff_required
def dashboard(request, slug: str):
    study = study_get_for_user(by=request.actor, slug=slug)
    manager = user_has_perm(request.user, Perm.STUDY_MANAGE)
    return render(
        request,
        "trials/staff_dashboard.html",
        {
            "study": study,
            "recruitment": recruitment_by_site(user=request.user, study=study),
            "consort": consort_numbers(user=request.user, study=study),
            "completeness": completeness(user=request.user, study=study),
            "slots": slot_usage(user=request.user, study=study) if manager else None,
            "manager": manager,
            "can_screen": user_has_perm(request.user, Perm.PARTICIPANT_SCREEN),
            "overdue": overdue_assessments(user=request.user, study=study)[:200],
        },
    )


@require_GET
@staff_required
def participants(request, slug: str):
    study = study_get_for_user(by=request.actor, slug=slug)
    everyone = participants_for_user(user=request.user, study=study)
    counts = dict(
        everyone.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    ordered = everyone.order_by("status", "-created_at")
    status = request.GET.get("status", "")
    if status in Participant.Status.values:
        ordered = ordered.filter(status=status)
    rows = list(ordered[:500])
    if rows:
        audit_log(
            action="trials.participant.listed",
            actor=request.actor,
            obj=study,
            payload={"ids": [p.pk for p in rows], "status": status},
        )
    statuses = [(value, label, counts.get(value, 0)) for value, label in Participant.Status.choices]
    return render(
        request,
        "trials/staff_participants.html",
        {"study": study, "rows": rows, "status": status, "statuses": statuses},
    )


@require_GET
@staff_required
def participant_detail(request, slug: str, pk: int):
    study = study_get_for_user(by=request.actor, slug=slug)
    participant = participant_get_for_user(by=request.actor, study=study, id=pk)
    return render(
        request,
        "trials/staff_participant.html",
        {
            "study": study,
            "participant": participant,
            "consent": current_consent(participant=participant),
            "email_unconfirmed": email_unconfirmed(participant=participant),
            "blockers": randomisation_blockers(participant=participant),
            "allocation": getattr(participant, "allocation", None),
            "assessments": participant.assessments.prefetch_related("responses").order_by(
                "opens_at"
            ),
            "can_enter": user_has_perm(request.user, Perm.DATA_ENTRY),
        },
    )


def _confirm_page(request, *, study, participant, action: str, **extra):
    """Ask once before an irreversible step, naming the person and what will happen."""
    return render(
        request,
        "trials/staff_confirm.html",
        {"study": study, "participant": participant, "action": action, **extra},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def randomise(request, slug: str, pk: int):
    """GET (or a POST without ``confirm``) asks; the confirmed POST allocates. A second
    confirmed POST finds the participant randomised and allocates nothing more."""
    study = study_get_for_user(by=request.actor, slug=slug)
    participant = participant_get_for_user(
        by=request.actor, study=study, id=pk, need=Perm.PARTICIPANT_RANDOMISE
    )
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        if hasattr(participant, "allocation"):
            return redirect("trials_staff:participant", slug=slug, pk=pk)
        return _confirm_page(
            request,
            study=study,
            participant=participant,
            action="randomise",
            blockers=randomisation_blockers(participant=participant),
        )
    try:
        participant_randomise(participant=participant, by=request.actor)
    except RandomisationRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The participant is randomised."))
    return redirect("trials_staff:participant", slug=slug, pk=pk)


@require_http_methods(["GET", "POST"])
@staff_required
def countersign(request, slug: str, pk: int):
    study = study_get_for_user(by=request.actor, slug=slug)
    participant = participant_get_for_user(
        by=request.actor, study=study, id=pk, need=Perm.PARTICIPANT_SCREEN
    )
    consent = current_consent(participant=participant)
    if consent is None:
        raise Http404
    if consent.countersigned_at is not None:
        return redirect("trials_staff:participant", slug=slug, pk=pk)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return _confirm_page(
            request, study=study, participant=participant, action="countersign", consent=consent
        )
    consent_countersign(consent=consent, by=request.actor)
    messages.success(request, _("Consent countersigned."))
    return redirect("trials_staff:participant", slug=slug, pk=pk)


@require_POST
@staff_required
def withdraw(request, slug: str, pk: int):
    study = study_get_for_user(by=request.actor, slug=slug)
    participant = participant_get_for_user(
        by=request.actor, study=study, id=pk, need=Perm.PARTICIPANT_SCREEN
    )
    try:
        participant_withdraw(
            participant=participant,
            level=request.POST.get("level", ""),
            delete_data=request.POST.get("delete_data") == "on",
            by=request.actor,
        )
    except (ValidationError, ValueError):
        messages.error(request, _("Please choose what the participant withdraws from."))
    return redirect("trials_staff:participant", slug=slug, pk=pk)


@require_http_methods(["GET", "POST"])
@staff_required
def data_entry(request, slug: str, pk: int, timepoint: str, instrument: str):
    """A coordinator enters answers given by phone; the response is flagged as on behalf.

    The participant's rules hold: nothing typed is dropped (answers are saved before anything
    is checked and shown again), unanswered questions are listed and sent only when the
    coordinator confirms, and a risk answer shows at once what to do on the phone."""
    study = study_get_for_user(by=request.actor, slug=slug)
    participant = participant_get_for_user(
        by=request.actor, study=study, id=pk, need=Perm.DATA_ENTRY
    )
    assessment = participant.assessments.filter(timepoint=timepoint).first()
    if assessment is None:
        raise Http404
    try:
        response = response_for(assessment=assessment, instrument=instrument)
    except ValidationError as error:
        raise Http404 from error
    form = questionnaire(instrument, get_language())
    errors: dict = {}
    shown = dict(response.answers)
    missing: list = []
    crisis = False
    status = 200
    if request.method == "POST" and response.submitted_at is None:
        answers = {item.link_id: request.POST.get(item.link_id) for item in form.questions}
        shown = {key: value for key, value in answers.items() if value not in (None, "")}
        result = response_save(
            response=response, answers=answers, base_revision=response.revision, by=request.actor
        )
        response.refresh_from_db()
        if result.status == "saved":
            missing = missing_items(instrument, response.answers)
            if missing and request.POST.get("confirm_missing") != "1":
                status = 422
            else:
                try:
                    submitted = response_submit(response=response, by=request.actor)
                except ValidationError as error:
                    messages.error(request, error.messages[0])
                    status = 409
                else:
                    if not submitted.crisis:
                        messages.success(request, _("Answers entered on the participant's behalf."))
                        return redirect("trials_staff:participant", slug=slug, pk=pk)
                    crisis = True
                    response = submitted.response
        else:
            errors = dict(result.errors)
            if result.status == "closed":
                messages.error(request, errors.pop("__all__", ""))
                status = 409
            else:
                status = 422
    return render(
        request,
        "trials/staff_data_entry.html",
        {
            "study": study,
            "participant": participant,
            "assessment": assessment,
            "form": form,
            "response": response,
            "shown": {key: str(value) for key, value in shown.items()},
            "errors": errors,
            "missing": [item for item in form.questions if item.link_id in missing],
            "crisis": crisis,
            "resources": crisis_resources_for_country(country_code=participant.patient.country_id)
            if crisis
            else [],
            "wording": wording_status(instrument, participant.language),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def refer(request, slug: str):
    """Screen in two steps: the answers, then a review of what will be recorded, then save."""
    study = study_get_for_user(by=request.actor, slug=slug, need=Perm.PARTICIPANT_SCREEN)
    sites = study_sites_for_user(user=request.user, study=study, perm=Perm.PARTICIPANT_SCREEN)
    form = ReferralForm(
        request.POST if request.method == "POST" else None, study=study, sites=sites
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site = form.sites[data["site"]]
        answers = form.answers()
        reasons = eligibility_reasons(study=study, answers=answers)
        if not reasons and not (data["full_name"] and data["email"]):
            form.add_error("full_name", _("Needed to contact an eligible person."))
            form.add_error("email", _("Needed to contact an eligible person."))
        elif request.POST.get("step") == "confirm":
            return _screening_save(request, study=study, site=site, form=form, answers=answers)
        elif request.POST.get("step") != "edit":
            return render(
                request,
                "trials/staff_refer_review.html",
                {
                    "study": study,
                    "form": form,
                    "site": site,
                    "reasons": reasons,
                    "eligible": not reasons,
                },
            )
    return render(
        request,
        "trials/staff_refer.html",
        {"study": study, "form": form},
        status=422 if form.errors else 200,
    )


def _screening_save(request, *, study, site, form, answers):
    data = form.cleaned_data
    contact = None
    if data["full_name"] and data["email"]:
        contact = Contact(
            full_name=data["full_name"],
            email=data["email"],
            language=data["language"],
            time_zone=site.time_zone,
        )
    try:
        outcome = screening_record(
            study=study, site=site, answers=answers, contact=contact, by=request.actor
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(
            request, "trials/staff_refer.html", {"study": study, "form": form}, status=422
        )
    if outcome.participant is not None:
        messages.success(request, _("Eligible: the participant can now consent."))
        return redirect("trials_staff:participant", slug=study.slug, pk=outcome.participant.pk)
    messages.info(request, _("Not eligible. The reasons are in the screening log."))
    return redirect("trials_staff:screening", slug=study.slug)


@require_GET
@staff_required
def screening(request, slug: str):
    study = study_get_for_user(by=request.actor, slug=slug, need=Perm.PARTICIPANT_SCREEN)
    return render(
        request,
        "trials/staff_screening.html",
        {"study": study, "records": screening_log(user=request.user, study=study)[:500]},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def allocation_table(request, slug: str):
    """The statistician's table, uploaded by the trial manager; taken whole or not at all."""
    study = study_get_for_user(by=request.actor, slug=slug, need=Perm.STUDY_MANAGE)
    form = AllocationTableForm(request.POST or None, request.FILES or None)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["table"].read().decode("utf-8", errors="replace")
        try:
            count = allocation_table_load(study=study, text=text, by=request.actor)
        except AllocationTableError as error:
            problems = list(error.problems)
        except (AllocationError, ValidationError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(count)d slots imported.") % {"count": count})
            return redirect("trials_staff:dashboard", slug=slug)
    return render(
        request,
        "trials/staff_allocation_table.html",
        {"study": study, "form": form, "problems": problems},
        status=422 if problems or form.errors else 200,
    )


@require_GET
@staff_required
def export_fhir(request, slug: str):
    study = study_get_for_user(by=request.actor, slug=slug, need=Perm.STUDY_MANAGE)
    responses = (
        Response.objects.filter(assessment__participant__study=study, submitted_at__isnull=False)
        .select_related("assessment_link__assessment__participant__patient")
        .order_by("pk")
    )
    body = responses_bundle(responses)
    response = HttpResponse(body, content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-responses.json"'
    return response
