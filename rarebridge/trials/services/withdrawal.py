"""Withdrawal at one of three levels, by the participant or the site."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm
from rarebridge.counselling.services import assignment_end
from rarebridge.instruments.models import Response
from rarebridge.programs.models import Enrolment
from rarebridge.trials.models import Participant
from rarebridge.trials.selectors import participant_allowed


def participant_withdraw(
    *,
    participant: Participant,
    level: str,
    by: Actor | User,
    delete_data: bool = False,
) -> Participant:
    """Withdraw at one of three levels; each changes what happens next.

    ``program``: the enrolment ends, questionnaires go on. ``questionnaires``: no more
    invitations or answers, the program goes on. ``entirely``: both; with ``delete_data`` (where
    the consent allows it) the answers are deleted. The allocation and the consent record stay,
    as the trial must report everyone randomised and show that consent was given.
    """
    level = Participant.Withdrawal(level)
    if level == Participant.Withdrawal.NONE:
        raise ValidationError(_("Please choose what to withdraw from."))
    user = user_of(by)
    own = user is not None and participant.patient.user_id == user.pk
    if not own and (
        user is None
        or not participant_allowed(user=user, site=participant.site, perm=Perm.PARTICIPANT_SCREEN)
    ):
        raise PermissionDenied
    allows_deletion = bool(
        participant.study.definition["consent"].get("allows_deletion_on_withdrawal")
    )
    if delete_data and (level != Participant.Withdrawal.ENTIRELY or not allows_deletion):
        raise ValidationError(_("Data can be deleted only when leaving the study entirely."))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        order = [None, "", "program", "questionnaires", "entirely"]
        current = participant.withdrawal
        if {current, level} == {"program", "questionnaires"}:
            level = Participant.Withdrawal.ENTIRELY
        elif order.index(current) > order.index(level):
            level = Participant.Withdrawal(current)
        participant.withdrawal = level
        participant.withdrawn_at = timezone.now()
        if level == Participant.Withdrawal.ENTIRELY:
            participant.status = Participant.Status.WITHDRAWN
        participant.save(update_fields=["withdrawal", "withdrawn_at", "status", "updated_at"])
        if level in (Participant.Withdrawal.PROGRAM, Participant.Withdrawal.ENTIRELY):
            Enrolment.objects.filter(
                patient=participant.patient, status=Enrolment.Status.ACTIVE
            ).update(status=Enrolment.Status.WITHDRAWN)
            # No more calls: the counsellor's caseload frees up and no reminder goes out.
            assignment_end(patient=participant.patient, by=user, reason="withdrew from the program")
        deleted = 0
        if delete_data:
            # Counted as before the move: responses and their revisions, not the links.
            total, details = Response.objects.filter(assessment__participant=participant).delete()
            deleted = total - details.get("trials.AssessmentResponse", 0)
        audit_log(
            action="trials.participant.withdrawn",
            actor=by,
            obj=participant,
            payload={"level": str(level), "deleted": deleted, "by_participant": own},
        )
    return participant
