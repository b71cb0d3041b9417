"""Risk answers in questionnaires reach a person, whoever gave them and wherever.

The instruments app cannot import safety (it sits below it), so the safety app registers
:func:`risk_response_alert` as the instruments' risk hook when it is ready
(``SafetyConfig.ready``): every path that submits a response — a study's timepoint, routine
care, a coordinator's data entry — calls it from ``instruments.services.response_submit``.
A risk answer that was autosaved but never sent raises the same alert after
``settings.SAFETY_UNSUBMITTED_RISK_GRACE_MINUTES`` (:func:`unsubmitted_risk_alerts_due`, a
periodic job). Either way a response raises one concern at most.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile
from rarebridge.instruments.models import Response
from rarebridge.instruments.services import RISK_ITEMS, risk_answer
from rarebridge.safety.services.alerts import concern_raise

logger = logging.getLogger(__name__)


def risk_response_alert(response: Response, context: str = "") -> bool:
    """Raise a high concern for the risk answer in ``response`` unless one was raised for it.
    Returns whether a concern was raised now."""
    with transaction.atomic():
        locked = Response.objects.select_for_update().get(pk=response.pk)
        if locked.risk_alerted_at is not None or not risk_answer(locked.instrument, locked.answers):
            return False
        patient = PatientProfile.objects.filter(user_id=locked.subject_id).first()
        if patient is None:  # not a patient (a member of staff's survey): nobody to protect
            logger.warning("Risk answer in response %s of a non-patient", locked.pk)
            return False
        item = RISK_ITEMS[locked.instrument]
        value = locked.answers.get(item)
        if locked.submitted_at is None:
            observed = _(
                "PHQ-9 item 9 answered above 0 (answer {value}) but not sent in{where}."
            ).format(value=value, where=f" ({context})" if context else "")
        elif context:
            observed = _("PHQ-9 item 9 answered above 0 at {timepoint} (answer {value}).").format(
                timepoint=context, value=value
            )
        else:
            observed = _("PHQ-9 item 9 answered above 0 (answer {value}).").format(value=value)
        concern_raise(
            patient=patient, level="high", observed=observed, by=None, source="questionnaire"
        )
        locked.risk_alerted_at = timezone.now()
        locked.save(update_fields=["risk_alerted_at"])
        response.risk_alerted_at = locked.risk_alerted_at
    return True


def unsubmitted_risk_alerts_due(now: datetime | None = None) -> int:
    """Alert on risk answers autosaved but not sent within the grace period (idempotent)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SAFETY_UNSUBMITTED_RISK_GRACE_MINUTES)
    candidates = Response.objects.filter(
        instrument__in=list(RISK_ITEMS),
        submitted_at__isnull=True,
        risk_alerted_at__isnull=True,
        updated_at__lte=cutoff,
    )
    raised = 0
    for response in candidates.iterator():
        if risk_answer(response.instrument, response.answers):
            raised += int(risk_response_alert(response))
    return raised
