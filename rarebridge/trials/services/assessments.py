"""Assessments: the schedule of timepoints, answering a timepoint's instruments within its
window, and the invitations and reminders.

Answering itself (autosave, revisions, scoring) is the instruments app's; a study adds its
checks (the window is open, the participant has not stopped), the link from the assessment
to the response, the study's safety thresholds and what a complete timepoint sets off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.engines.windows import TimepointWindow, assessment_schedule, invitation_times
from rarebridge.instruments import services as instruments
from rarebridge.instruments.models import Response
from rarebridge.instruments.services import SaveResult
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send
from rarebridge.safety.services import concern_raise
from rarebridge.trials.content import study_instrument_options
from rarebridge.trials.models import (
    Assessment,
    AssessmentResponse,
    AssessmentSend,
    Participant,
    Study,
)
from rarebridge.trials.selectors import study_schedule_rules
from rarebridge.trials.services.enrolment import offer_program_after_follow_up


def timepoint_instruments(study: Study, timepoint: str) -> list[str]:
    return next(t["instruments"] for t in study.definition["timepoints"] if t["code"] == timepoint)


def schedule_assessments(
    *, participant: Participant, randomised_at: datetime, program_start=None
) -> list[Assessment]:
    """Close T0 at randomisation and create T1 and T2 with their windows (idempotent)."""
    rules = study_schedule_rules(participant.study)
    t0, t1, t2 = assessment_schedule(
        randomised_at=randomised_at,
        program_start=program_start,
        time_zone=participant.patient.user.time_zone,
        rules=rules,
    )
    Assessment.objects.filter(participant=participant, timepoint="T0").update(
        closes_at=t0.closes_at, due_at=t0.due_at
    )
    existing = {
        a.timepoint: a
        for a in Assessment.objects.filter(participant=participant, timepoint__in=["T1", "T2"])
    }
    made: list[Assessment] = []
    new: list[Assessment] = []
    for window in (t1, t2):
        assessment = existing.get(window.code) or Assessment(
            participant=participant,
            timepoint=window.code,
            organisation_id=participant.organisation_id,
            instruments=timepoint_instruments(participant.study, window.code),
        )
        assessment.opens_at = window.opens_at
        assessment.due_at = window.due_at
        assessment.closes_at = window.closes_at
        if assessment.pk is None:
            new.append(assessment)
        else:
            assessment.save(update_fields=["opens_at", "due_at", "closes_at"])
        made.append(assessment)
    Assessment.objects.bulk_create(new)
    return made


def response_for(*, assessment: Assessment, instrument: str) -> Response:
    """The participant's response to one instrument of the assessment, made on first use."""
    if instrument not in assessment.instruments:
        raise ValidationError(_("This questionnaire is not part of this assessment."))
    link = (
        AssessmentResponse.objects.filter(assessment=assessment, instrument=instrument)
        .select_related("response")
        .first()
    )
    if link is not None:
        return link.response
    participant = assessment.participant
    try:
        with transaction.atomic():
            response = Response.objects.create(
                organisation_id=assessment.organisation_id,
                subject_id=participant.patient.user_id,
                instrument=instrument,
                language=participant.language,
            )
            AssessmentResponse.objects.create(
                assessment=assessment, response=response, instrument=instrument
            )
    except IntegrityError:  # opened twice at the same moment: the other one stands
        return (
            AssessmentResponse.objects.select_related("response")
            .get(assessment=assessment, instrument=instrument)
            .response
        )
    return response


def _assessment_of(response: Response) -> Assessment:
    return (
        Assessment.objects.select_related("participant__study", "participant__patient__user")
        .filter(links__response=response)
        .get()
    )


def _check_open(assessment: Assessment) -> None:
    participant = assessment.participant
    if participant.questionnaires_stopped:
        raise ValidationError(_("You have stopped the questionnaires."), code="withdrawn")
    now = timezone.now()
    if now < assessment.opens_at or (assessment.closes_at and now >= assessment.closes_at):
        raise ValidationError(_("This questionnaire is not open."), code="closed")


def response_save(
    *,
    response: Response,
    answers: dict[str, Any],
    base_revision: int,
    by: Actor | User,
    client_id: str = "",
) -> SaveResult:
    """Autosave: store the answers as a new revision, unless someone saved in between.

    Outside the window (it closed while the person was typing, a stale tab) or after the
    questionnaires were stopped, the answers are still kept as a new revision of the draft —
    nothing typed is dropped — and the result is ``closed`` with the reason in ``errors``.
    """
    try:
        return instruments.response_save(
            response=response,
            answers=answers,
            base_revision=base_revision,
            by=by,
            guard=lambda locked: _check_open(_assessment_of(locked)),
        )
    except ValidationError as error:
        reason = error.messages[0]
    current = Response.objects.get(pk=response.pk)
    kept = instruments.response_save(
        response=current, answers=answers, base_revision=current.revision, by=by
    )
    if kept.status == "saved":
        audit_log(
            action="trials.response.kept_outside_window",
            actor=by,
            obj=current,
            payload={"revision": kept.revision},
        )
    return SaveResult("closed", kept.revision, {"__all__": reason, **kept.errors})


def assessment_is_open(assessment: Assessment, now: datetime | None = None) -> bool:
    """Whether the timepoint's window is open now (T0 has no end until randomisation)."""
    now = now or timezone.now()
    return assessment.opens_at <= now and (
        assessment.closes_at is None or now < assessment.closes_at
    )


@dataclass
class SubmitResult:
    response: Response
    crisis: bool


def response_submit(*, response: Response, by: Actor | User) -> SubmitResult:
    """Score the answers with the engine and close the response. A risk answer is told to a
    person at once: item 9 of the PHQ-9 above 0 raises a concern, whatever the total."""
    assessment = _assessment_of(response)
    participant = assessment.participant
    study = participant.study
    scoring = study.definition["scoring"]
    safety = study.definition["safety"]
    with transaction.atomic():
        submitted = instruments.response_submit(
            response=response,
            by=by,
            options=study_instrument_options(scoring),
            thresholds=safety,
            guard=lambda locked: _check_open(_assessment_of(locked)),
            audit=None,
            context=assessment.timepoint,
        )
        response = submitted.response
        assessment = _assessment_of(response)
        participant = assessment.participant
        flags = set(response.flags)
        if not submitted.newly:
            return SubmitResult(response, "risk_item_positive" in flags)
        # Item 9 above 0 has raised its concern already (the safety app's risk hook).
        crisis = response.instrument == "phq9" and "risk_item_positive" in flags
        if not crisis and "total_at_threshold" in flags:
            concern_raise(
                patient=participant.patient,
                level="medium",
                observed=_(
                    "{instrument} total {total} at {timepoint} reached the study threshold."
                ).format(
                    instrument=response.instrument.upper(),
                    total=submitted.total,
                    timepoint=assessment.timepoint,
                ),
                by=None,
                source="questionnaire",
            )
        done = set(
            assessment.responses.filter(submitted_at__isnull=False).values_list(
                "instrument", flat=True
            )
        )
        if assessment.completed_at is None and done >= set(assessment.instruments):
            assessment.completed_at = response.submitted_at
            assessment.save(update_fields=["completed_at"])
            if assessment.timepoint == "T2":
                offer_program_after_follow_up(participant=participant, by=by)
        audit_log(
            action="trials.response.submitted",
            actor=by,
            obj=response,
            payload={
                "algorithm": response.algorithm,
                "flags": response.flags,
                "on_behalf": response.on_behalf,
            },
        )
    return SubmitResult(response, crisis)


# --- invitations ---------------------------------------------------------------------------


def assessment_invitations_due(now: datetime | None = None) -> int:
    """Send due invitations and reminders for open assessments. Idempotent: each
    (assessment, number) is sent once, and a completed or withdrawn one gets nothing."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        Assessment.objects.filter(
            completed_at__isnull=True,
            opens_at__lte=now,
            closes_at__gt=now,
            participant__status=Participant.Status.RANDOMISED,
        )
        .exclude(participant__withdrawal__in=["questionnaires", "entirely"])
        .select_related("participant__study", "participant__patient__user")
    )
    for assessment in candidates:
        # The filter above guarantees both instants; T0 (open-ended) never gets here.
        assert assessment.due_at is not None and assessment.closes_at is not None
        participant = assessment.participant
        user = participant.patient.user
        rules = study_schedule_rules(participant.study)
        send_time = time.fromisoformat(
            participant.study.definition["schedule"].get("send_time", "10:00")
        )
        window = TimepointWindow(
            code=assessment.timepoint,
            # The target day is the local day that ends at ``due_at``.
            target=(assessment.due_at - timedelta(seconds=1))
            .astimezone(ZoneInfo(user.time_zone))
            .date(),
            opens_at=assessment.opens_at,
            due_at=assessment.due_at,
            closes_at=assessment.closes_at,
        )
        for send in invitation_times(
            window=window, time_zone=user.time_zone, send_time=send_time, rules=rules
        ):
            if send.at > now:
                break
            with transaction.atomic():
                _send, created = AssessmentSend.objects.get_or_create(
                    assessment=assessment, number=send.number, defaults={"sent_at": now}
                )
                if not created:
                    continue
                message_send(
                    recipient=user,
                    template_key="study_questionnaire",
                    context={
                        "name": user.display_name,
                        "study": participant.study.title,
                        "timepoint": assessment.timepoint,
                        "due": assessment.due_at,
                        "reminder": send.number > 0,
                        "path": reverse("trials_patient:home"),
                    },
                    idempotency_key=f"trials.assessment:{assessment.pk}:{send.number}",
                    channels=(Channel.EMAIL, Channel.IN_APP),
                )
                audit_log(
                    action="trials.assessment.invited",
                    obj=assessment,
                    payload={"number": send.number},
                )
                sent += 1
    return sent
