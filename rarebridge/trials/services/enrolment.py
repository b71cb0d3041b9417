"""The study's program for a participant: which version, from which local day, and the
control arm's offer once follow-up (T2) is complete."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.core.actor import user_of
from rarebridge.core.audit import audit_log
from rarebridge.programs.models import Enrolment, ProgramVersion
from rarebridge.programs.services import enrolment_start
from rarebridge.trials.models import Participant, Study


class RandomisationRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def local_today(participant: Participant):
    return timezone.now().astimezone(ZoneInfo(participant.patient.user.time_zone)).date()


def program_version(study: Study) -> ProgramVersion:
    program = study.definition.get("program", {})
    version = ProgramVersion.objects.filter(
        program__slug=program.get("slug"), version=program.get("version")
    ).first()
    if version is None:
        raise RandomisationRefused(
            "no_program", _("The study's program is not loaded; nothing was allocated.")
        )
    return version


def offer_program_after_follow_up(*, participant: Participant, by) -> None:
    """Control arm of a study that offers it: the program starts once T2 is complete."""
    allocation = getattr(participant, "allocation", None)
    if allocation is None or participant.withdrawal in ("program", "entirely"):
        return
    arm = participant.study.arm(allocation.arm)
    if arm["receives_program"] or not arm.get("program_after_t2"):
        return
    if Enrolment.objects.filter(patient=participant.patient, status="active").exists():
        return
    enrolment_start(
        patient=participant.patient,
        version=program_version(participant.study),
        start_date=local_today(participant),
        by=user_of(by),
    )
    audit_log(
        action="trials.participant.program_offered",
        actor=by,
        obj=participant,
        payload={"after": "T2"},
    )
