"""The participant's study pages: status, consent, questionnaires, withdrawal."""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.core.permissions import Perm
from rarebridge.instruments.content import questionnaire
from rarebridge.instruments.services import RISK_ITEMS, missing_items
from rarebridge.network.selectors import crisis_resources_for_country
from rarebridge.portals.decorators import perm_required
from rarebridge.portals.links import link_limit, send_link_within_limit, too_soon
from rarebridge.portals.patient.forms.study import EmailCorrectionForm
from rarebridge.trials.journey import participant_journey
from rarebridge.trials.labels import instrument_label
from rarebridge.trials.models import Participant
from rarebridge.trials.selectors import (
    assessment_get_for_patient,
    consent_version_for,
    current_consent,
    email_unconfirmed,
    needs_reconsent,
    participation_for_patient,
)
from rarebridge.trials.services import (
    assessment_is_open,
    participant_email_confirmation_resend,
    participant_email_correct,
    participant_withdraw,
    response_for,
    response_save,
    response_submit,
)
from rarebridge.trials.services import consent_sign as consent_sign_service


def _participation(request) -> Participant:
    participant = participation_for_patient(user=request.user)
    if participant is None:
        raise Http404
    return participant


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@require_GET
@perm_required(Perm.OWN_CARE)
def home(request):
    participant = participation_for_patient(user=request.user)
    if participant is None:  # a patient in no study: a friendly page, not a 404
        return render(request, "trials/patient_no_study.html")
    return _home(request, participant=participant)


def _home(request, *, participant: Participant, email_form: EmailCorrectionForm | None = None):
    consent = current_consent(participant=participant)
    assessments = []
    for assessment in participant.assessments.order_by("opens_at"):
        submitted = set(
            assessment.responses.filter(submitted_at__isnull=False).values_list(
                "instrument", flat=True
            )
        )
        assessments.append(
            {
                "assessment": assessment,
                # A timepoint is offered only inside its window.
                "open": assessment_is_open(assessment),
                "not_yet": assessment.opens_at > timezone.now(),
                "instruments": [
                    {
                        "code": code,
                        "done": code in submitted,
                        "title": instrument_label(code),
                    }
                    for code in assessment.instruments
                ],
            }
        )
    allocation = getattr(participant, "allocation", None)
    return render(
        request,
        "trials/patient_home.html",
        {
            "participant": participant,
            "consent": consent,
            "email_unconfirmed": email_unconfirmed(participant=participant),
            "email_form": email_form or EmailCorrectionForm(),
            "reconsent": needs_reconsent(participant=participant),
            "assessments": assessments,
            "arm": participant.study.arm(allocation.arm) if allocation else None,
            "journey": participant_journey(participant=participant),
        },
        status=422 if email_form is not None and email_form.errors else 200,
    )


@require_POST
@perm_required(Perm.OWN_CARE)
def email_confirmation(request):
    participant = _participation(request)
    if not ratelimit.consume(request, **link_limit(request)):
        messages.error(request, too_soon())
    elif participant_email_confirmation_resend(participant=participant, by=request.actor):
        messages.success(
            request, _("A new link is on its way to %(email)s.") % {"email": request.user.email}
        )
    return redirect("trials_patient:home")


@require_POST
@perm_required(Perm.OWN_CARE)
def email_correct(request):
    """A self-referred participant corrects a mistyped address; the link goes to the new one."""
    participant = _participation(request)
    if not email_unconfirmed(participant=participant):
        return redirect("trials_patient:home")  # a confirmed address is not replaced here
    form = EmailCorrectionForm(request.POST)
    if form.is_valid():
        send_link_within_limit(
            request,
            form=form,
            send=lambda: participant_email_correct(
                participant=participant,
                email=form.cleaned_data["email"],
                by=request.actor,
            ),
        )
    if form.errors:
        return _home(request, participant=participant, email_form=form)
    messages.success(
        request,
        _("A new link is on its way to %(email)s. From now on you sign in with this address.")
        % {"email": request.user.email},
    )
    return redirect("trials_patient:home")


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def consent(request):
    participant = _participation(request)
    if email_unconfirmed(participant=participant):
        return redirect("trials_patient:home")  # the page says what to do first
    version = consent_version_for(participant=participant)
    if version is None:
        raise Http404
    errors: dict = {}
    if request.method == "POST":
        answers = {q["id"]: request.POST.get(f"q_{q['id']}", "") for q in version.comprehension}
        try:
            consent_sign_service(
                participant=participant,
                typed_name=request.POST.get("typed_name", ""),
                comprehension=answers,
                by=request.actor,
            )
        except ValidationError as error:
            errors = (
                error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            )
        else:
            return redirect("trials_patient:home")
    language = get_language()
    questions = [
        {
            "id": q["id"],
            "text": q["text"].get(language) or q["text"].get("en", ""),
            "error": errors.get(f"q_{q['id']}", [""])[0] if errors else "",
            "value": request.POST.get(f"q_{q['id']}", ""),
        }
        for q in version.comprehension
    ]
    return render(
        request,
        "trials/patient_consent.html",
        {
            "version": version,
            "questions": questions,
            "errors": errors,
            "typed_name": request.POST.get("typed_name", ""),
        },
        status=422 if errors else 200,
    )


@require_GET
@perm_required(Perm.OWN_CARE)
def consent_pdf(request, pk: int):
    participant = _participation(request)
    record = participant.consents.filter(pk=pk).first()
    if record is None:
        raise Http404
    response = HttpResponse(bytes(record.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="consent-{record.version.version}.pdf"'
    return response


def _crisis_page(request, participant):
    resources = crisis_resources_for_country(country_code=participant.patient.country_id)
    return render(request, "trials/patient_crisis.html", {"resources": resources})


def _not_open(request, assessment, *, status: int = 200):
    """A timepoint outside its window: when it opens, or that it has closed."""
    return render(
        request,
        "trials/patient_not_open.html",
        {"assessment": assessment, "not_yet": assessment.opens_at > timezone.now()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def answer(request, timepoint: str, instrument: str):
    """One questionnaire: radio groups in fieldsets, autosaved, reviewed before submitting.

    Offered only inside the timepoint's window; answers sent after it closed (a stale tab)
    are kept as a draft and the page says so."""
    assessment = assessment_get_for_patient(user=request.user, timepoint=timepoint)
    participant = assessment.participant
    if instrument not in assessment.instruments:
        raise Http404
    if request.method == "GET" and not assessment_is_open(assessment):
        return _not_open(request, assessment)
    try:
        response = response_for(assessment=assessment, instrument=instrument)
    except ValidationError as error:
        raise Http404 from error
    form = questionnaire(instrument, get_language())
    if response.submitted_at is not None:
        return redirect("trials_patient:home")
    errors: dict = {}
    closed = ""
    if request.method == "POST":
        answers = {item.link_id: request.POST.get(item.link_id) for item in form.questions}
        result = response_save(
            response=response,
            answers=answers,
            base_revision=_int(request.POST.get("base_revision")),
            by=request.actor,
        )
        if request.POST.get("action") == "autosave":
            code = {"saved": 200, "conflict": 409, "invalid": 422, "closed": 403}[result.status]
            return JsonResponse(
                {"status": result.status, "revision": result.revision, "errors": result.errors},
                status=code,
            )
        if result.status == "saved":
            return redirect("trials_patient:review", timepoint=timepoint, instrument=instrument)
        if result.status == "closed":
            closed = result.errors.pop("__all__", "")
        errors = result.errors
        response.refresh_from_db()
    answered = sum(1 for item in form.questions if item.link_id in response.answers)
    position = assessment.instruments.index(instrument) + 1
    return render(
        request,
        "trials/patient_questionnaire.html",
        {
            "assessment": assessment,
            "form": form,
            "response": response,
            "errors": errors,
            "closed": closed,
            "answered": answered,
            "position": position,
            "count": len(assessment.instruments),
            "participant": participant,
            # Shown the moment a risk answer is chosen, before anything is sent.
            "risk_item": RISK_ITEMS.get(instrument, ""),
            "resources": crisis_resources_for_country(country_code=participant.patient.country_id)
            if instrument in RISK_ITEMS
            else [],
        },
        status=409 if closed else (422 if errors else 200),
    )


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def review(request, timepoint: str, instrument: str):
    """The answers before sending: unanswered questions are listed and asked once more; the
    person may still send without them (``confirm_missing``)."""
    assessment = assessment_get_for_patient(user=request.user, timepoint=timepoint)
    if instrument not in assessment.instruments:
        raise Http404
    try:
        response = response_for(assessment=assessment, instrument=instrument)
    except ValidationError as error:
        raise Http404 from error
    if response.submitted_at is not None:
        return redirect("trials_patient:home")
    form = questionnaire(instrument, get_language())
    missing = missing_items(instrument, response.answers)
    closed = ""
    if request.method == "POST":
        if missing and request.POST.get("confirm_missing") != "1":
            pass  # asked once more below
        else:
            try:
                result = response_submit(response=response, by=request.actor)
            except ValidationError as error:
                closed = error.messages[0]
            else:
                if result.crisis:
                    return _crisis_page(request, assessment.participant)
                remaining = [
                    code
                    for code in assessment.instruments
                    if not assessment.responses.filter(
                        instrument=code, submitted_at__isnull=False
                    ).exists()
                ]
                if remaining:
                    return redirect(
                        "trials_patient:answer", timepoint=timepoint, instrument=remaining[0]
                    )
                return redirect("trials_patient:home")
    rows = []
    for item in form.questions:
        value = response.answers.get(item.link_id)
        label = next((o.label for o in item.options if o.value == value), None)
        rows.append({"item": item, "label": label})
    return render(
        request,
        "trials/patient_review.html",
        {
            "assessment": assessment,
            "form": form,
            "rows": rows,
            "response": response,
            "missing": [item for item in form.questions if item.link_id in missing],
            "risk_missing": RISK_ITEMS.get(instrument) in missing,
            "asked_again": request.method == "POST" and not closed,
            "closed": closed,
        },
        status=409 if closed else 200,
    )


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def withdraw(request):
    participant = _participation(request)
    error = ""
    if request.method == "POST":
        try:
            participant_withdraw(
                participant=participant,
                level=request.POST.get("level", ""),
                delete_data=request.POST.get("delete_data") == "on",
                by=request.actor,
            )
        except (ValidationError, ValueError) as exc:
            error = (
                exc.messages[0]
                if isinstance(exc, ValidationError)
                else _("Please choose what to withdraw from.")
            )
        else:
            return redirect("trials_patient:home")
    return render(
        request,
        "trials/patient_withdraw.html",
        {
            "participant": participant,
            "error": error,
            "allows_deletion": participant.study.definition["consent"].get(
                "allows_deletion_on_withdrawal"
            ),
        },
        status=422 if error else 200,
    )
