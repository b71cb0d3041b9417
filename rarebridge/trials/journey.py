"""A participant's way through the study, told to them: what happened, what is next, when.

Reads only; the participant's own page shows it (their selector has already checked that the
participation is theirs). Labels are translated here, dates stay aware and are shown in the
viewer's zone by the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.trials.labels import arm_label, timepoint_label
from rarebridge.trials.models import Participant


@dataclass(frozen=True)
class Step:
    label: str
    at: datetime | None
    done: bool
    kind: str = ""  # "" (happened, or no date yet), "due" (answer by), "opens", "around"


@dataclass(frozen=True)
class Journey:
    steps: list[Step]
    next_step: Step | None
    arm_code: str
    arm_title: str
    receives_program: bool
    program_after_t2: bool
    next_assessment: object | None
    t2_due: datetime | None


def participant_journey(*, participant: Participant) -> Journey:
    study = participant.study
    steps: list[Step] = [Step(_("You joined the study"), participant.created_at, True)]
    consent = (
        participant.consents.filter(superseded_at__isnull=True).select_related("version").first()
    )
    if consent is None:
        steps.append(Step(_("You consent to take part"), None, False))
    else:
        steps.append(Step(_("You consented to take part"), consent.signed_at, True))
        if consent.version.countersignature_required:
            if consent.countersigned_at:
                steps.append(
                    Step(_("The study team confirmed your consent"), consent.countersigned_at, True)
                )
            else:
                steps.append(Step(_("The study team confirms your consent"), None, False))
    allocation = getattr(participant, "allocation", None)
    arm = study.arm(allocation.arm) if allocation else {}
    assessments = list(participant.assessments.order_by("opens_at"))
    t0 = next((a for a in assessments if a.timepoint == "T0"), None)
    if t0 is not None:
        steps.append(_assessment_step(t0))
    if allocation is None:
        steps.append(Step(_("Your group is drawn (randomisation)"), None, False))
    else:
        steps.append(
            Step(
                _("Your group was drawn: %(arm)s") % {"arm": arm_label(study, allocation.arm)},
                allocation.randomised_at,
                True,
            )
        )
    for assessment in assessments:
        if assessment.timepoint != "T0":
            steps.append(_assessment_step(assessment))
    t2 = next((a for a in assessments if a.timepoint == "T2"), None)
    if arm and not arm["receives_program"] and arm.get("program_after_t2"):
        steps.append(
            Step(
                _("The peer support program opens to you, after the follow-up questionnaires"),
                t2.due_at if t2 else None,
                False,
                kind="around",
            )
        )
    next_assessment = next(
        (a for a in assessments if a.completed_at is None and a.due_at is not None), None
    )
    return Journey(
        steps=steps,
        next_step=next((s for s in steps if not s.done), None),
        arm_code=allocation.arm if allocation else "",
        arm_title=arm_label(study, allocation.arm) if allocation else "",
        receives_program=bool(arm.get("receives_program")),
        program_after_t2=bool(arm.get("program_after_t2")),
        next_assessment=next_assessment,
        t2_due=t2.due_at if t2 else None,
    )


def _assessment_step(assessment) -> Step:
    name = timepoint_label(assessment.timepoint)
    if assessment.completed_at:
        return Step(
            _("You answered the questionnaires: %(name)s") % {"name": name},
            assessment.completed_at,
            True,
        )
    label = _("Questionnaires: %(name)s") % {"name": name}
    if assessment.opens_at and assessment.opens_at > timezone.now():
        return Step(label, assessment.opens_at, False, kind="opens")
    return Step(label, assessment.due_at, False, kind="due" if assessment.due_at else "")
