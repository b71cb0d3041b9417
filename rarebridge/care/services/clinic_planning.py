"""Planning a clinic from scratch (in the background: ``plan_clinic``) and sending the
families their itineraries."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from django_tasks import task

from rarebridge.accounts.models import User
from rarebridge.care import planning
from rarebridge.care.models import ChecklistEntry, Clinic, ClinicInvitation
from rarebridge.care.services._common import _ensure_message_templates, _event
from rarebridge.care.services._solver import _options, _save_result
from rarebridge.care.services.clinic_replanning import _replanning
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.engines import clinic as engine
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send


def clinic_plan(
    *,
    clinic: Clinic,
    by: Actor | User | None,
    time_limit_seconds: float = 10.0,
    gap_limit: float = 0.0,
) -> Clinic:
    """Build every invited patient's itinerary with the solver, or store why it cannot be done.

    The solver proves the best timetable when it can within ``time_limit_seconds`` (or stops
    once within ``gap_limit``, 0.02 for 2%) and otherwise reports the gap. It runs outside the
    transaction (it takes seconds); the result is written in one.
    """
    loaded = planning.load(clinic=clinic)
    model = planning.to_engine(loaded)
    try:
        schedule = engine.solve(clinic=model, options=_options(time_limit_seconds, gap_limit))
    except ValueError as exc:  # malformed set-up, not merely impossible
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        _save_result(loaded=loaded, schedule=schedule)
        audit_log(
            action="care.clinic.planned",
            actor=by,
            obj=clinic,
            payload={
                "status": clinic.status,
                "objective": clinic.objective,
                "bound": clinic.bound,
                "gap": clinic.gap,
                "rules": [e["rule"] for e in clinic.explanations],
            },
        )
        if clinic.has_timetable:
            for invitation in loaded.invitations.values():
                _event(
                    patient=invitation.patient,
                    code="care.clinic.planned",
                    by=by,
                    clinic=clinic.name,
                )
    return clinic


def clinic_plan_request(*, clinic: Clinic, by: Actor | User | None) -> Clinic:
    """Queue planning in the background (the solver takes seconds); the page shows progress."""
    if _replanning(clinic):
        raise ValidationError(
            _("The clinic is being re-planned after a change. Plan again when that is done.")
        )
    with transaction.atomic():
        clinic.planning_since = timezone.now()
        clinic.save(update_fields=["planning_since", "updated_at"])
        audit_log(action="care.clinic.plan_requested", actor=by, obj=clinic)
        since = clinic.planning_since.isoformat()
        user = user_of(by)
        by_id = user.pk if user is not None else None
        transaction.on_commit(
            lambda: plan_clinic.enqueue(clinic_id=clinic.pk, since=since, by_id=by_id)
        )
    return clinic


def clinic_plan_run(*, clinic_id: int, since: str, by_id: int | None) -> str:
    """The planning task's body: plan once per request; a newer request supersedes it."""
    clinic = Clinic.objects.filter(pk=clinic_id).select_related("site").first()
    if clinic is None or clinic.planning_since is None:
        return "nothing to do"
    if clinic.planning_since.isoformat() != since:
        return "superseded"
    by = User.objects.filter(pk=by_id).first() if by_id else None
    try:
        clinic_plan(clinic=clinic, by=by)
    except ValidationError as exc:
        # Malformed rather than impossible (no days, say): shown like the solver's reasons.
        clinic.status = Clinic.Status.DRAFT
        clinic.explanations = [
            {"rule": "setup", "people": [], "params": {}, "message": " ".join(exc.messages)}
        ]
        clinic.save(update_fields=["status", "explanations", "updated_at"])
    Clinic.objects.filter(pk=clinic_id, planning_since=clinic.planning_since).update(
        planning_since=None
    )
    return str(clinic.status)


@task()
def plan_clinic(clinic_id: int, since: str, by_id: int | None = None) -> str:
    """``clinic_plan_run`` in the background (queued by ``clinic_plan_request``)."""
    # A task has no request and no person's scope; it touches only the clinic it was given.
    with scopes_disabled():
        return clinic_plan_run(clinic_id=clinic_id, since=since, by_id=by_id)


def clinic_itineraries_send(*, clinic: Clinic, by: Actor | User | None) -> int:
    """Tell every invited family their itinerary is ready; sending the same plan again sends
    nothing new. Returns how many families were told."""
    if not clinic.has_timetable or clinic.planned_at is None:
        raise ValidationError(_("Plan the clinic first."))
    if clinic.setup_changed_since_plan:
        raise ValidationError(
            _("The set-up changed since the plan. Plan again before sending itineraries.")
        )
    _ensure_message_templates()
    told = 0
    with transaction.atomic():
        invitations = clinic.invitations.filter(
            status=ClinicInvitation.Status.INVITED
        ).select_related("patient__user")
        for invitation in invitations:
            first = invitation.visits.order_by("starts_at").first()
            if first is None:
                continue
            message_send(
                recipient=invitation.patient.user,
                template_key="care_itinerary_ready",
                context={"clinic": clinic.name, "first": first.starts_at},
                idempotency_key=f"care-itinerary-ready-{invitation.pk}-{clinic.planned_at.timestamp():.0f}",
                channels=(Channel.EMAIL, Channel.IN_APP),
            )
            ChecklistEntry.objects.update_or_create(
                patient=invitation.patient,
                kind=ChecklistEntry.Kind.TRAVEL,
                key="itinerary-sent",
                defaults={
                    "organisation_id": invitation.organisation_id,
                    "status": ChecklistEntry.Status.DONE,
                    "updated_by": user_of(by),
                },
            )
            _event(
                patient=invitation.patient, code="care.itinerary.sent", by=by, clinic=clinic.name
            )
            told += 1
        audit_log(
            action="care.clinic.itineraries_sent",
            actor=by,
            obj=clinic,
            payload={"families": told},
        )
    return told
